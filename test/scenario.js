const test = require('brittle')
const { createPeers, converged, when, count } = require('./helpers')

test('reference scenario: every client learns Client#2 bought Pic#1 for 80 USDt', async (t) => {
  const { peers } = await createPeers(t, 3)
  const [c1, c2, c3] = peers

  const sales = peers.map((peer) => new Promise((resolve) => peer.once('auction-closed', resolve)))

  const pic1 = await c1.openAuction({ item: 'Pic#1', price: '75', currency: 'USDt' })
  const pic2 = await c2.openAuction({ item: 'Pic#2', price: '60', currency: 'USDt' })
  await when(
    peers,
    ['auction-opened'],
    async () => (await Promise.all(peers.map(count))).every((n) => n === 2),
    5000,
    'both auctions everywhere'
  )

  await c2.placeBid(pic1.id, '75')
  await c3.placeBid(pic1.id, '75.5')
  await c2.placeBid(pic1.id, '80')
  const sale = await c1.closeAuction(pic1.id)

  t.is(sale.winner.bidder, c2.id, 'seller sees Client#2 as the winner')
  t.is(sale.winner.amount, '80')

  for (const s of await Promise.all(sales)) {
    t.is(s.auction.id, pic1.id)
    t.alike(s.winner, { bidder: c2.id, amount: '80' }, 'every peer is told of the sale')
  }

  for (const peer of peers) {
    const list = await peer.listAuctions()
    t.alike(list.map((a) => a.item).sort(), ['Pic#1', 'Pic#2'], peer.name + ' holds both auctions')
    const a = await peer.getAuction(pic1.id)
    t.alike(
      a.bids.map((b) => [b.bidder, b.amount]),
      [
        [c2.id, '75'],
        [c3.id, '75.5'],
        [c2.id, '80']
      ],
      peer.name + ' has the bids in order'
    )
    t.is(a.status, 'closed')
    t.alike(a.winner, { bidder: c2.id, amount: '80' })
    const b = await peer.getAuction(pic2.id)
    t.is(b.status, 'open')
    t.is(b.startPrice, '60')
  }

  await converged(peers)
})
