const test = require('brittle')
const path = require('path')
const Corestore = require('corestore')
const b4a = require('b4a')
const View = require('../lib/view')
const { Author } = require('./helpers/events')

async function createView(t, opts) {
  const store = new Corestore(path.join(await t.tmp(), 'store'))
  const view = new View(store.get({ name: 'view' }), opts)
  await view.ready()
  t.teardown(async () => {
    await view.close()
    await store.close()
  })
  return view
}

function bidRow(bidder, auction, position) {
  return {
    bid: bidder.bid(auction, String(position + 1)),
    position,
    acceptedAt: Date.now(),
    index: position,
    offset: 0
  }
}

test('bids kept many to a row come back whole, in order, through evictions and flushes', async (t) => {
  // A cache of 2 rows for 6 auctions: rows leave memory while bids are still added to them
  const view = await createView(t, { cacheSize: 2 })
  const bidder = new Author()
  const ids = []
  for (let i = 0; i < 6; i++) ids.push(b4a.alloc(16, i + 1))
  const hex = ids.map((id) => b4a.toString(id, 'hex'))

  const written = hex.map(() => [])
  for (let position = 0; position < 100; position++) {
    for (let a = 0; a < ids.length; a++) {
      if ((position + a) % 3 === 0) await view.loadBids(hex[a], position)
      const row = bidRow(bidder, ids[a], position)
      view.stageBid(hex[a], row)
      written[a].push(row)
    }
    if (position % 7 === 0) await view.flush()
    else if (position % 5 === 0) view.flush()
  }

  for (let a = 0; a < ids.length; a++) {
    const bids = await view.getBids(hex[a])
    t.is(bids.length, 100, `auction ${a}: every bid`)
    t.alike(
      bids.map((b) => b.position),
      written[a].map((b) => b.position),
      `auction ${a}: in order`
    )
    t.ok(
      bids.every((b, i) => b4a.equals(b.bid.signature, written[a][i].bid.signature)),
      `auction ${a}: the same signed bids`
    )
  }
  const retried = written[0][57]
  const nonces = await view.listNonces(hex[0])
  t.is(nonces.size, 100, 'the nonces of an auction are read from its bids')
  t.is(nonces.get(b4a.toString(retried.bid.nonce, 'hex')), 57, 'a bid is found again by its nonce')
  t.is((await view.getBid(hex[3], 99)).position, 99)
  t.alike(
    (await view.getBids(hex[2], { last: 5 })).map((b) => b.position),
    [95, 96, 97, 98, 99],
    'the last bids only, for bounded replies'
  )
})
