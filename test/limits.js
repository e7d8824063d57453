const test = require('brittle')
const m = require('../lib/messages')
const { MAX_OPEN_AUCTIONS } = require('../lib/constants')
const { createPeers, everywhere, once, until, when, rejects } = require('./helpers')
const { Author } = require('./helpers/events')

// Openings by author, packed 50 to a block as a seller's batcher would, appended to its log
async function openings(peer, author, n) {
  let ats = []
  for (let i = 0; i < n; i++) {
    const at = author.open('Spam#' + i, '1')
    ats.push(at)
    if (ats.length === 50 || i === n - 1) {
      const block = ats.map((a, offset) => ({ ...a, offset }))
      await peer.log.core.append(
        m.encode(
          m.block,
          block.map((a) => a.evt)
        )
      )
      ats = []
      author.index = peer.log.core.length
    }
  }
  peer.news.announce()
}

test(`a seller may hold ${MAX_OPEN_AUCTIONS} open auctions; a log with more is dropped by every peer`, async (t) => {
  const { peers } = await createPeers(t, 3)
  const [seller, observer, spammer] = peers

  const opened = []
  for (let i = 0; i < MAX_OPEN_AUCTIONS; i++) {
    opened.push(seller.openAuction({ item: 'Lot#' + i, price: '1' }))
  }
  const all = await Promise.all(opened)
  await rejects(
    t,
    seller.openAuction({ item: 'One more', price: '1' }),
    'TOO_MANY_AUCTIONS',
    'the seller’s own peer refuses one more'
  )
  await seller.closeAuction(all[0].id)
  const again = await seller.openAuction({ item: 'One more', price: '1' })
  t.ok(again.id, 'closing one makes room')
  await everywhere([observer], again.id, () => true, 30000)

  const dropped = once(observer, 'warning', (err) => err.code === 'TOO_MANY_AUCTIONS')
  await openings(spammer, new Author(spammer.keyPair), MAX_OPEN_AUCTIONS + 50)
  t.is((await dropped).code, 'TOO_MANY_AUCTIONS', 'a log past the limit is refused')
  await until(
    async () => {
      const row = await observer.view.getLog(spammer.id)
      return row !== null && row.invalid
    },
    10000,
    'the spammer’s log held as invalid'
  )
  const held = (await observer.listAuctions()).filter((a) => a.seller === spammer.id).length
  t.ok(held <= MAX_OPEN_AUCTIONS, `the observer holds ${held} of the spammer's auctions, no more`)
  t.is((await observer.getAuction(again.id)).status, 'open', 'the honest seller is untouched')
})

test('a log that appends faster than the event rate is applied at that rate, and others go on', async (t) => {
  const { peers } = await createPeers(t, 3, {
    peer: { logEventRate: 200, logEventBurst: 100 }
  })
  const [victim, honest, spammer] = peers

  const started = Date.now()
  await openings(spammer, new Author(spammer.keyPair), 600)
  const a = await honest.openAuction({ item: 'Pic#1', price: '1' })
  await everywhere([victim], a.id)
  const spam = async () =>
    (await victim.listAuctions()).filter((x) => x.seller === spammer.id).length
  const early = await spam()
  t.comment(`${early} of 600 spam auctions applied ${Date.now() - started} ms in`)
  t.ok(early < 600, 'the honest auction arrived before the spam was all applied')
  const all = async () => (await spam()) === 600
  await when([victim], ['auction-opened'], all, 20000, 'all spam applied at the rate')
  t.ok(Date.now() - started >= 2000, 'at 200 a second past a burst of 100, 600 take over 2 s')
})
