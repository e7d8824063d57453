const test = require('brittle')
const path = require('path')
const {
  createBootstrap,
  createPeer,
  createPeers,
  meshed,
  converged,
  until,
  digests
} = require('./helpers')

test('a peer offline during the bids catches up after the close', async (t) => {
  const testnet = await createBootstrap(t)
  const dir = path.join(await t.tmp(), 'offline')
  const [c1, c2] = [await createPeer(t, testnet), await createPeer(t, testnet)]
  let c3 = await createPeer(t, testnet, { storage: dir })
  await meshed([c1, c2, c3])

  const pic1 = await c1.openAuction({ item: 'Pic#1', price: '75' })
  await until(() => c3.views.has(pic1.id), 5000, 'auction at c3')
  await c3.close()

  await c2.placeBid(pic1.id, '75')
  await c2.placeBid(pic1.id, '80')
  await c1.closeAuction(pic1.id)

  c3 = await createPeer(t, testnet, { storage: dir })
  await converged([c1, c2, c3])
  const a = await c3.getAuction(pic1.id)
  t.alike(
    a.bids.map((b) => b.amount),
    ['75', '80'],
    'all bids, in order'
  )
  t.alike(a.winner, { bidder: c2.id, amount: '80' }, 'and the sale')
})

test('30% of pushes lost: 5 peers, 20 auctions, 200 bids, everyone converges', async (t) => {
  const faults = { dropPush: 0.3 }
  const { peers } = await createPeers(t, 5, { peer: { faults, syncInterval: 500 } })

  const auctions = []
  for (let i = 0; i < 20; i++) {
    auctions.push(await peers[i % 5].openAuction({ item: 'Lot#' + i, price: '1' }))
  }
  await until(() => peers.every((p) => p.views.size === 20), 20000, 'auctions everywhere')

  const accepted = new Map(auctions.map((a) => [a.id, []]))
  for (let i = 0; i < 200; i++) {
    const a = auctions[i % 20]
    const sellerIndex = peers.findIndex((p) => p.id === a.seller)
    const bidder = peers[(sellerIndex + 1 + (i % 4)) % 5]
    const amount = String(2 + Math.floor(i / 20))
    try {
      const res = await bidder.placeBid(a.id, amount)
      accepted.get(a.id).push(res)
    } catch (err) {
      // A bidder that missed the last push may bid too low; the seller says so
      t.is(err.code, 'BID_TOO_LOW', 'only too-low bids are refused')
    }
  }
  const total = [...accepted.values()].reduce((n, list) => n + list.length, 0)
  t.ok(total >= 180, `${total} of 200 bids accepted`)

  faults.dropPush = 0
  const started = Date.now()
  await converged(peers, 30000)
  t.comment(`converged ${Date.now() - started} ms after the faults stopped`)

  for (const peer of peers) {
    for (const [id, list] of accepted) {
      const bids = (await peer.getAuction(id)).bids
      t.alike(
        bids.map((b) => [b.bidder, b.amount, b.position]),
        list.map((b) => [b.bidder, b.amount, b.position]),
        `${peer.name} has every accepted bid of ${id.slice(0, 6)}`
      )
    }
  }
})

test('bids racing the close are either in the sale or refused, the same everywhere', async (t) => {
  const { peers } = await createPeers(t, 3)
  const [seller, b1, b2] = peers
  const a = await seller.openAuction({ item: 'Pic#1', price: '1' })
  await until(() => b1.views.has(a.id) && b2.views.has(a.id), 5000, 'auction everywhere')

  const bids = []
  for (let i = 0; i < 20; i++) bids.push((i % 2 ? b1 : b2).placeBid(a.id, String(1 + i)))
  const closing = seller.closeAuction(a.id)
  const results = await Promise.allSettled(bids)
  const sale = await closing

  const acceptedAmounts = results.filter((r) => r.status === 'fulfilled').map((r) => r.value.amount)
  for (const r of results) {
    if (r.status === 'rejected') {
      t.ok(['AUCTION_CLOSED', 'BID_TOO_LOW'].includes(r.reason.code), r.reason.code)
    }
  }
  const inSale = (await seller.getAuction(a.id)).bids.map((b) => b.amount)
  t.alike(
    inSale,
    acceptedAmounts.filter((x) => inSale.includes(x)),
    'accepted bids are in order'
  )
  t.alike(inSale.slice().sort(), acceptedAmounts.slice().sort(), 'accepted == in the sale history')
  t.is(sale.bidCount, inSale.length)

  await converged(peers)
  for (const peer of peers) {
    const view = await peer.getAuction(a.id)
    t.alike(view.winner, sale.winner, `${peer.name} agrees on the winner`)
  }
})

test('a dead peer is backed off and dropped; the others carry on', async (t) => {
  const backoff = { backoffMin: 50, dropAfter: 3 }
  const { peers } = await createPeers(t, 3, {
    peer: { backoff, requestTimeout: 500, syncInterval: 200 }
  })
  const [seller, bidder, doomed] = peers

  // Gone without unannouncing or saying goodbye, as after SIGKILL
  await doomed.dht.destroy({ force: true })
  const dropped = new Promise((resolve) => {
    seller.on('peer-remove', (p) => p.publicKey === doomed.id && resolve())
  })

  const a = await seller.openAuction({ item: 'Pic#1', price: '1' })
  await until(() => bidder.views.has(a.id), 5000, 'auction at the bidder')
  await bidder.placeBid(a.id, '2')
  const sale = await seller.closeAuction(a.id)
  t.is(sale.winner.amount, '2', 'open, bid and close work with a dead peer around')
  await dropped
  t.absent(seller.peerTable.has(doomed.id), 'the dead peer was dropped')
  t.alike(...(await digests([seller, bidder])), 'the living agree')
})
