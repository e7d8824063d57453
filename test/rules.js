const test = require('brittle')
const b4a = require('b4a')
const { applyEvent, checkBid } = require('../lib/rules')
const { formatAmount } = require('../lib/money')
const { Author } = require('./helpers/events')
const { codeOf } = require('./helpers')

// Applies an author's events in order, as a follower of its log would
function replay(author, events) {
  let view = null
  for (const at of events) {
    view = applyEvent(view, at.evt, author.publicKey, at.index, at.offset).view
  }
  return view
}

function apply(view, author, at) {
  return applyEvent(view, at.evt, author.publicKey, at.index, at.offset)
}

test('open, three bids and close give the winner and the price', (t) => {
  const seller = new Author()
  const c2 = new Author()
  const c3 = new Author()
  const opened = seller.open('Pic#1', '75')
  const id = opened.id
  const b1 = c2.bid(id, '75')
  const b2 = c3.bid(id, '75.5')
  const b3 = c2.bid(id, '80')
  const view = replay(seller, [
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
  t.alike(view.id, id, 'the id follows from the place in the log')
})

test('bid rules, each with its code', (t) => {
  const seller = new Author()
  const bidder = new Author()
  const now = Date.now()
  const opened = seller.open('Pic#1', '75', { endsAt: now + 60000 })
  const id = opened.id
  const view = replay(seller, [opened])

  t.is(
    codeOf(() => checkBid(view, bidder.bid(id, '74.999999'), now)),
    'BID_TOO_LOW',
    'under start'
  )
  t.is(
    codeOf(() => checkBid(view, bidder.bid(id, '75'), now)),
    'ok',
    'start price is enough'
  )
  t.is(
    codeOf(() => checkBid(view, seller.bid(id, '100'), now)),
    'OWN_AUCTION'
  )
  t.is(
    codeOf(() => checkBid(view, bidder.bid(id, '80'), view.endsAt)),
    'AUCTION_ENDED',
    'at endsAt'
  )
  t.is(
    codeOf(() => checkBid(view, bidder.bid(b4a.alloc(16), '80'), now)),
    'INVALID_EVENT',
    'a bid signed for another auction'
  )
  t.is(
    codeOf(() => checkBid(view, bidder.bid(id, '80', { createdAt: now - 10 * 60 * 1000 }), now)),
    'BID_EXPIRED',
    'a bid signed ten minutes before the seller judges it'
  )

  const after = replay(seller, [opened, seller.accept(bidder.bid(id, '80'), 0)])
  t.is(
    codeOf(() => checkBid(after, bidder.bid(id, '80'), now)),
    'BID_TOO_LOW',
    'equal is too low'
  )
  t.is(
    codeOf(() => checkBid(after, bidder.bid(id, '80.000001'), now)),
    'ok',
    'one micro more'
  )

  const closed = { ...after, closed: true }
  t.is(
    codeOf(() => checkBid(closed, bidder.bid(id, '90'), now)),
    'AUCTION_CLOSED'
  )
})

test('followers refuse events that break the rules', (t) => {
  const seller = new Author()
  const other = new Author()
  const bidder = new Author()
  const opened = seller.open()
  const id = opened.id
  const view = replay(seller, [opened])
  const b = bidder.bid(id, '80')

  t.is(
    codeOf(() => apply(view, other, other.accept(b, 0))),
    'NOT_SELLER',
    'accept by non-seller'
  )
  t.is(
    codeOf(() => apply(view, other, other.close(id, null, 0))),
    'NOT_SELLER',
    'close by other'
  )
  t.is(
    codeOf(() => apply(view, seller, seller.accept(b, 1))),
    'INVALID_EVENT',
    'wrong position'
  )
  t.is(
    codeOf(() => apply(view, seller, seller.close(id, b, 0))),
    'INVALID_EVENT',
    'phantom winner'
  )
  t.is(
    codeOf(() => apply(view, seller, seller.close(id, null, 2))),
    'INVALID_EVENT',
    'wrong count'
  )
  t.is(
    codeOf(() => apply(null, seller, seller.accept(b, 0))),
    'AUCTION_NOT_FOUND'
  )
  t.is(
    codeOf(() => apply(view, seller, seller.open())),
    'INVALID_EVENT',
    'an id taken twice'
  )
})

test('a close must carry the highest bid itself, signed by its bidder', (t) => {
  const seller = new Author()
  const bidder = new Author()
  const first = seller.open('Pic#1', '1')
  const second = seller.open('Pic#2', '1')
  const bid = bidder.bid(first.id, '5')
  const elsewhere = bidder.bid(second.id, '5')
  const view = replay(seller, [first, seller.accept(bid, 0)])

  const otherAuction = { ...elsewhere }
  t.is(
    codeOf(() => apply(view, seller, seller.close(first.id, otherAuction, 1))),
    'INVALID_EVENT',
    'the winning bid of another auction'
  )
  const reSigned = { ...bid, signature: b4a.alloc(64, 1) }
  t.is(
    codeOf(() => apply(view, seller, seller.close(first.id, reSigned, 1))),
    'INVALID_EVENT',
    'the right fields with another signature'
  )
  t.is(
    codeOf(() => apply(view, seller, seller.close(first.id, bid, 1))),
    'ok',
    'the real one'
  )
})

test('a seller cannot make its forged winning bid stick', (t) => {
  const seller = new Author()
  const victim = new Author()
  const opened = seller.open('Pic#1', '1')
  // The seller accepts a bid in the victim's name that the victim never signed
  const forged = { ...victim.bid(opened.id, '5'), signature: b4a.alloc(64, 7) }
  const view = replay(seller, [opened, seller.accept(forged, 0)])
  t.is(
    codeOf(() => apply(view, seller, seller.close(opened.id, forged, 1))),
    'INVALID_SIGNATURE',
    'every peer checks the winner’s signature at the close'
  )
})
