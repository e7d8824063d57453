const b4a = require('b4a')
const AuctionError = require('./errors')
const EndTimers = require('./timers')
const Sequencer = require('./sequencer')
const m = require('./messages')
const rules = require('./rules')
const { formatAmount } = require('./money')
const { MAX_OPEN_AUCTIONS } = require('./constants')

// How long before its end an auction this peer takes part in is "ending soon"
const ENDING_SOON = 60 * 1000
// Auctions watched for that at once
const MAX_ENDING_SOON = 4096
// An event this much older than the moment it is applied here is history this peer catches up
// on (a fresh peer, one back from offline), not news: its listeners hear it marked catchUp.
// News reaches every peer of a thousand in 5 s (p99); clocks are trusted to agree within this.
const CATCH_UP_AGE = 10 * 1000
// The field of each event's payload that says when its author signed it
const EVENT_TIMES = [
  'createdAt',
  'acceptedAt',
  'closedAt',
  'cancelledAt',
  'refusedAt',
  'settledAt',
  'lapsedAt',
  'offeredAt',
  'blockedAt'
]

// Applies blocks of logs, the own and the remote ones, to the view, and tells the peer's
// listeners what happened. The seller's timers (auction ends, payment dues) follow the own log.
class Applier {
  constructor(opts) {
    this.view = opts.view
    this.publicKey = opts.publicKey
    this.id = opts.id
    // emitter: the peer, whose listeners hear of every applied event
    this.emitter = opts.emitter
    this.describe = opts.describe
    // The own timed auctions' ends, where closeAuction(idHex) closes the auction, and the own
    // sales' payment dues
    this.sequencer = opts.sequencer
    this.closeAuction = opts.closeAuction
    this.timers = new EndTimers((idHex) => this._onend(idHex))
    this.dues = opts.dues
    this.isClosing = opts.isClosing
    // Auctions this peer sells or bid on, until they are about to end
    this.endingSoon = new EndTimers((idHex) => {
      this._onendingsoon(idHex).catch((err) => this.emitter.emit('warning', err))
    })
    this.endingSoonLead = opts.endingSoon || ENDING_SOON
    // The same auctions, each with the end it was last told of (0: none yet): told once per end,
    // and again when a late bid moves it
    this._soon = new Map()
  }

  // The timers of the view: own auctions' ends, and the auctions this peer takes part in
  async load() {
    for (const { id, endsAt } of await this.view.listTimers()) {
      this.timers.arm(id, endsAt)
      this._watch(id, { endsAt, closed: false })
    }
  }

  close() {
    this.timers.close()
    this.endingSoon.close()
  }

  _onend(idHex) {
    if (this.isClosing()) return
    // A late bid on its way into the log moved the end: the timer is armed again when it lands
    const state = this.sequencer.state(idHex)
    if (state !== null && state.endsAt > Date.now()) return
    this.closeAuction(idHex).catch((err) => {
      if (err.code === 'AUCTION_CLOSED') return
      // Retried at the next start if the log cannot take it now
      this.emitter.emit('warning', err)
    })
  }

  // Applies one block of a log to the view: all its events or, if one breaks a rule, none.
  // counter: who counts the author's open auctions (the sequencer for the own log, else the
  // follower), or null.
  async applyBlock(author, authorHex, index, events, own, counter) {
    let open = counter ? counter.openAuctions : 0
    const touched = new Map()
    const applied = []
    // Bids of this block, not staged until the whole block is applied
    const pending = new Map()
    // Entries of the author's block list: they touch no auction
    const blocks = []
    for (let offset = 0; offset < events.length; offset++) {
      const evt = events[offset]
      if (evt.type === m.EVENT_BLOCKED) {
        blocks.push(evt)
        continue
      }
      const idHex = b4a.toString(rules.eventAuction(evt, author, index, offset), 'hex')
      // An opening's id is its own place in the log, and a block is applied once (its auctions
      // and the log's applied length are written in one batch): the auction cannot exist yet
      let current = null
      if (touched.has(idHex)) current = touched.get(idHex)
      else if (evt.type !== m.EVENT_OPENED) current = await this.view.getAuction(idHex)
      const ctx = {}
      if (rules.needsLeader(current, evt)) {
        const refused = [...current.refused, evt.payload.bidder]
        const row = await this.view.latestBid(
          idHex,
          current.bidCount,
          (r) => refused.every((key) => !b4a.equals(key, r.bid.bidder)),
          (position) => pending.get(idHex + '/' + position) || null
        )
        ctx.leader = row === null ? null : rules.leaderOf(row)
      }
      const next = rules.applyEvent(current, evt, author, index, offset, ctx)
      open += Sequencer.openDelta(evt)
      if (open > MAX_OPEN_AUCTIONS) {
        throw AuctionError.TOO_MANY_AUCTIONS(
          `The log opens more than ${MAX_OPEN_AUCTIONS} auctions that are open at once`
        )
      }
      if (next.bid !== null) {
        const position = next.bid.position
        // The auction's bid before it in this block read the row they share, or begins it
        if (!pending.has(idHex + '/' + (position - 1))) await this.view.loadBids(idHex, position)
        pending.set(idHex + '/' + position, next.bid)
      }
      touched.set(idHex, next.view)
      applied.push({ evt, idHex, current, next })
    }
    // An auction's row is written once per block, in its state after the block's last event
    // on it (several bids of one auction often share a block)
    const last = new Map()
    for (const entry of applied) last.set(entry.idHex, entry)
    for (const entry of applied) {
      const { evt, idHex, current, next } = entry
      this.stage(evt, idHex, current, next, own, last.get(idHex) === entry)
    }
    for (const evt of blocks) this.stageBlocked(authorHex, evt, own)
    if (counter) counter.openAuctions = open
    this.view.stageLog(authorHex, { applied: index + 1, disputed: false, invalid: false, open })
    if (this.view.full) await this.view.flush()
    else this.view.scheduleFlush()
    for (const { evt, current, next } of applied) this.notify(evt, current, next)
    for (const evt of blocks) this.notifyBlocked(authorHex, evt)
  }

  // An own block list entry is in the log, in block index
  blockedAppended(evt, index, open) {
    this.stageBlocked(this.id, evt, true)
    this.view.stageLog(this.id, { applied: index + 1, disputed: false, invalid: false, open })
    this.view.scheduleFlush()
    this.notifyBlocked(this.id, evt)
  }

  // The seller's own list is kept (in the view, for the next start, and in memory, where its bids
  // are judged); another seller's is only told, as its node alone enforces it
  stageBlocked(authorHex, evt, own) {
    if (!own) return
    const { bidder, blocked } = evt.payload
    const bidderHex = b4a.toString(bidder, 'hex')
    this.view.stageBlocked(authorHex, bidderHex, blocked)
    if (blocked) this.sequencer.blocked.add(bidderHex)
    else this.sequencer.blocked.delete(bidderHex)
  }

  notifyBlocked(authorHex, evt) {
    if (this.emitter.listenerCount('bidder-blocked') === 0) return
    const { bidder, blocked, blockedAt } = evt.payload
    this.emitter.emit('bidder-blocked', {
      seller: authorHex,
      bidder: b4a.toString(bidder, 'hex'),
      blocked,
      blockedAt,
      at: blockedAt,
      catchUp: Date.now() - blockedAt > CATCH_UP_AGE
    })
  }

  // An own event is in the log, in block index: its rows, the own log's applied length and open
  // auctions, and the listeners
  appended(evt, idHex, current, next, index, open) {
    if (evt.type === m.EVENT_BLOCKED) return this.blockedAppended(evt, index, open)
    this.stage(evt, idHex, current, next, true)
    this.view.stageLog(this.id, { applied: index + 1, disputed: false, invalid: false, open })
    this.view.scheduleFlush()
    this.notify(evt, current, next)
  }

  // The rows of one applied event; for the own log also the seller's timers. row: false when a
  // later event of the same block writes the auction's row
  stage(evt, idHex, current, next, own, row = true) {
    if (own && evt.type === m.EVENT_SETTLED) {
      // The seller's node checked the payment on its own endpoint before it recorded it
      next.view.check = { state: m.CHECK_VERIFIED, reason: '', checkedAt: Date.now() }
    }
    if (row) this.view.stageAuction(next.view)
    if (current === null) this.view.stageOpened(next.view)
    if (next.bid !== null) this.view.stageBid(idHex, next.bid)
    if (!own) return
    if (evt.type === m.EVENT_SETTLED) {
      this.view.stageTx(b4a.toString(evt.payload.txHash, 'hex'), idHex)
    }
    const dueAt = next.view.paid === null ? next.view.dueAt || 0 : 0
    if (dueAt !== (current === null ? 0 : current.paid === null ? current.dueAt || 0 : 0)) {
      // A sale to be paid by dueAt: at that time, unpaid, the seller's node records the lapse
      this.view.stageDue(idHex, dueAt === 0 ? null : dueAt)
      if (dueAt === 0) this.dues.disarm(idHex)
      else this.dues.arm(idHex, dueAt)
    }
    const endsAt = next.view.closed ? 0 : next.view.endsAt
    if (endsAt === (current === null || current.closed ? 0 : current.endsAt)) return
    // Opened, moved by a soft close or a buy-now bid, or ended: the seller's timer follows
    this.view.stageTimer(idHex, endsAt === 0 ? null : endsAt)
    if (endsAt === 0) this.timers.disarm(idHex)
    else this.timers.arm(idHex, endsAt)
  }

  // Every applied event passes here: the public shape of the auction is built only for events
  // someone listens to
  notify(evt, current, next) {
    const emitter = this.emitter
    let described = null
    const auction = () => described || (described = this.describe(next.view))
    // When the author signed the event, by its own clock, and whether it is history
    const at = eventTime(evt.payload)
    const catchUp = Date.now() - at > CATCH_UP_AGE
    const tell = (name, data) => {
      if (emitter.listenerCount(name) > 0) emitter.emit(name, { ...data(), at, catchUp })
    }
    const idHex = b4a.toString(next.view.id, 'hex')
    const key = (k) => b4a.toString(k, 'hex')
    if (evt.type === m.EVENT_OPENED) {
      if (b4a.equals(next.view.seller, this.publicKey)) this._watch(idHex, next.view)
      tell('auction-opened', auction)
    } else if (evt.type === m.EVENT_BID_ACCEPTED) {
      const b = next.bid
      const bid = () => ({
        bidder: key(b.bid.bidder),
        amount: formatAmount(b.bid.amount),
        position: b.position + 1,
        acceptedAt: b.acceptedAt
      })
      tell('bid-accepted', () => ({ auction: auction(), bid: bid() }))
      const before = current.highestBid
      if (
        before !== null &&
        b4a.equals(before.bidder, this.publicKey) &&
        !b4a.equals(b.bid.bidder, this.publicKey)
      ) {
        tell('outbid', () => ({
          auction: auction(),
          bid: bid(),
          previous: formatAmount(before.amount)
        }))
      }
      if (next.extended) {
        tell('auction-extended', () => ({
          auction: auction(),
          endsAt: next.view.endsAt,
          extensions: next.view.extensions
        }))
      }
      if (this._soon.has(idHex) || b4a.equals(b.bid.bidder, this.publicKey)) {
        this._watch(idHex, next.view)
      }
    } else if (evt.type === m.EVENT_REFUSED) {
      tell('bidder-refused', () => ({ auction: auction(), bidder: key(evt.payload.bidder) }))
    } else if (evt.type === m.EVENT_SETTLED) {
      tell('auction-paid', () => ({ auction: auction(), payment: auction().payment }))
    } else if (evt.type === m.EVENT_LAPSED) {
      tell('payment-lapsed', () => ({ auction: auction(), buyer: key(evt.payload.buyer) }))
    } else if (evt.type === m.EVENT_OFFERED) {
      tell('second-chance', () => ({ auction: auction(), offer: auction().payment.offer }))
    } else if (evt.type === m.EVENT_OFFER_ACCEPTED) {
      tell('offer-accepted', () => ({ auction: auction(), buyer: auction().payment.buyer }))
    } else {
      this.endingSoon.disarm(idHex)
      this._soon.delete(idHex)
      tell('auction-closed', () => rules.describeSale(auction()))
    }
  }

  // This peer bid on an auction (lib/bid.js, with the view before the bid): inside the window,
  // the block of its bid tells first, with the end as the bid left it
  involved(idHex, view) {
    if (view.endsAt - this.endingSoonLead > Date.now()) this._watch(idHex, view)
  }

  // This peer sells or bid on an auction: it hears when it is about to end, at once if it is
  // already that close, and again after a late bid moves the end
  _watch(idHex, view) {
    const now = Date.now()
    if (view.endsAt === 0 || view.closed || view.endsAt <= now) return
    const told = this._soon.get(idHex)
    if (told === view.endsAt) return
    if (told === undefined && this._soon.size >= MAX_ENDING_SOON && !this._forget(now)) return
    this._soon.set(idHex, told || 0)
    this.endingSoon.arm(idHex, Math.max(now, view.endsAt - this.endingSoonLead))
  }

  // Makes room among the watched auctions: those with no timer whose end passed (told of it, or
  // its time came and went unseen) and that no close reached
  _forget(now) {
    for (const [idHex, told] of this._soon) {
      if (told <= now && !this.endingSoon.has(idHex)) this._soon.delete(idHex)
    }
    return this._soon.size < MAX_ENDING_SOON
  }

  // The view is read again: a bid may have moved the end since the timer was armed
  async _onendingsoon(idHex) {
    const view = await this.view.getAuction(idHex)
    const told = this._soon.get(idHex)
    if (view === null || view.closed || told === undefined || this.isClosing()) return
    const now = Date.now()
    if (told === view.endsAt || view.endsAt <= now) return
    if (view.endsAt - this.endingSoonLead > now) {
      this.endingSoon.arm(idHex, view.endsAt - this.endingSoonLead)
      return
    }
    this._soon.set(idHex, view.endsAt)
    this.emitter.emit('ending-soon', { auction: this.describe(view), endsAt: view.endsAt })
  }
}

// The author's time of an event: its payload's one time field, or 0 if it has none
function eventTime(payload) {
  for (const name of EVENT_TIMES) {
    if (typeof payload[name] === 'number') return payload[name]
  }
  return 0
}

module.exports = Applier
