const test = require('brittle')
const { applyEvent, checkBid } = require('../lib/auction-core')
const { formatAmount } = require('../lib/money')
const { Author } = require('./helpers/events')
const { codeOf } = require('./helpers')

function replay(events) {
  let view = null
  for (const { evt } of events) view = applyEvent(view, evt).view
  return view
}

test('open, three bids and close give the winner and the price', (t) => {
  const seller = new Author()
  const c2 = new Author()
  const c3 = new Author()
  const opened = seller.open('Pic#1', '75')
  const id = opened.evt.payload.id
  const b1 = c2.bid(id, '75')
  const b2 = c3.bid(id, '75.5')
  const b3 = c2.bid(id, '80')
  const view = replay([
    opened,
    seller.accept(b1, 0),
    seller.accept(b2, 1),
    seller.accept(b3, 2),
    seller.close(id, b3, 3)
  ])
  t.is(view.closed, true)
  t.is(view.bidCount, 3)
  t.alike(view.highestBid.bidder, c2.publicKey)
  t.is(formatAmount(view.highestBid.amount), '80')
})

test('bid rules, each with its code', (t) => {
  const seller = new Author()
  const bidder = new Author()
  const opened = seller.open('Pic#1', '75', { endsAt: Date.now() + 60000 })
  const id = opened.evt.payload.id
  const view = replay([opened])

  t.is(
    codeOf(() => checkBid(view, bidder.bid(id, '74.999999'), 0)),
    'BID_TOO_LOW',
    'under start'
  )
  t.is(
    codeOf(() => checkBid(view, bidder.bid(id, '75'), 0)),
    'ok',
    'start price is enough'
  )
  t.is(
    codeOf(() => checkBid(view, seller.bid(id, '100'), 0)),
    'OWN_AUCTION'
  )
  t.is(
    codeOf(() => checkBid(view, bidder.bid(id, '80'), view.endsAt)),
    'AUCTION_ENDED',
    'at endsAt'
  )

  const after = replay([opened, seller.accept(bidder.bid(id, '80'), 0)])
  t.is(
    codeOf(() => checkBid(after, bidder.bid(id, '80'), 0)),
    'BID_TOO_LOW',
    'equal is too low'
  )
  t.is(
    codeOf(() => checkBid(after, bidder.bid(id, '80.000001'), 0)),
    'ok',
    'one micro more'
  )

  const closed = { ...after, closed: true }
  t.is(
    codeOf(() => checkBid(closed, bidder.bid(id, '90'), 0)),
    'AUCTION_CLOSED'
  )
})

test('receivers refuse events that break the rules', (t) => {
  const seller = new Author()
  const other = new Author()
  const bidder = new Author()
  const opened = seller.open()
  const id = opened.evt.payload.id
  const view = replay([opened])
  const b = bidder.bid(id, '80')

  t.is(
    codeOf(() => applyEvent(view, other.accept(b, 0).evt)),
    'NOT_SELLER',
    'accept by non-seller'
  )
  t.is(
    codeOf(() => applyEvent(view, other.close(id, null, 0).evt)),
    'NOT_SELLER',
    'close by other'
  )
  t.is(
    codeOf(() => applyEvent(view, seller.accept(b, 1).evt)),
    'INVALID_EVENT',
    'wrong position'
  )
  t.is(
    codeOf(() => applyEvent(view, seller.close(id, b, 0).evt)),
    'INVALID_EVENT',
    'phantom winner'
  )
  t.is(
    codeOf(() => applyEvent(view, seller.close(id, null, 2).evt)),
    'INVALID_EVENT',
    'wrong count'
  )
  t.is(
    codeOf(() => applyEvent(null, seller.accept(b, 0).evt)),
    'AUCTION_NOT_FOUND'
  )

  const forged = seller.open()
  forged.evt.payload.id = id
  t.is(
    codeOf(() => applyEvent(null, forged.evt)),
    'INVALID_ID',
    'id not derived from seller and seq'
  )
})
