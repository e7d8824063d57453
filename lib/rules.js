const b4a = require('b4a')
const AuctionError = require('./errors')
const m = require('./messages')
const { checkUnits, formatAmount } = require('./money')
const { auctionId, verifyBid } = require('./crypto')
const { MAX_ITEM_BYTES, MAX_CURRENCY_LENGTH, MAX_BID_SKEW } = require('./constants')

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

// The seller's judgement of a bid at time now; every peer repeats it with the acceptance time
function checkBid(view, bid, now) {
  if (view.closed) throw AuctionError.AUCTION_CLOSED()
  if (view.endsAt !== 0 && now >= view.endsAt) throw AuctionError.AUCTION_ENDED()
  if (b4a.equals(bid.bidder, view.seller)) throw AuctionError.OWN_AUCTION()
  if (!b4a.equals(bid.auction, view.id)) {
    throw AuctionError.INVALID_EVENT('Bid is for another auction')
  }
  if (Math.abs(now - bid.createdAt) > MAX_BID_SKEW) {
    throw AuctionError.BID_EXPIRED(
      `The bid was signed ${Math.round((now - bid.createdAt) / 1000)} s from the seller's clock`
    )
  }
  checkUnits(bid.amount)
  if (view.highestBid === null) {
    if (bid.amount < view.startPrice) {
      throw AuctionError.BID_TOO_LOW(
        `The first bid must be at least the start price of ${formatAmount(view.startPrice)} ${view.currency}`
      )
    }
  } else if (bid.amount <= view.highestBid.amount) {
    throw AuctionError.BID_TOO_LOW(
      `Bid must be higher than ${formatAmount(view.highestBid.amount)} ${view.currency}`
    )
  }
}

// The auction an event is about: derived from its place for an opening, named otherwise
function eventAuction(evt, seller, index, offset) {
  const p = evt.payload
  if (evt.type === m.EVENT_OPENED) return auctionId(seller, index, offset)
  return evt.type === m.EVENT_BID_ACCEPTED ? p.bid.auction : p.auction
}

// Applies one event of seller's log, found at (index, offset), to the view of the auction it
// touches. Returns { view, bid } (bid: the accepted bid row, if any); throws if it breaks a rule.
// Bidders' signatures are the seller's to check before accepting; here only the winning one.
function applyEvent(view, evt, seller, index, offset) {
  const p = evt.payload

  if (evt.type === m.EVENT_OPENED) {
    if (view) throw AuctionError.INVALID_EVENT('Auction id is already taken')
    checkItem(p.item)
    checkUnits(p.startPrice)
    checkCurrency(p.currency)
    checkEndsAt(p.endsAt, p.createdAt)
    const opened = {
      id: auctionId(seller, index, offset),
      seller,
      index,
      offset,
      ...p,
      closed: false,
      bidCount: 0,
      highestBid: null,
      closedAt: 0
    }
    return { view: opened, bid: null }
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
    const highestBid = {
      bidder: p.bid.bidder,
      amount: p.bid.amount,
      position: p.position,
      nonce: p.bid.nonce,
      createdAt: p.bid.createdAt,
      signature: p.bid.signature
    }
    const row = { ...p, index, offset }
    return { view: { ...view, bidCount: view.bidCount + 1, highestBid }, bid: row }
  }

  if (evt.type === m.EVENT_CLOSED) {
    if (view.closed) throw AuctionError.AUCTION_CLOSED()
    if (p.bidCount !== view.bidCount) {
      throw AuctionError.INVALID_EVENT(`Close counts ${p.bidCount} bids, not ${view.bidCount}`)
    }
    if (p.closedAt < view.createdAt) throw AuctionError.INVALID_EVENT('Closed before it opened')
    if (!sameBid(view.highestBid, p.winningBid, view.id)) {
      throw AuctionError.INVALID_EVENT('Winning bid is not the highest accepted bid')
    }
    // The record of the sale is signed by both parties: check the buyer's part on every peer
    if (p.winningBid !== null && !verifyBid(p.winningBid)) {
      throw AuctionError.INVALID_SIGNATURE('The winning bid is not signed by its bidder')
    }
    return { view: { ...view, closed: true, closedAt: p.closedAt }, bid: null }
  }

  throw AuctionError.INVALID_EVENT('Unknown event type')
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
  if (h === null) return null
  return {
    auction: view.id,
    bidder: h.bidder,
    amount: h.amount,
    nonce: h.nonce,
    createdAt: h.createdAt,
    signature: h.signature
  }
}

// The public shape of an auction: hex keys, decimal amounts
function describeAuction(view, opts = {}) {
  const bid = (b) => b && { bidder: b4a.toString(b.bidder, 'hex'), amount: formatAmount(b.amount) }
  const out = {
    id: b4a.toString(view.id, 'hex'),
    item: view.item,
    seller: b4a.toString(view.seller, 'hex'),
    startPrice: formatAmount(view.startPrice),
    currency: view.currency,
    status: view.closed ? 'closed' : 'open',
    disputed: !!opts.disputed,
    createdAt: view.createdAt,
    endsAt: view.endsAt || null,
    closedAt: view.closedAt || null,
    bidCount: view.bidCount,
    highestBid: bid(view.highestBid),
    winner: view.closed ? bid(view.highestBid) : null
  }
  if (opts.bids) {
    out.bids = opts.bids.map((b) => ({
      ...bid(b.bid),
      position: b.position,
      acceptedAt: b.acceptedAt
    }))
  }
  return out
}

module.exports = {
  checkItem,
  checkCurrency,
  checkEndsAt,
  checkBid,
  eventAuction,
  applyEvent,
  winningBid,
  describeAuction
}
