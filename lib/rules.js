const b4a = require('b4a')
const AuctionError = require('./errors')
const m = require('./messages')
const { checkUnits, formatAmount } = require('./money')
const { auctionId, verifyBid, verifyAcceptance } = require('./crypto')
const {
  MAX_ITEM_BYTES,
  MAX_CURRENCY_LENGTH,
  MAX_BID_SKEW,
  MAX_REFUSED,
  SHOWN_REFUSED,
  MAX_PICTURE_BYTES,
  PICTURE_TYPES,
  MAX_SOFT_CLOSE,
  MAX_EXTENSIONS,
  MIN_PAY_WITHIN,
  MAX_PAY_WITHIN
} = require('./constants')

// Basis points in one whole: an increment rate of 500 is 5% of the highest bid
const BPS = 10000

const CURRENCY = /^[A-Za-z][A-Za-z0-9]*$/

function checkItem(item) {
  if (typeof item !== 'string' || item.trim().length === 0) {
    throw AuctionError.INVALID_ITEM('Item must be a non-empty string')
  }
  if (b4a.byteLength(item) > MAX_ITEM_BYTES) {
    throw AuctionError.INVALID_ITEM(`Item is longer than ${MAX_ITEM_BYTES} bytes`)
  }
  return item
}

function checkCurrency(currency) {
  if (
    typeof currency !== 'string' ||
    currency.length > MAX_CURRENCY_LENGTH ||
    !CURRENCY.test(currency)
  ) {
    throw AuctionError.INVALID_CURRENCY(
      `Currency must be 1-${MAX_CURRENCY_LENGTH} letters or digits, starting with a letter`
    )
  }
  return currency
}

function checkEndsAt(endsAt, createdAt) {
  if (!Number.isSafeInteger(endsAt) || endsAt < 0 || (endsAt !== 0 && endsAt <= createdAt)) {
    throw AuctionError.INVALID_DURATION('End time must be after the opening time')
  }
  return endsAt
}

function checkTerms(terms, startPrice, endsAt) {
  const { reserve, increment, incrementRate, softClose, maxExtensions, buyNow } = terms
  for (const [name, units] of [
    ['reserve', reserve],
    ['increment', increment],
    ['buy-now price', buyNow]
  ]) {
    if (typeof units !== 'bigint' || units < 0n) {
      throw AuctionError.INVALID_TERMS(`The ${name} must be an amount`)
    }
    if (units !== 0n) checkUnits(units)
  }
  if (!Number.isSafeInteger(incrementRate) || incrementRate < 0 || incrementRate > BPS) {
    throw AuctionError.INVALID_TERMS('The increment must be at most 100% of the highest bid')
  }
  if (!Number.isSafeInteger(softClose) || softClose < 0 || softClose > MAX_SOFT_CLOSE) {
    throw AuctionError.INVALID_TERMS('The soft-close window must be at most a day')
  }
  if (softClose !== 0 && endsAt === 0) {
    throw AuctionError.INVALID_TERMS('Soft close needs an auction with an end time')
  }
  if (!Number.isSafeInteger(maxExtensions) || maxExtensions < 0 || maxExtensions > MAX_EXTENSIONS) {
    throw AuctionError.INVALID_TERMS(`At most ${MAX_EXTENSIONS} extensions`)
  }
  if (maxExtensions !== 0 && softClose === 0) {
    throw AuctionError.INVALID_TERMS('A cap on extensions needs a soft-close window')
  }
  if (reserve !== 0n && reserve < startPrice) {
    throw AuctionError.INVALID_TERMS('The reserve price is below the start price')
  }
  if (buyNow !== 0n && (buyNow < startPrice || buyNow < reserve)) {
    throw AuctionError.INVALID_TERMS('The buy-now price is below the start or reserve price')
  }
  return terms
}

// The smallest raise over the highest bid: at least one micro-unit
function raiseOver(view, amount) {
  const t = view.terms
  const rated = (amount * BigInt(t.incrementRate) + BigInt(BPS - 1)) / BigInt(BPS)
  let raise = t.increment > rated ? t.increment : rated
  if (raise < 1n) raise = 1n
  return raise
}

// The lowest amount the seller accepts now
function minimumBid(view) {
  if (view.highestBid === null) return view.startPrice
  const min = view.highestBid.amount + raiseOver(view, view.highestBid.amount)
  return view.terms.buyNow !== 0n && min > view.terms.buyNow ? view.terms.buyNow : min
}

function isRefused(view, bidder) {
  return view.refused.some((key) => b4a.equals(key, bidder))
}

function reserveMet(view) {
  return view.highestBid !== null && view.highestBid.amount >= view.terms.reserve
}

// The seller's judgement of a bid at time now; every peer repeats it with the acceptance time
function checkBid(view, bid, now) {
  if (view.closed) throw AuctionError.AUCTION_CLOSED()
  if (view.endsAt !== 0 && now >= view.endsAt) throw AuctionError.AUCTION_ENDED()
  if (b4a.equals(bid.bidder, view.seller)) throw AuctionError.OWN_AUCTION()
  if (!b4a.equals(bid.auction, view.id)) {
    throw AuctionError.INVALID_EVENT('Bid is for another auction')
  }
  if (isRefused(view, bid.bidder)) throw AuctionError.BIDDER_REFUSED()
  if (Math.abs(now - bid.createdAt) > MAX_BID_SKEW) {
    throw AuctionError.BID_EXPIRED(
      `The bid was signed ${Math.round((now - bid.createdAt) / 1000)} s from the seller's clock`
    )
  }
  checkUnits(bid.amount)
  const { buyNow } = view.terms
  if (buyNow !== 0n && bid.amount > buyNow) {
    throw AuctionError.BID_ABOVE_BUY_NOW(
      `Bid ${formatAmount(buyNow)} ${view.currency} to buy it now; more is refused`
    )
  }
  // The buy-now price beats any increment
  if (bid.amount === buyNow && (view.highestBid === null || bid.amount > view.highestBid.amount)) {
    return
  }
  const min = minimumBid(view)
  if (bid.amount >= min) return
  const h = view.highestBid
  if (h === null) {
    throw AuctionError.BID_TOO_LOW(
      `The first bid must be at least the start price of ${formatAmount(min)} ${view.currency}`
    )
  }
  throw AuctionError.BID_TOO_LOW(
    min === h.amount + 1n
      ? `Bid must be higher than ${formatAmount(h.amount)} ${view.currency}`
      : `Bid must be at least ${formatAmount(min)} ${view.currency}: ${formatAmount(h.amount)} plus the minimum increment`
  )
}

// A refusal of the bidder who leads needs the bid that leads after it: the latest accepted bid
// by a bidder not refused (later accepted bids were each above every earlier standing one)
function needsLeader(view, evt) {
  return (
    evt.type === m.EVENT_REFUSED &&
    view !== null &&
    view.highestBid !== null &&
    b4a.equals(view.highestBid.bidder, evt.payload.bidder)
  )
}

// The highest-bid shape of an accepted bid row
function leaderOf(row) {
  return {
    bidder: row.bid.bidder,
    amount: row.bid.amount,
    position: row.position,
    nonce: row.bid.nonce,
    createdAt: row.bid.createdAt,
    signature: row.bid.signature
  }
}

// The auction an event is about: derived from its place for an opening, named otherwise
// The auction an event touches; null for one that touches the whole log (a block list entry)
function eventAuction(evt, seller, index, offset) {
  const p = evt.payload
  if (evt.type === m.EVENT_BLOCKED) return null
  if (evt.type === m.EVENT_OPENED) return auctionId(seller, index, offset)
  return evt.type === m.EVENT_BID_ACCEPTED ? p.bid.auction : p.auction
}

// Applies one event of seller's log, found at (index, offset), to the view of the auction it
// touches. Returns { view, bid, extended } (bid: the accepted bid row, if any; extended: a soft
// close moved the end); throws if it breaks a rule. Bidders' signatures are the seller's to
// check before accepting; here only the winning one. ctx.leader: see needsLeader.
function applyEvent(view, evt, seller, index, offset, ctx = {}) {
  const p = evt.payload

  if (evt.type === m.EVENT_OPENED) {
    if (view) throw AuctionError.INVALID_EVENT('Auction id is already taken')
    checkItem(p.item)
    checkUnits(p.startPrice)
    checkCurrency(p.currency)
    checkEndsAt(p.endsAt, p.createdAt)
    checkTerms(p.terms, p.startPrice, p.endsAt)
    if (p.settlement) checkSettlement(p.settlement)
    if (p.picture) checkPictureRef(p.picture)
    const opened = {
      id: auctionId(seller, index, offset),
      seller,
      index,
      offset,
      ...p,
      closed: false,
      bidCount: 0,
      highestBid: null,
      settlement: p.settlement || null,
      closedAt: 0,
      extensions: 0,
      cancelled: false,
      refused: [],
      buyer: null,
      dueAt: 0,
      paid: null,
      lapsed: [],
      offer: null,
      check: null,
      paidClaim: null,
      picture: p.picture || null
    }
    return { view: opened, bid: null, extended: false }
  }

  if (!view) throw AuctionError.AUCTION_NOT_FOUND()
  if (!b4a.equals(view.seller, seller)) {
    throw AuctionError.NOT_SELLER('Only the seller may accept bids or close an auction')
  }

  if (evt.type === m.EVENT_BID_ACCEPTED) {
    checkBid(view, p.bid, p.acceptedAt)
    if (p.position !== view.bidCount) {
      throw AuctionError.INVALID_EVENT(`Bid position ${p.position} is not ${view.bidCount}`)
    }
    const row = { ...p, index, offset }
    const next = { ...view, bidCount: view.bidCount + 1, highestBid: leaderOf(row) }
    const { softClose, maxExtensions, buyNow } = view.terms
    let extended = false
    if (p.bid.amount === buyNow) {
      // Bought now: no bid after this one; the seller's close follows
      next.endsAt = p.acceptedAt
    } else if (
      softClose !== 0 &&
      view.endsAt - p.acceptedAt < softClose &&
      (maxExtensions === 0 || view.extensions < maxExtensions)
    ) {
      next.endsAt = p.acceptedAt + softClose
      next.extensions = view.extensions + 1
      extended = true
    }
    return { view: next, bid: row, extended }
  }

  if (evt.type === m.EVENT_CLOSED) {
    if (view.closed) throw AuctionError.AUCTION_CLOSED()
    if (p.bidCount !== view.bidCount) {
      throw AuctionError.INVALID_EVENT(`Close counts ${p.bidCount} bids, not ${view.bidCount}`)
    }
    if (p.closedAt < view.createdAt) throw AuctionError.INVALID_EVENT('Closed before it opened')
    // Below the reserve the auction ends unsold
    const winner = reserveMet(view) ? view.highestBid : null
    if (!sameBid(winner, p.winningBid, view.id)) {
      throw AuctionError.INVALID_EVENT('Winning bid is not the highest accepted bid')
    }
    // The record of the sale is signed by both parties: check the buyer's part on every peer
    if (p.winningBid !== null && !verifyBid(p.winningBid)) {
      throw AuctionError.INVALID_SIGNATURE('The winning bid is not signed by its bidder')
    }
    const next = { ...view, closed: true, closedAt: p.closedAt }
    // With settlement terms the winner now owes the price, until the deadline
    if (view.settlement !== null && winner !== null) {
      next.buyer = winner
      next.dueAt = p.closedAt + view.settlement.payWithin
    }
    return { view: next, bid: null, extended: false }
  }

  if (evt.type === m.EVENT_CANCELLED) {
    if (view.closed) throw AuctionError.AUCTION_CLOSED()
    if (view.highestBid !== null) {
      throw AuctionError.HAS_BIDS('A bid stands: close the auction, or refuse the bidder first')
    }
    if (p.cancelledAt < view.createdAt) {
      throw AuctionError.INVALID_EVENT('Cancelled before it opened')
    }
    const next = { ...view, closed: true, cancelled: true, closedAt: p.cancelledAt }
    return { view: next, bid: null, extended: false }
  }

  if (evt.type === m.EVENT_REFUSED) {
    if (view.closed) throw AuctionError.AUCTION_CLOSED()
    if (b4a.equals(p.bidder, view.seller)) {
      throw AuctionError.OWN_AUCTION('A seller cannot refuse itself')
    }
    if (isRefused(view, p.bidder)) throw AuctionError.BIDDER_REFUSED('Already refused')
    if (view.refused.length >= MAX_REFUSED) {
      throw AuctionError.TOO_MANY_REFUSED(`An auction refuses at most ${MAX_REFUSED} bidders`)
    }
    const next = { ...view, refused: [...view.refused, p.bidder] }
    if (needsLeader(view, evt)) {
      if (ctx.leader === undefined) throw new Error('The bid that leads next was not given')
      next.highestBid = ctx.leader
    }
    return { view: next, bid: null, extended: false }
  }

  if (evt.type === m.EVENT_SETTLED) {
    const buyer = owing(view)
    if (!b4a.equals(p.buyer, buyer.bidder) || p.amount !== buyer.amount) {
      throw AuctionError.INVALID_EVENT('The payment is not the buyer’s, or not the price')
    }
    const next = { ...view, paid: p, paidClaim: p.claim || null }
    return { view: next, bid: null, extended: false }
  }

  if (evt.type === m.EVENT_LAPSED) {
    const buyer = owing(view)
    if (!b4a.equals(p.buyer, buyer.bidder)) throw AuctionError.INVALID_EVENT('Not the buyer')
    if (p.lapsedAt < view.dueAt) {
      throw AuctionError.INVALID_EVENT('The buyer’s time to pay has not run out')
    }
    const next = { ...view, buyer: null, dueAt: 0, lapsed: [...view.lapsed, p.buyer] }
    return { view: next, bid: null, extended: false }
  }

  if (evt.type === m.EVENT_OFFERED) {
    checkOffer(view, p)
    // The bidder of an offer that ran out is out, as a lapsed buyer is
    const lapsed = view.offer === null ? view.lapsed : [...view.lapsed, view.offer.bid.bidder]
    return { view: { ...view, offer: p, lapsed }, bid: null, extended: false }
  }

  if (evt.type === m.EVENT_OFFER_ACCEPTED) {
    const offer = view.offer
    if (offer === null || !b4a.equals(offer.bid.bidder, p.bidder)) {
      throw AuctionError.NO_OFFER('No second-chance offer to this bidder is pending')
    }
    if (p.acceptedAt > offer.expiresAt) throw AuctionError.OFFER_EXPIRED()
    if (!verifyAcceptance(view.id, offer.bid, p.signature)) {
      throw AuctionError.INVALID_SIGNATURE('The acceptance is not signed by the bidder')
    }
    const next = {
      ...view,
      offer: null,
      buyer: { ...offer.bid, position: offer.position },
      dueAt: p.acceptedAt + view.settlement.payWithin
    }
    return { view: next, bid: null, extended: false }
  }

  throw AuctionError.INVALID_EVENT('Unknown event type')
}

// A picture reference as an opening carries it: a known type, and bytes within the limit
function checkPictureRef(p) {
  if (!PICTURE_TYPES.includes(p.type)) {
    throw AuctionError.INVALID_EVENT(`A picture is one of ${PICTURE_TYPES.join(', ')}`)
  }
  if (p.byteLength === 0 || p.byteLength > MAX_PICTURE_BYTES || p.blockLength === 0) {
    throw AuctionError.INVALID_EVENT(`A picture is 1 byte to ${MAX_PICTURE_BYTES} bytes`)
  }
}

// Settlement terms that can be met: a chain, a token and an address to pay, a deadline
function checkSettlement(s) {
  if (!Number.isSafeInteger(s.chainId) || s.chainId <= 0) {
    throw AuctionError.INVALID_TERMS('The chain id must be a positive number')
  }
  const zero = b4a.alloc(20)
  if (b4a.equals(s.token, zero) || b4a.equals(s.payTo, zero)) {
    throw AuctionError.INVALID_TERMS('The token and the address to pay must not be zero')
  }
  if (
    !Number.isSafeInteger(s.payWithin) ||
    s.payWithin < MIN_PAY_WITHIN ||
    s.payWithin > MAX_PAY_WITHIN
  ) {
    throw AuctionError.INVALID_TERMS('The time to pay must be from 1 second to 30 days')
  }
  if (!Number.isSafeInteger(s.confirmations) || s.confirmations < 1 || s.confirmations > 1000) {
    throw AuctionError.INVALID_TERMS('Confirmations must be from 1 to 1,000')
  }
  return s
}

// The buyer who owes the price of a sold auction with settlement terms, or an error
function owing(view) {
  if (view.settlement === null) throw AuctionError.NO_SETTLEMENT()
  if (!view.closed || view.buyer === null) {
    throw AuctionError.NOT_SOLD('Nobody owes this auction’s price now')
  }
  if (view.paid !== null) throw AuctionError.ALREADY_PAID()
  return view.buyer
}

// A second chance goes to an earlier bid of the auction, by a bidder who neither was refused
// nor let a payment lapse, at or above the reserve, once the buyer's time ran out
function checkOffer(view, p) {
  if (view.settlement === null) throw AuctionError.NO_SETTLEMENT()
  if (!view.closed || view.cancelled || view.paid !== null) {
    throw AuctionError.INVALID_EVENT('Only an unpaid sale gets a second chance')
  }
  if (view.buyer !== null) throw AuctionError.INVALID_EVENT('The buyer may still pay')
  if (view.offer !== null && p.offeredAt < view.offer.expiresAt) {
    throw AuctionError.INVALID_EVENT('An offer is pending')
  }
  if (view.offer !== null && b4a.equals(view.offer.bid.bidder, p.bid.bidder)) {
    throw AuctionError.INVALID_EVENT('That bidder let its offer run out')
  }
  const b = p.bid
  if (!b4a.equals(b.auction, view.id) || p.position >= view.bidCount) {
    throw AuctionError.INVALID_EVENT('The offer is not for a bid of this auction')
  }
  if (isRefused(view, b.bidder) || view.lapsed.some((k) => b4a.equals(k, b.bidder))) {
    throw AuctionError.INVALID_EVENT('That bidder cannot be offered the item')
  }
  if (b.amount < view.terms.reserve) throw AuctionError.INVALID_EVENT('Below the reserve')
  if (!verifyBid(b)) throw AuctionError.INVALID_SIGNATURE('The offered bid is not signed')
}

function sameBid(highest, bid, auction) {
  if (highest === null) return bid === null
  return (
    bid !== null &&
    b4a.equals(bid.auction, auction) &&
    b4a.equals(bid.bidder, highest.bidder) &&
    bid.amount === highest.amount &&
    b4a.equals(bid.nonce, highest.nonce) &&
    bid.createdAt === highest.createdAt &&
    b4a.equals(bid.signature, highest.signature)
  )
}

// The signed bid a close carries, rebuilt from the view's highest bid
function winningBid(view) {
  const h = view.highestBid
  if (!reserveMet(view)) return null
  return {
    auction: view.id,
    bidder: h.bidder,
    amount: h.amount,
    nonce: h.nonce,
    createdAt: h.createdAt,
    signature: h.signature
  }
}

// How an auction stands: open, sold, unsold (no bid, or none at the reserve) or cancelled
function outcome(view) {
  if (!view.closed) return 'open'
  if (view.cancelled) return 'cancelled'
  return reserveMet(view) ? 'sold' : 'unsold'
}

function evmAddress(buf) {
  return '0x' + b4a.toString(buf, 'hex')
}

// Where the payment of a sale with settlement terms stands: due (by dueAt), paid, lapsed (the
// buyer's time ran out) or offered (a second chance is pending)
// 'verified' (checked on a chain endpoint: the seller's node on its own, another peer on its
// own), 'disputed' (this peer's check found the record false: verifyError says why), or
// 'seller-record' (not checked here: no endpoint, or not yet)
function verification(view) {
  if (!view.check) return 'seller-record'
  return view.check.state === m.CHECK_VERIFIED ? 'verified' : 'disputed'
}

function describePayment(view) {
  if (view.settlement === null || !view.closed || outcome(view) !== 'sold') return null
  const key = (k) => b4a.toString(k, 'hex')
  const p = view.paid
  let status = 'lapsed'
  if (p !== null) status = 'paid'
  else if (view.buyer !== null) status = 'due'
  else if (view.offer !== null) status = 'offered'
  const buyer = p !== null ? { bidder: p.buyer, amount: p.amount } : view.buyer
  return {
    status,
    buyer: buyer && key(buyer.bidder),
    amount: buyer && formatAmount(buyer.amount),
    dueAt: view.dueAt || null,
    txHash: p && '0x' + key(p.txHash),
    blockNumber: p && p.blockNumber,
    payer: p && evmAddress(p.payer),
    paidAt: p && p.settledAt,
    // How this peer knows it was paid: its own check on its chain endpoint (the seller's node
    // always checks its own), or only the seller's signed record
    verified: p && verification(view),
    verifyError:
      (p && view.check && view.check.state === m.CHECK_FAILED && view.check.reason) || null,
    lapsed: view.lapsed.map(key),
    offer: view.offer && {
      bidder: key(view.offer.bid.bidder),
      amount: formatAmount(view.offer.bid.amount),
      expiresAt: view.offer.expiresAt
    }
  }
}

// The public shape of an auction: hex keys, decimal amounts, positions counted from 1
function describeAuction(view, opts = {}) {
  const bid = (b) => b && { bidder: b4a.toString(b.bidder, 'hex'), amount: formatAmount(b.amount) }
  const amount = (units) => (units === 0n ? null : formatAmount(units))
  const t = view.terms
  const result = outcome(view)
  const out = {
    id: b4a.toString(view.id, 'hex'),
    item: view.item,
    seller: b4a.toString(view.seller, 'hex'),
    startPrice: formatAmount(view.startPrice),
    currency: view.currency,
    status: view.closed ? 'closed' : 'open',
    outcome: result,
    disputed: !!opts.disputed,
    createdAt: view.createdAt,
    endsAt: view.endsAt || null,
    closedAt: view.closedAt || null,
    terms: {
      reserve: amount(t.reserve),
      increment: amount(t.increment),
      incrementPercent:
        t.incrementRate === 0 ? null : formatAmount(BigInt(t.incrementRate) * 10000n),
      softClose: t.softClose || null,
      maxExtensions: t.maxExtensions || null,
      buyNow: amount(t.buyNow)
    },
    extensions: view.extensions,
    reserveMet: t.reserve === 0n ? null : reserveMet(view),
    minimumBid: view.closed ? null : formatAmount(minimumBid(view)),
    refused: view.refused.slice(0, SHOWN_REFUSED).map((key) => b4a.toString(key, 'hex')),
    refusedCount: view.refused.length,
    bidCount: view.bidCount,
    highestBid: bid(view.highestBid),
    winner: result === 'sold' ? bid(view.highestBid) : null,
    settlement: view.settlement && {
      chainId: view.settlement.chainId,
      token: evmAddress(view.settlement.token),
      payTo: evmAddress(view.settlement.payTo),
      payWithin: view.settlement.payWithin,
      confirmations: view.settlement.confirmations
    },
    payment: describePayment(view),
    picture: view.picture
      ? {
          type: view.picture.type,
          size: view.picture.byteLength,
          hash: b4a.toString(view.picture.hash, 'hex')
        }
      : null
  }
  if (opts.bids) {
    out.bids = opts.bids.map((b) => ({
      ...bid(b.bid),
      position: b.position + 1,
      acceptedAt: b.acceptedAt,
      refused: isRefused(view, b.bid.bidder)
    }))
  }
  return out
}

// What a close, a cancel and 'auction-closed' say: the sale, beside the auction it ends
function describeSale(auction) {
  return {
    auction,
    outcome: auction.outcome,
    winner: auction.winner,
    bidCount: auction.bidCount,
    closedAt: auction.closedAt
  }
}

module.exports = {
  checkItem,
  checkCurrency,
  checkEndsAt,
  checkTerms,
  checkBid,
  minimumBid,
  reserveMet,
  needsLeader,
  leaderOf,
  owing,
  checkSettlement,
  checkPictureRef,
  outcome,
  eventAuction,
  isRefused,
  applyEvent,
  winningBid,
  describeAuction,
  describeSale
}
