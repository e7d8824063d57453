const test = require('brittle')
const v8 = require('v8')
const vm = require('vm')
const b4a = require('b4a')
const m = require('../lib/messages')
const { parseAmount } = require('../lib/money')
const { MAX_REMOTE_BLOCK } = require('../lib/constants')
const { createPeers, until, count, once } = require('./helpers')

const ENDLESS_BLOCKS = 200
const EVENTS_PER_BLOCK = 64

// A full collection, so what is measured is memory held, not garbage not yet collected
v8.setFlagsFromString('--expose_gc')
const gc = vm.runInNewContext('gc')

function heldHeap() {
  gc()
  return process.memoryUsage().heapUsed
}

function openings(n, from) {
  const events = []
  for (let i = 0; i < n; i++) {
    events.push({
      type: m.EVENT_OPENED,
      payload: {
        item: 'Spam#' + (from + i),
        startPrice: parseAmount('1'),
        currency: 'USDt',
        endsAt: 0,
        createdAt: Date.now()
      }
    })
  }
  return m.encode(m.block, events)
}

test('a log with an oversized block is dropped at that block; the rest stays', async (t) => {
  const { peers } = await createPeers(t, 3)
  const [victim, honest, liar] = peers
  const a = await honest.openAuction({ item: 'Pic#1', price: '1' })
  await until(async () => (await count(victim)) === 1, 10000, 'the honest auction')

  const refused = once(victim, 'warning', (err) => err.code === 'INVALID_EVENT')
  await liar.log.core.append([openings(1, 0), b4a.alloc(MAX_REMOTE_BLOCK + 1)])
  liar._announce()
  const err = await refused
  t.ok(err.message.includes('larger than'), err.message)
  t.is((await victim.listAuctions()).length, 2, 'the block before it was applied, nothing after')
  t.is((await victim.getAuction(a.id)).status, 'open', 'the honest auction is untouched')

  await victim.placeBid(a.id, '2')
  t.is((await honest.getAuction(a.id)).bidCount, 1, 'the victim still bids')
})

test('an endless log of valid events keeps a follower inside its memory bound', async (t) => {
  const { peers } = await createPeers(t, 2)
  const [victim, liar] = peers
  const total = ENDLESS_BLOCKS * EVENTS_PER_BLOCK

  const blocks = []
  for (let i = 0; i < ENDLESS_BLOCKS; i++) {
    blocks.push(openings(EVENTS_PER_BLOCK, i * EVENTS_PER_BLOCK))
  }
  await liar.log.core.append(blocks)
  const before = heldHeap()
  liar._announce()

  let peak = 0
  let samples = 0
  await until(
    async () => {
      // Sampled a few times along the way, since a full collection takes a while
      if (samples++ % 10 === 0) peak = Math.max(peak, heldHeap() - before)
      return (await victim.info()).blocks >= ENDLESS_BLOCKS
    },
    60000,
    'the whole log'
  )
  peak = Math.max(peak, heldHeap() - before)
  const mib = peak / 2 ** 20
  t.comment(`held heap grew at most ${mib.toFixed(1)} MiB while following ${total} events`)
  t.ok(mib < 48, 'within 48 MiB: the node cache, the view cache and the staged writes are bounded')
  t.is(await count(victim), total, `all ${total} auctions applied`)
})
