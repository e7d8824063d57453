const test = require('brittle')
const AuctionError = require('../lib/errors')
const { METHODS } = require('../lib/rpc')
const { createPeers, once, everywhere, rejects } = require('./helpers')

test('each bid rule is enforced with its coded error', async (t) => {
  const { peers } = await createPeers(t, 3)
  const [seller, alice, bob] = peers

  const a = await seller.openAuction({ item: 'Lamp', price: '10' })
  await everywhere([alice, bob], a.id)

  await rejects(t, alice.placeBid(a.id, '9.999999'), 'BID_TOO_LOW', 'below start price')
  await rejects(t, seller.placeBid(a.id, '20'), 'OWN_AUCTION', 'seller bids on own auction')
  await rejects(t, alice.placeBid(a.id, '1e3'), 'INVALID_AMOUNT', 'exponent amount')
  await rejects(t, alice.placeBid(a.id, '-5'), 'INVALID_AMOUNT', 'negative amount')
  await rejects(t, alice.placeBid(a.id, 12), 'INVALID_AMOUNT', 'number instead of string')
  await rejects(t, alice.placeBid('00'.repeat(16), '20'), 'AUCTION_NOT_FOUND', 'unknown auction')
  await rejects(t, alice.placeBid('nope', '20'), 'INVALID_ID', 'malformed id')

  const first = await alice.placeBid(a.id, '10')
  t.is(first.position, 1, 'start price is accepted as bid #1')
  await rejects(t, bob.placeBid(a.id, '10'), 'BID_TOO_LOW', 'equal to highest')
  await bob.placeBid(a.id, '10.000001')

  await rejects(t, alice.closeAuction(a.id), 'NOT_SELLER', 'close by a bidder')

  const sale = await seller.closeAuction(a.id)
  t.is(sale.winner.bidder, bob.id)
  t.is(sale.winner.amount, '10.000001')

  await rejects(t, seller.closeAuction(a.id), 'AUCTION_CLOSED', 'close twice')
  await everywhere([alice], a.id, (x) => x.status === 'closed')
  await rejects(t, alice.placeBid(a.id, '50'), 'AUCTION_CLOSED', 'bid after close')
})

test('of two equal concurrent bids the first accepted wins, the second is BID_TOO_LOW', async (t) => {
  const { peers } = await createPeers(t, 3)
  const [seller, alice, bob] = peers
  const a = await seller.openAuction({ item: 'Vase', price: '5' })
  await everywhere([alice, bob], a.id)

  // Both leave in the same tick, so neither bidder has heard of the other's bid
  const aliceBid = alice.placeBid(a.id, '7')
  const bobBid = bob.placeBid(a.id, '7')
  const results = await Promise.allSettled([aliceBid, bobBid])
  const won = results.filter((r) => r.status === 'fulfilled')
  const lost = results.filter((r) => r.status === 'rejected')
  t.is(won.length, 1, 'one of two equal bids is accepted')
  t.is(lost.length, 1)
  t.is(lost[0].reason.code, 'BID_TOO_LOW', 'the second equal bid is too low')

  const sale = await seller.closeAuction(a.id)
  t.is(sale.winner.bidder, won[0].value.bidder, 'the first accepted of two equal bids wins')
})

test('a bid to a seller that is gone is SELLER_UNREACHABLE', async (t) => {
  const { peers } = await createPeers(t, 2, { peer: { requestTimeout: 1000, bidTimeout: 1500 } })
  const [seller, alice] = peers
  const a = await seller.openAuction({ item: 'Chair', price: '1' })
  await everywhere([alice], a.id)
  await seller.close()
  await rejects(t, alice.placeBid(a.id, '2'), 'SELLER_UNREACHABLE', 'seller offline')
})

test('a bid whose connection is lost is sent again, backing off, within the bid’s time only', async (t) => {
  const { peers } = await createPeers(t, 2, { peer: { bidTimeout: 2000 } })
  const [seller, alice] = peers
  const a = await seller.openAuction({ item: 'Desk', price: '1' })
  await everywhere([alice], a.id)

  // The connection is lost under the first three sends, then holds
  const request = alice.net.request.bind(alice.net)
  const sent = []
  let lose = 3
  alice.net.request = (key, method, value, opts) => {
    if (method !== METHODS.bid) return request(key, method, value, opts)
    sent.push({ at: Date.now(), timeout: opts.timeout })
    if (lose-- > 0) return Promise.reject(AuctionError.PEER_UNREACHABLE('CHANNEL_CLOSED'))
    return request(key, method, value, opts)
  }
  const bid = await alice.placeBid(a.id, '2')
  t.is(bid.position, 1, 'the fourth send is accepted')
  t.is(sent.length, 4, 'sent four times')
  // Timers fire late on a busy machine, never early (1 ms for the clock's tick)
  const gaps = sent.slice(1).map((s, i) => s.at - sent[i].at)
  t.ok(
    gaps.every((gap, i) => gap >= 100 * 2 ** i - 1),
    `waits of at least 100, 200, 400 ms (${gaps.join(', ')} ms)`
  )
  t.ok(within(sent, 2000), 'no send may outlast the bid’s time')

  // Lost every time: given up within the bid's time, not after a fixed count
  sent.length = 0
  lose = Infinity
  await rejects(t, alice.placeBid(a.id, '3'), 'SELLER_UNREACHABLE', 'then unreachable')
  t.ok(sent.length >= 3, `sent ${sent.length} times`)
  t.ok(within(sent, 2000), 'the last send ends within the bid’s time')
})

// Every send, from the first, ends by then (1 ms for the clock's tick)
function within(sent, ms) {
  return sent.every((s) => s.at - sent[0].at + s.timeout <= ms + 1)
}

test('a timed auction closes itself and refuses late bids', async (t) => {
  const { peers } = await createPeers(t, 2)
  const [seller, alice] = peers
  const closed = once(alice, 'auction-closed')
  const a = await seller.openAuction({ item: 'Clock', price: '3', duration: 400 })
  t.ok(a.endsAt > a.createdAt, 'endsAt is set')
  await everywhere([alice], a.id)
  await alice.placeBid(a.id, '4')
  const sale = await closed
  t.is(sale.winner.amount, '4', 'closed with the bid it had')
  t.ok(sale.closedAt >= a.endsAt, 'not before its end time')
  await rejects(t, alice.placeBid(a.id, '5'), 'AUCTION_CLOSED', 'bid after the end')
})

test('bad auction parameters are coded errors', async (t) => {
  const { peers } = await createPeers(t, 1)
  const [seller] = peers
  await rejects(t, seller.openAuction({ item: '', price: '1' }), 'INVALID_ITEM', 'empty item')
  await rejects(
    t,
    seller.openAuction({ item: 'x'.repeat(257), price: '1' }),
    'INVALID_ITEM',
    'long'
  )
  await rejects(
    t,
    seller.openAuction({ item: 'é'.repeat(129), price: '1' }),
    'INVALID_ITEM',
    'bytes'
  )
  await rejects(t, seller.openAuction({ item: 'ok', price: '0' }), 'INVALID_AMOUNT', 'zero price')
  await rejects(t, seller.openAuction({ item: 'ok', price: '1', currency: '' }), 'INVALID_CURRENCY')
  await rejects(
    t,
    seller.openAuction({ item: 'ok', price: '1', duration: -5 }),
    'INVALID_DURATION',
    'negative duration'
  )
  const ok = await seller.openAuction({ item: 'é'.repeat(128), price: '1' })
  t.is(ok.item.length, 128, '256 bytes is allowed')
})

test('bids that reach the seller together get distinct positions, and every peer applies them', async (t) => {
  const { peers } = await createPeers(t, 4)
  const [seller, ...bidders] = peers
  const warnings = []
  for (const peer of peers) peer.on('warning', (err) => warnings.push(err.code))
  const a = await seller.openAuction({ item: 'Lamp', price: '1' })
  await everywhere(bidders, a.id)

  // Rising amounts fired at once: each is judged against the bids queued before it
  const sent = []
  for (let i = 0; i < 60; i++) sent.push(bidders[i % 3].placeBid(a.id, String(2 + i)))
  const results = await Promise.allSettled(sent)
  const accepted = results.filter((r) => r.status === 'fulfilled').map((r) => r.value)
  for (const r of results) {
    if (r.status === 'rejected') t.is(r.reason.code, 'BID_TOO_LOW', 'refused only as too low')
  }
  const positions = accepted.map((b) => b.position).sort((x, y) => x - y)
  t.alike(
    positions,
    positions.map((_, i) => i + 1),
    `${accepted.length} accepted bids hold positions 1 to ${accepted.length}, once each`
  )

  await everywhere(bidders, a.id, (x) => x.bidCount === accepted.length)
  const held = (await seller.getAuction(a.id)).bids.map((b) => [b.position, b.amount])
  for (const peer of bidders) {
    t.alike(
      (await peer.getAuction(a.id)).bids.map((b) => [b.position, b.amount]),
      held
    )
  }
  t.alike(warnings, [], 'no peer refused a block of the seller')
})
