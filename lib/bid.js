const b4a = require('b4a')
const AuctionError = require('./errors')
const m = require('./messages')
const rules = require('./rules')
const crypto = require('./crypto')
const { formatAmount } = require('./money')
const { METHODS } = require('./rpc')
const { BID_TIMEOUT } = require('./constants')

// A bid whose connection was lost before the answer is sent again on a new one, after 100 ms,
// then twice as long each time up to a second, while its time lasts
const BID_RETRY_WAIT = 100
const MAX_BID_RETRY_WAIT = 1000
// A bid is sent again only with at least this long left of its time
const MIN_BID_TIME = 500

// The bidder's side of a bid: sends the signed bid to its seller, and holds the seller's signed
// block with it before the bid counts
class Bidder {
  constructor(opts) {
    this.net = opts.net
    this.keyPair = opts.keyPair
    this.id = opts.id
    // Told of each auction this peer bids on
    this.applier = opts.applier
    this.logs = opts.logs
    this.view = opts.view
    this.emitter = opts.emitter
    this.isClosing = opts.isClosing
    this.timeout = opts.timeout || BID_TIMEOUT
  }

  // Bids amount (micro-units) on the auction view; resolves with what placeBid() returns
  async place(view, amount) {
    const bid = this._sign(view, amount)
    if (this.logs.disputed.has(b4a.toString(view.seller, 'hex'))) {
      throw AuctionError.DISPUTED('This seller signed two histories; bidding is stopped')
    }
    this.logs.expectPush(view.seller)
    const reply = await this.send(view.seller, bid)
    const idHex = b4a.toString(view.id, 'hex')
    this.applier.involved(idHex, view)
    const confirmed = await this.confirm(view.seller, idHex, bid, reply)
    return {
      auction: idHex,
      bidder: this.id,
      amount: formatAmount(amount),
      position: reply.position + 1,
      acceptedAt: reply.acceptedAt,
      confirmed
    }
  }

  // The bid of amount (micro-units) on the auction view, signed now. What this peer holds of the
  // seller's log is a prefix of the seller's, so a bid it finds too low or closed the seller
  // would refuse too. Time is left to the seller's clock.
  _sign(view, amount) {
    const bid = crypto.signBid(
      {
        auction: view.id,
        bidder: this.keyPair.publicKey,
        amount,
        nonce: crypto.randomNonce(),
        createdAt: Date.now()
      },
      this.keyPair
    )
    rules.checkBid(view, bid, bid.createdAt)
    return bid
  }

  // A connection lost before the answer is tried again, backing off, for as long as a bid may
  // take: the same signed bid, so the seller accepts it once at most (a retry of an accepted
  // bid gets that acceptance). A seller meeting a burst of new peers sheds arrivals at random
  // until they are a couple of seconds old, the bidder's among them. Resolves with the seller's
  // reply { index, offset, position, acceptedAt }.
  async send(seller, bid) {
    const started = Date.now()
    for (let attempt = 0, lost = null; ; attempt++) {
      // Each send gets the time left of the bid's, and none is sent with too little left
      const left = this.timeout - (Date.now() - started)
      if (lost !== null && (left < MIN_BID_TIME || this.isClosing())) throw sellerUnreachable(lost)
      try {
        const res = await this.net.request(seller, METHODS.bid, m.encode(m.bid, bid), {
          timeout: left
        })
        return m.decode(m.bidReply, res, 'bid reply')
      } catch (err) {
        if (err.code === 'REQUEST_TIMEOUT') throw sellerUnreachable(err)
        if (err.code !== 'PEER_UNREACHABLE') throw err
        // The connection went away under the request: the next one is a new connection
        lost = err
        const wait = Math.min(BID_RETRY_WAIT * 2 ** attempt, MAX_BID_RETRY_WAIT)
        const after = this.timeout - (Date.now() + wait - started)
        if (after < MIN_BID_TIME || this.isClosing()) throw sellerUnreachable(err)
        this.net.disconnect(b4a.toString(seller, 'hex'))
        await new Promise((resolve) => setTimeout(resolve, wait))
      }
    }
  }

  // A bid counts once this peer holds the seller's signed block with it: a seller that later
  // loses its tail takes it back from here. True once held; false if the block has not arrived
  // within bidTimeout; DISPUTED if the seller's signed log holds something else there.
  async confirm(seller, idHex, bid, reply) {
    if (!(await this.logs.waitFor(seller, reply.index, this.timeout))) {
      this.emitter.emit(
        'warning',
        AuctionError.SELLER_UNREACHABLE(
          `The seller's block ${reply.index} with the accepted bid has not arrived yet`
        )
      )
      return false
    }
    const row = await this.view.getBid(idHex, reply.position)
    if (row === null || !b4a.equals(row.bid.signature, bid.signature)) {
      throw AuctionError.DISPUTED(
        `The seller acknowledged this bid at ${reply.index}/${reply.offset}, but its signed log holds something else there`
      )
    }
    return true
  }
}

function sellerUnreachable(cause) {
  const err = AuctionError.SELLER_UNREACHABLE(
    'The seller’s peer could not be reached; try again when it is online'
  )
  err.cause = cause
  return err
}

module.exports = Bidder
