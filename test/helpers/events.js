const signing = require('../../lib/signing')
const m = require('../../lib/messages')
const { parseAmount } = require('../../lib/money')

// Builds signed events the way a peer would, for tests that act as a (possibly lying) peer
class Author {
  constructor(keyPair = signing.keyPair()) {
    this.keyPair = keyPair
    this.publicKey = keyPair.publicKey
    this.seq = 0
  }

  event(type, payload, opts = {}) {
    const seq = opts.seq !== undefined ? opts.seq : this.seq++
    const evt = signing.signEvent({ type, author: this.publicKey, seq, payload }, this.keyPair)
    return { evt, buf: m.encode(m.event, evt) }
  }

  open(item = 'Pic#1', price = '75', opts = {}) {
    const seq = this.seq
    const createdAt = opts.createdAt || Date.now()
    return this.event(m.EVENT_OPENED, {
      id: signing.auctionId(this.publicKey, seq),
      item,
      startPrice: parseAmount(price),
      currency: 'USDt',
      endsAt: opts.endsAt || 0,
      createdAt
    })
  }

  bid(auction, amount) {
    return signing.signBid(
      {
        auction,
        bidder: this.publicKey,
        amount: parseAmount(amount),
        nonce: signing.randomNonce(),
        createdAt: Date.now()
      },
      this.keyPair
    )
  }

  accept(bid, position, acceptedAt = Date.now()) {
    return this.event(m.EVENT_BID_ACCEPTED, { bid, position, acceptedAt })
  }

  close(auction, winningBid, bidCount) {
    return this.event(m.EVENT_CLOSED, { auction, winningBid, bidCount, closedAt: Date.now() })
  }
}

module.exports = { Author }
