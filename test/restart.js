const test = require('brittle')
const path = require('path')
const { createBootstrap, createPeer, meshed, until, once, everywhere } = require('./helpers')

test('a restarted peer has the same key and the same auctions', async (t) => {
  const testnet = await createBootstrap(t)
  const dir = path.join(await t.tmp(), 'seller')
  const seller = await createPeer(t, testnet, { storage: dir, name: 'seller' })
  const bidder = await createPeer(t, testnet, { name: 'bidder' })
  await meshed([seller, bidder])

  const a = await seller.openAuction({ item: 'Pic#1', price: '75' })
  await everywhere([bidder], a.id)
  await bidder.placeBid(a.id, '75.5')
  const key = seller.id
  const digest = await seller.digest()
  await seller.close()

  const again = await createPeer(t, testnet, { storage: dir })
  t.is(again.id, key, 'same public key')
  t.is(again.name, 'seller', 'same name')
  t.is(await again.digest(), digest, 'same history')
  const view = await again.getAuction(a.id)
  t.alike(
    view.bids.map((b) => b.amount),
    ['75.5'],
    'the accepted bid survived'
  )

  await meshed([again, bidder])
  await bidder.placeBid(a.id, '76')
  const sale = await again.closeAuction(a.id)
  t.alike(sale.winner, { bidder: bidder.id, amount: '76' }, 'bidding goes on after restart')
})

test('a seller down at endsAt closes the auction when it is back, with its bids', async (t) => {
  const testnet = await createBootstrap(t)
  const dir = path.join(await t.tmp(), 'seller')
  const seller = await createPeer(t, testnet, { storage: dir })
  const bidder = await createPeer(t, testnet)
  await meshed([seller, bidder])

  const a = await seller.openAuction({ item: 'Watch', price: '1', duration: 1500 })
  await everywhere([bidder], a.id)
  await bidder.placeBid(a.id, '2')
  await seller.close()

  await until(() => Date.now() > a.endsAt + 200, 5000, 'end time to pass')
  const closed = once(bidder, 'auction-closed')
  const again = await createPeer(t, testnet, { storage: dir })
  const sale = await closed
  t.alike(sale.winner, { bidder: bidder.id, amount: '2' }, 'closed with the bid it had accepted')
  t.is((await again.getAuction(a.id)).status, 'closed')
})

test('a timed auction still closes on time after a restart before its end', async (t) => {
  const testnet = await createBootstrap(t)
  const dir = path.join(await t.tmp(), 'seller')
  const seller = await createPeer(t, testnet, { storage: dir })
  const a = await seller.openAuction({ item: 'Bell', price: '1', duration: 1500 })
  await seller.close()

  const again = await createPeer(t, testnet, { storage: dir })
  const sale = await once(again, 'auction-closed')
  t.is(sale.auction.id, a.id)
  t.is(sale.winner, null, 'no bids, no winner')
  t.ok(sale.closedAt >= a.endsAt, 'closed at or after its end time')
})
