const b4a = require('b4a')
const AuctionError = require('./errors')
const m = require('./messages')
const rules = require('./rules')
const { verifyBid } = require('./crypto')
const { MAX_OPEN_AUCTIONS, MAX_BLOCKED } = require('./constants')

// The seller's side: the single judge and sequencer of its own auctions. Each event is checked
// against the latest state, including events still on their way into the log, then queued in
// the own log; the view is written and the answer given only once the append has resolved.
class Sequencer {
  constructor(opts) {
    this.log = opts.log
    this.view = opts.view
    this.publicKey = opts.publicKey
    // onappended(evt, idHex, current, next, place) stages the view rows and notifies (for a
    // block list entry, which touches no auction: onappended(evt, null, null, null, place))
    this.onappended = opts.onappended
    // Open own auctions as the latest queued event left them: the state bids are judged on
    this._state = new Map()
    // Appends queued and not yet written to the view
    this._inflight = new Set()
    // Own auctions open, queued ones included
    this.openAuctions = opts.openAuctions || 0
    // Events after a sale, one at a time per auction
    this._sales = new Map()
    // The nonces (hex) of the bids on each open own auction in memory, written or queued, with
    // their positions; and the signatures of the bids queued and not yet in the view, by auction
    // and nonce
    this._seen = new Map()
    this._nonces = new Map()
    // The own block list (bidders' keys, hex), queued entries included
    this.blocked = new Set()
  }

  async loadBlocked() {
    this.blocked = new Set(await this.view.listBlocked(b4a.toString(this.publicKey, 'hex')))
  }

  // Loads an auction into memory. Callers read state(idHex) right after: an await lets other
  // events be judged meanwhile, so a value carried across it may be stale.
  async load(idHex) {
    if (this._state.has(idHex)) return
    const view = await this.view.getAuction(idHex)
    if (view === null || this._state.has(idHex)) return
    if (!b4a.equals(view.seller, this.publicKey) || view.closed) return
    // The nonces its bids used, read once: later bids are checked against them in memory
    const nonces = await this.view.listNonces(idHex)
    if (this._state.has(idHex)) return
    this._seen.set(idHex, nonces)
    this._state.set(idHex, view)
  }

  // Forgets what it holds in memory: the view changed under it (a recovered tail was applied)
  forget() {
    this._state.clear()
    this._seen.clear()
  }

  // The latest state of an open own auction, events still on their way into the log included
  state(idHex) {
    return this._state.get(idHex) || null
  }

  // Throws unless one more own auction may open
  roomToOpen() {
    if (this.openAuctions >= MAX_OPEN_AUCTIONS) {
      throw AuctionError.TOO_MANY_AUCTIONS(
        `${MAX_OPEN_AUCTIONS} auctions of this peer are open: close some first`
      )
    }
  }

  async open(payload) {
    this.roomToOpen()
    const { next } = await this._append({ type: m.EVENT_OPENED, payload }, null)
    return next.view
  }

  // The bidder, on the connection mux, holds the block with its bid when the answer comes: the
  // block is pushed ahead of it, if the bidder takes pushes
  async bid(bid, remote, mux = null) {
    // Counted from its arrival until it is queued (judging: an append waits a moment for such
    // bids), and from then until it is answered (in hand: under load an append waits for no
    // more bids than were in hand at once lately). OwnLog's group commit.
    this.log.judging++
    let judging = true
    let held = false
    const judged = () => {
      if (judging) this.log.judging--
      judging = false
    }
    const hold = () => {
      this.log.hold()
      held = true
    }
    try {
      const row = await this._bid(bid, remote, judged, hold)
      await this.log.push(row.index, mux)
      return row
    } finally {
      judged()
      if (held) this.log.release()
    }
  }

  async _bid(bid, remote, judged, hold) {
    if (!b4a.equals(bid.bidder, remote)) {
      throw AuctionError.BIDDER_MISMATCH('A bid must be sent by its own bidder')
    }
    if (this.blocked.has(b4a.toString(bid.bidder, 'hex'))) throw AuctionError.BIDDER_BLOCKED()
    if (!verifyBid(bid)) throw AuctionError.INVALID_SIGNATURE('Bid signature is invalid')

    const idHex = b4a.toString(bid.auction, 'hex')
    await this.load(idHex)
    // The bids row this bid goes into, read now so that writing it later needs no read
    if (this.state(idHex) !== null) await this.view.loadBids(idHex, this.state(idHex).bidCount)
    const current = this.state(idHex)
    if (current === null) {
      const view = await this.view.getAuction(idHex)
      if (view !== null && b4a.equals(view.seller, this.publicKey)) {
        throw AuctionError.AUCTION_CLOSED()
      }
      throw AuctionError.AUCTION_NOT_FOUND('This peer sells no such auction')
    }

    const acceptedAt = Date.now()
    const evt = {
      type: m.EVENT_BID_ACCEPTED,
      payload: { bid, position: current.bidCount, acceptedAt }
    }
    // A nonce names one bid: one seen before is a retry of that bid, or another bid
    const nonceHex = b4a.toString(bid.nonce, 'hex')
    const nonce = idHex + '/' + nonceHex
    let seen = this._seen.get(idHex)
    if (seen === undefined) {
      // Opened here in this run: every bid on it came through here
      seen = new Map()
      this._seen.set(idHex, seen)
    }
    if (seen.has(nonceHex)) {
      judged()
      return this._again(idHex, bid, nonce, seen.get(nonceHex))
    }
    // Again after the reads above: a block queued meanwhile comes before this bid in the log
    if (this.blocked.has(b4a.toString(bid.bidder, 'hex'))) throw AuctionError.BIDDER_BLOCKED()
    let appended
    try {
      appended = this._append(evt, current)
      hold()
      seen.set(nonceHex, evt.payload.position)
      this._nonces.set(nonce, bid.signature)
      appended.then(
        () => this._nonces.delete(nonce),
        () => this._nonces.delete(nonce)
      )
    } catch (err) {
      judged()
      throw err
    }
    // A bid at the buy-now price ends the auction: the close goes right behind it, before any
    // other event is judged
    const after = this.state(idHex)
    if (after.terms.buyNow !== 0n && bid.amount === after.terms.buyNow) {
      this._append(closeEvent(after, acceptedAt), after).catch(noop)
    }
    judged()
    const { next } = await appended
    return next.bid
  }

  // A bid with a nonce seen on its auction (the bid at position): a retry of an accepted bid gets
  // its acceptance again, one still on its way into the log BID_TOO_LOW (as a bid no higher than
  // itself), any other bid NONCE_REUSED
  async _again(idHex, bid, nonce, position) {
    const queued = this._nonces.get(nonce)
    if (queued !== undefined && b4a.equals(queued, bid.signature)) {
      throw AuctionError.BID_TOO_LOW('This bid is on its way into the log already')
    }
    const earlier = this._nonces.has(nonce) ? null : await this.view.getBid(idHex, position)
    if (earlier !== null && b4a.equals(earlier.bid.signature, bid.signature)) return earlier
    throw AuctionError.NONCE_REUSED(
      earlier === null
        ? 'A bid with this nonce is on its way into the log: sign a new bid'
        : `Bid ${earlier.position + 1} on this auction has this nonce: sign a new bid`
    )
  }

  async close(idHex) {
    const current = await this._own(idHex)
    const { next } = await this._append(closeEvent(current, Date.now()), current)
    return next.view
  }

  async cancel(idHex) {
    const current = await this._own(idHex)
    const evt = {
      type: m.EVENT_CANCELLED,
      payload: { auction: current.id, cancelledAt: Date.now() }
    }
    const { next } = await this._append(evt, current)
    return next.view
  }

  // The bid that leads after a refusal is read from the view, where every earlier bid must be:
  // so events still on their way into the log are waited for first, and the judgement runs
  // again if anything changed meanwhile
  async refuse(idHex, bidder) {
    for (;;) {
      const current = await this._own(idHex)
      const evt = {
        type: m.EVENT_REFUSED,
        payload: { auction: current.id, bidder, refusedAt: Date.now() }
      }
      const ctx = {}
      if (rules.needsLeader(current, evt)) {
        while (this._inflight.size > 0) await Promise.allSettled([...this._inflight])
        if (this.state(idHex) !== current) continue
        const refused = [...current.refused, bidder]
        const row = await this.view.latestBid(idHex, current.bidCount, (r) =>
          refused.every((key) => !b4a.equals(key, r.bid.bidder))
        )
        if (this.state(idHex) !== current) continue
        ctx.leader = row === null ? null : rules.leaderOf(row)
      }
      const { next } = await this._append(evt, current, ctx)
      return next.view
    }
  }

  // Puts bidder on the own block list (blocked true) or takes it off. Resolves once the entry is
  // in the log; false if the list already said so.
  async block(bidder, blocked) {
    if (b4a.equals(bidder, this.publicKey)) {
      throw AuctionError.OWN_AUCTION('A seller cannot block itself')
    }
    const hex = b4a.toString(bidder, 'hex')
    if (this.blocked.has(hex) === blocked) return false
    if (blocked && this.blocked.size >= MAX_BLOCKED) {
      throw AuctionError.TOO_MANY_BLOCKED(
        `A seller blocks at most ${MAX_BLOCKED} bidders: unblock some first`
      )
    }
    const evt = { type: m.EVENT_BLOCKED, payload: { bidder, blocked, blockedAt: Date.now() } }
    const place = this.log.place(evt)
    const { appended } = this.log.queue(evt)
    if (blocked) this.blocked.add(hex)
    else this.blocked.delete(hex)
    try {
      await appended
    } catch (err) {
      // Never written (the log has failed in any case): the list is what the log holds
      await this.loadBlocked().catch(noop)
      throw err
    }
    this.onappended(evt, null, null, null, place)
    return true
  }

  // The block list entry, then (blocking) a refusal on every open own auction the bidder bid on
  async blockEverywhere(bidder, blocked) {
    const changed = await this.block(bidder, blocked)
    const { refused, failed } = blocked ? await this.refuseEverywhere(bidder) : none()
    return { bidder: b4a.toString(bidder, 'hex'), blocked, changed, refused, failed }
  }

  // Refuses bidder on every open own auction it bid on, so that its bids there no longer count.
  // Returns { refused, failed }: those auctions' ids, and { id, code } of each refusal that
  // failed (an auction that refuses as many bidders as it may), the others refused all the same.
  async refuseEverywhere(bidder) {
    const refused = []
    const failed = []
    let after = null
    do {
      const page = await this.view.listAuctions({ after, limit: 256 })
      for (const view of page.auctions) {
        if (view.closed || !b4a.equals(view.seller, this.publicKey)) continue
        if (rules.isRefused(view, bidder)) continue
        const idHex = b4a.toString(view.id, 'hex')
        const row = await this.view.latestBid(idHex, view.bidCount, (r) =>
          b4a.equals(r.bid.bidder, bidder)
        )
        if (row === null) continue
        try {
          await this.refuse(idHex, bidder)
          refused.push(idHex)
        } catch (err) {
          // Closed or refused meanwhile: nothing to do there
          if (err.code === 'AUCTION_CLOSED' || err.code === 'BIDDER_REFUSED') continue
          if (!(err instanceof AuctionError) || this.log.failed !== null) throw err
          failed.push({ id: idHex, code: err.code })
        }
      }
      after = page.cursor
    } while (after !== null)
    return { refused, failed }
  }

  // A payment the seller's node verified on its own endpoint
  settle(idHex, payment) {
    return this._afterSale(idHex, (view) => {
      const buyer = rules.owing(view)
      return {
        type: m.EVENT_SETTLED,
        payload: {
          ...payment,
          claim: payment.claim || null,
          auction: view.id,
          amount: buyer.amount,
          settledAt: Date.now()
        }
      }
    })
  }

  // The buyer's time ran out
  lapse(idHex) {
    return this._afterSale(idHex, (view) => {
      const buyer = rules.owing(view)
      if (Date.now() < view.dueAt) throw AuctionError.INVALID_ARGUMENT('The buyer may still pay')
      return {
        type: m.EVENT_LAPSED,
        payload: { auction: view.id, buyer: buyer.bidder, lapsedAt: Date.now() }
      }
    })
  }

  // The item to the highest bid left by a bidder not refused and not lapsed, at or above the
  // reserve, at that bid
  offer(idHex) {
    return this._afterSale(idHex, async (view) => {
      if (view.settlement === null) throw AuctionError.NO_SETTLEMENT()
      if (view.buyer !== null) {
        throw AuctionError.INVALID_ARGUMENT('The buyer may still pay: a second chance comes after')
      }
      // Nor to the bidder of an offer that ran out
      const out = [...view.refused, ...view.lapsed]
      if (view.offer !== null) out.push(view.offer.bid.bidder)
      const row = await this.view.latestBid(
        idHex,
        view.bidCount,
        (r) => r.bid.amount >= view.terms.reserve && out.every((k) => !b4a.equals(k, r.bid.bidder))
      )
      if (row === null) throw AuctionError.NO_OFFER('No other bidder is left to offer the item to')
      return {
        type: m.EVENT_OFFERED,
        payload: {
          auction: view.id,
          position: row.position,
          bid: row.bid,
          expiresAt: Date.now() + view.settlement.payWithin,
          offeredAt: Date.now()
        }
      }
    })
  }

  acceptOffer(idHex, bidder, signature) {
    return this._afterSale(idHex, (view) => ({
      type: m.EVENT_OFFER_ACCEPTED,
      payload: { auction: view.id, bidder, signature, acceptedAt: Date.now() }
    }))
  }

  // Judged against the view, where the previous event of the auction is written before the
  // next is judged. Resolves with the auction after it and the index of the block it went in.
  _afterSale(idHex, build) {
    const previous = this._sales.get(idHex) || Promise.resolve()
    const run = previous.catch(noop).then(async () => {
      const view = await this.view.getAuction(idHex)
      if (view === null) throw AuctionError.AUCTION_NOT_FOUND(`No auction ${idHex}`)
      if (!b4a.equals(view.seller, this.publicKey)) {
        throw AuctionError.NOT_SELLER('Only the seller can do this')
      }
      const evt = await build(view)
      const { next, place } = await this._append(evt, view)
      return { view: next.view, index: place.index }
    })
    this._sales.set(idHex, run)
    run
      .finally(() => {
        if (this._sales.get(idHex) === run) this._sales.delete(idHex)
      })
      .catch(noop)
    return run
  }

  // An open auction this peer sells, as the latest queued event left it
  async _own(idHex) {
    await this.load(idHex)
    const current = this.state(idHex)
    if (current !== null) return current
    const view = await this.view.getAuction(idHex)
    if (view === null) throw AuctionError.AUCTION_NOT_FOUND(`No auction ${idHex}`)
    if (!b4a.equals(view.seller, this.publicKey)) {
      throw AuctionError.NOT_SELLER('Only the seller can do this')
    }
    throw AuctionError.AUCTION_CLOSED('Auction is already closed')
  }

  // Synchronous up to the queueing, so two events never judge against the same state.
  // Returns a promise of { next, place } that resolves once the block is appended.
  _append(evt, current, ctx) {
    const place = this.log.place(evt)
    const next = rules.applyEvent(current, evt, this.publicKey, place.index, place.offset, ctx)
    const { appended } = this.log.queue(evt)
    this.openAuctions += openDelta(evt)
    const idHex = b4a.toString(next.view.id, 'hex')
    this._state.set(idHex, next.view)
    const done = appended.then(() => {
      this._inflight.delete(done)
      this.onappended(evt, idHex, current, next, place)
      // A closed auction is judged from the view from here on, where it now stands closed
      if (next.view.closed && this._state.get(idHex) === next.view) {
        this._state.delete(idHex)
        this._seen.delete(idHex)
      }
      return { next, place }
    })
    this._inflight.add(done)
    done.catch(() => {
      this._inflight.delete(done)
      // Never written: later events are judged without it (the log has failed in any case)
      if (this._state.get(idHex) === next.view) {
        if (current !== null && !current.closed) this._state.set(idHex, current)
        else this._state.delete(idHex)
      }
    })
    return done
  }
}

// How an event changes the count of its author's open auctions
function openDelta(evt) {
  if (evt.type === m.EVENT_OPENED) return 1
  return evt.type === m.EVENT_CLOSED || evt.type === m.EVENT_CANCELLED ? -1 : 0
}

function closeEvent(current, closedAt) {
  return {
    type: m.EVENT_CLOSED,
    payload: {
      auction: current.id,
      winningBid: rules.winningBid(current),
      bidCount: current.bidCount,
      closedAt
    }
  }
}

function none() {
  return { refused: [], failed: [] }
}

function noop() {}

Sequencer.openDelta = openDelta

module.exports = Sequencer
