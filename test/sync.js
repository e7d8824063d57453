const test = require('brittle')
const RPC = require('@hyperswarm/rpc')
const DHT = require('hyperdht')
const c = require('compact-encoding')
const AuctionPeer = require('..')
const { createPeers, createPeer, createBootstrap, converged, until } = require('./helpers')
const { Author } = require('./helpers/events')

test('a late joiner pulls the whole history and reaches the same digest', async (t) => {
  const { peers, testnet } = await createPeers(t, 3)
  const [c1, c2, c3] = peers
  const pic1 = await c1.openAuction({ item: 'Pic#1', price: '75' })
  await c2.openAuction({ item: 'Pic#2', price: '60' })
  await until(() => peers.every((p) => p.views.size === 2), 5000, 'auctions everywhere')
  await c2.placeBid(pic1.id, '75')
  await c3.placeBid(pic1.id, '75.5')
  await c2.placeBid(pic1.id, '80')
  await c1.closeAuction(pic1.id)

  const late = await createPeer(t, testnet, { name: 'late' })
  await converged([...peers, late])
  const a = await late.getAuction(pic1.id)
  t.alike(
    a.bids.map((b) => b.amount),
    ['75', '75.5', '80']
  )
  t.alike(a.winner, { bidder: c2.id, amount: '80' })
})

test('pushes that are all lost are recovered by pulls', async (t) => {
  const { peers } = await createPeers(t, 2, { peer: { faults: { dropPush: 1 } } })
  const [seller, watcher] = peers
  // Every push of the seller is lost: only pulls can deliver
  const a = await seller.openAuction({ item: 'Pic#1', price: '75' })
  const b = await seller.openAuction({ item: 'Pic#2', price: '75' })
  await watcher.syncNow()
  t.ok(watcher.views.has(a.id) && watcher.views.has(b.id), 'pulled both')
  await converged(peers)
})

test('events that arrive out of order are held, then applied in order', async (t) => {
  const testnet = await createBootstrap(t)
  const peer = await createPeer(t, testnet)
  const rpc = new RPC({ keyPair: DHT.keyPair(), bootstrap: testnet.bootstrap })
  t.teardown(() => rpc.destroy())
  const push = (buf) =>
    rpc.request(peer.publicKey, AuctionPeer.METHODS.event, buf, { valueEncoding: c.raw })

  const seller = new Author()
  const now = Date.now()
  const first = seller.open('Pic#1', '75', { createdAt: now })
  const second = seller.open('Pic#2', '60', { createdAt: now + 1 })
  const third = seller.open('Pic#3', '50', { createdAt: now + 2 })

  await push(third.buf)
  await push(second.buf)
  t.is(peer.views.size, 0, 'nothing applied across a gap')
  await push(first.buf)
  await until(() => peer.views.size === 3, 5000, 'the held events to apply')
  t.alike(
    (await peer.listAuctions()).map((a) => a.item),
    ['Pic#1', 'Pic#2', 'Pic#3']
  )
})
