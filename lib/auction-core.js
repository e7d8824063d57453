const b4a = require('b4a')
const AuctionError = require('./errors')
const m = require('./messages')
const { checkUnits, formatAmount } = require('./money')
const { auctionId } = require('./signing')
const { MAX_ITEM_BYTES, MAX_CURRENCY_LENGTH } = require('./constants')

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

// The seller's judgement of a bid against the current view; receivers repeat it
function checkBid(view, bid, now) {
  if (view.closed) throw AuctionError.AUCTION_CLOSED()
  if (view.endsAt !== 0 && now >= view.endsAt) throw AuctionError.AUCTION_ENDED()
  if (b4a.equals(bid.bidder, view.seller)) throw AuctionError.OWN_AUCTION()
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

// Applies one verified event of an author, in that author's seq order, to the view it touches.
// Returns { id, view, bid } where bid is the accepted bid row, if any; throws if the event breaks a rule.
function applyEvent(view, evt) {
  const p = evt.payload

  if (evt.type === m.EVENT_OPENED) {
    if (view) throw AuctionError.INVALID_EVENT('Auction id is already taken')
    if (!b4a.equals(p.id, auctionId(evt.author, evt.seq))) {
      throw AuctionError.INVALID_ID('Auction id does not match its seller and seq')
    }
    checkItem(p.item)
    checkUnits(p.startPrice)
    checkCurrency(p.currency)
    checkEndsAt(p.endsAt, p.createdAt)
    const opened = {
      ...p,
      seller: evt.author,
      closed: false,
      bidCount: 0,
      highestBid: null,
      closedAt: 0
    }
    return { id: p.id, view: opened, bid: null }
  }

  const id = evt.type === m.EVENT_BID_ACCEPTED ? p.bid.auction : p.auction
  if (!view) throw AuctionError.AUCTION_NOT_FOUND()
  if (!b4a.equals(view.seller, evt.author)) {
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
      seq: evt.seq
    }
    return { id, view: { ...view, bidCount: view.bidCount + 1, highestBid }, bid: p }
  }

  if (evt.type === m.EVENT_CLOSED) {
    if (view.closed) throw AuctionError.AUCTION_CLOSED()
    if (p.bidCount !== view.bidCount) {
      throw AuctionError.INVALID_EVENT(`Close counts ${p.bidCount} bids, not ${view.bidCount}`)
    }
    const h = view.highestBid
    const w = p.winningBid
    const same =
      h === null
        ? w === null
        : w !== null && b4a.equals(w.bidder, h.bidder) && w.amount === h.amount
    if (!same) throw AuctionError.INVALID_EVENT('Winning bid is not the highest accepted bid')
    return { id, view: { ...view, closed: true, closedAt: p.closedAt }, bid: null }
  }

  throw AuctionError.INVALID_EVENT('Unknown event type')
}

// The public shape of an auction: hex keys, decimal amounts
function describeAuction(view, bids = null) {
  const bid = (b) => b && { bidder: b4a.toString(b.bidder, 'hex'), amount: formatAmount(b.amount) }
  const out = {
    id: b4a.toString(view.id, 'hex'),
    item: view.item,
    seller: b4a.toString(view.seller, 'hex'),
    startPrice: formatAmount(view.startPrice),
    currency: view.currency,
    status: view.closed ? 'closed' : 'open',
    createdAt: view.createdAt,
    endsAt: view.endsAt || null,
    closedAt: view.closedAt || null,
    bidCount: view.bidCount,
    highestBid: bid(view.highestBid),
    winner: view.closed ? bid(view.highestBid) : null
  }
  if (bids !== null) {
    out.bids = bids.map((b) => ({ ...bid(b.bid), position: b.position, acceptedAt: b.acceptedAt }))
  }
  return out
}

module.exports = { checkItem, checkCurrency, checkEndsAt, checkBid, applyEvent, describeAuction }
