const crypto = require('../../lib/crypto')
const m = require('../../lib/messages')
const { parseAmount } = require('../../lib/money')

// Builds the events of one author's log, one event per block, the way a peer would; for tests
// that apply them by hand or append them as a (possibly lying) author. Each returns
// { evt, index, offset } where the event stands in the author's log.
class Author {
  constructor(keyPair = crypto.keyPair()) {
    this.keyPair = keyPair
    this.publicKey = keyPair.publicKey
    this.index = 0
  }

  event(type, payload) {
    return { evt: { type, payload }, index: this.index++, offset: 0 }
  }

  // at.id is the id the auction gets from its place in the log
  open(item = 'Pic#1', price = '75', opts = {}) {
    const at = this.event(m.EVENT_OPENED, {
      item,
      startPrice: parseAmount(price),
      currency: 'USDt',
      endsAt: opts.endsAt || 0,
      createdAt: opts.createdAt || Date.now(),
      terms: { ...m.NO_TERMS, ...opts.terms }
    })
    at.id = crypto.auctionId(this.publicKey, at.index, 0)
    return at
  }

  bid(auction, amount, opts = {}) {
    return crypto.signBid(
      {
        auction,
        bidder: this.publicKey,
        amount: parseAmount(amount),
        nonce: crypto.randomNonce(),
        createdAt: opts.createdAt || Date.now()
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

  cancel(auction) {
    return this.event(m.EVENT_CANCELLED, { auction, cancelledAt: Date.now() })
  }

  refuse(auction, bidder) {
    return this.event(m.EVENT_REFUSED, { auction, bidder, refusedAt: Date.now() })
  }

  // The block bytes of these events, as they would stand in the log
  static block(...ats) {
    return m.encode(
      m.block,
      ats.map((at) => at.evt)
    )
  }
}

module.exports = { Author }
