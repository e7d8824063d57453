const b4a = require('b4a')
const AuctionError = require('./errors')
const m = require('./messages')
const rules = require('./rules')
const { verifyBid } = require('./crypto')

// The seller's side: the single judge and sequencer of its own auctions. Each event is checked
// against the latest state, including events still on their way into the log, then queued in
// the own log; the view is written and the answer given only once the append has resolved.
class Sequencer {
  constructor(opts) {
    this.log = opts.log
    this.view = opts.view
    this.publicKey = opts.publicKey
    // onappended(evt, idHex, current, next, place) stages the view rows and notifies
    this.onappended = opts.onappended
    // Own auctions with events queued but not yet appended, newest state first
    this._inflight = new Map()
  }

  // The latest state of an own auction; after the await nothing runs before the caller's check
  async load(idHex) {
    const inflight = this._inflight.get(idHex)
    if (inflight) return inflight
    const view = await this.view.getAuction(idHex)
    return this._inflight.get(idHex) || view
  }

  async open(payload) {
    const { next } = await this._append({ type: m.EVENT_OPENED, payload }, null)
    return next.view
  }

  async bid(bid, remote) {
    if (!b4a.equals(bid.bidder, remote)) {
      throw AuctionError.BIDDER_MISMATCH('A bid must be sent by its own bidder')
    }
    if (!verifyBid(bid)) throw AuctionError.INVALID_SIGNATURE('Bid signature is invalid')

    const idHex = b4a.toString(bid.auction, 'hex')
    const current = await this.load(idHex)
    if (current === null || !b4a.equals(current.seller, this.publicKey)) {
      throw AuctionError.AUCTION_NOT_FOUND('This peer sells no such auction')
    }

    const evt = {
      type: m.EVENT_BID_ACCEPTED,
      payload: { bid, position: current.bidCount, acceptedAt: Date.now() }
    }
    let appended
    try {
      appended = this._append(evt, current)
    } catch (err) {
      // A retry of a bid that was accepted gets its acceptance again
      const earlier = await this.view.getBidByNonce(idHex, bid.nonce)
      if (earlier !== null && b4a.equals(earlier.bid.signature, bid.signature)) return earlier
      throw err
    }
    const { next } = await appended
    return next.bid
  }

  async close(idHex) {
    const current = await this.load(idHex)
    if (current === null) throw AuctionError.AUCTION_NOT_FOUND(`No auction ${idHex}`)
    if (!b4a.equals(current.seller, this.publicKey)) {
      throw AuctionError.NOT_SELLER('Only the seller can close an auction')
    }
    if (current.closed) throw AuctionError.AUCTION_CLOSED('Auction is already closed')
    const evt = {
      type: m.EVENT_CLOSED,
      payload: {
        auction: current.id,
        winningBid: rules.winningBid(current),
        bidCount: current.bidCount,
        closedAt: Date.now()
      }
    }
    const { next } = await this._append(evt, current)
    return next.view
  }

  // Synchronous up to the queueing, so two events never judge against the same state.
  // Returns a promise of { next, place } that resolves once the block is appended.
  _append(evt, current) {
    const place = this.log.place(evt)
    const next = rules.applyEvent(current, evt, this.publicKey, place.index, place.offset)
    const { appended } = this.log.queue(evt)
    const idHex = b4a.toString(next.view.id, 'hex')
    this._inflight.set(idHex, next.view)
    return appended.then(
      () => {
        if (this._inflight.get(idHex) === next.view) this._inflight.delete(idHex)
        this.onappended(evt, idHex, current, next, place)
        return { next, place }
      },
      (err) => {
        if (this._inflight.get(idHex) === next.view) this._inflight.delete(idHex)
        throw err
      }
    )
  }
}

module.exports = Sequencer
