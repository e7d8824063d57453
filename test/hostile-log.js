const test = require('brittle')
const v8 = require('v8')
const vm = require('vm')
const b4a = require('b4a')
const m = require('../lib/messages')
const { parseAmount } = require('../lib/money')
const { MAX_REMOTE_BLOCK } = require('../lib/constants')
const c = require('compact-encoding')
const AuctionPeer = require('..')
const crypto = require('../lib/crypto')
const {
  createPeers,
  until,
  when,
  count,
  once,
  everywhere,
  rawClient,
  emptyHello
} = require('./helpers')

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
        createdAt: Date.now(),
        terms: m.NO_TERMS
      }
    })
  }
  return m.encode(m.block, events)
}

test('a log with an oversized block is dropped at that block; the rest stays', async (t) => {
  const { peers } = await createPeers(t, 3)
  const [victim, honest, liar] = peers
  const a = await honest.openAuction({ item: 'Pic#1', price: '1' })
  const one = async () => (await count(victim)) === 1
  await when([victim], ['auction-opened'], one, 10000, 'the honest auction')

  const refused = once(victim, 'warning', (err) => err.code === 'INVALID_EVENT')
  await liar.log.core.append([openings(1, 0), b4a.alloc(MAX_REMOTE_BLOCK + 1)])
  liar.news.announce()
  const err = await refused
  t.ok(err.message.includes('larger than'), err.message)
  t.is((await victim.listAuctions()).length, 2, 'the block before it was applied, nothing after')
  t.is((await victim.getAuction(a.id)).status, 'open', 'the honest auction is untouched')

  await victim.placeBid(a.id, '2')
  t.is((await honest.getAuction(a.id)).bidCount, 1, 'the victim still bids')
})

// Auctions opened and closed again at once, half a block each: a log as long as wanted that
// stays within the open-auction limit
function openAndClose(index, pairs) {
  const events = m.decode(m.block, openings(pairs, index * pairs))
  const out = []
  for (let i = 0; i < events.length; i++) {
    out.push(events[i], {
      type: m.EVENT_CLOSED,
      payload: {
        auction: crypto.auctionId(liarKey, index, 2 * i),
        winningBid: null,
        bidCount: 0,
        closedAt: Date.now()
      }
    })
  }
  return m.encode(m.block, out)
}

let liarKey = null

test('an endless log of valid events keeps a follower inside its memory bound', async (t) => {
  const { peers } = await createPeers(t, 2)
  const [victim, liar] = peers
  const total = (ENDLESS_BLOCKS * EVENTS_PER_BLOCK) / 2
  liarKey = liar.publicKey

  const blocks = []
  for (let i = 0; i < ENDLESS_BLOCKS; i++) blocks.push(openAndClose(i, EVENTS_PER_BLOCK / 2))
  await liar.log.core.append(blocks)
  const before = heldHeap()
  liar.news.announce()

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

test('a peer that names thousands of empty logs takes no slot, and honest sellers still get in', async (t) => {
  const { peers, testnet } = await createPeers(t, 2, { peer: { probation: 1000 } })
  const [victim, seller] = peers

  // A hostile peer greets the victim, answers its greeting back in time, and answers its logs
  // requests with 1,000 made-up authors
  const rpc = rawClient(t, testnet)
  const client = rpc.connect(victim.publicKey)
  t.teardown(() => client.destroy())
  const fakes = []
  for (let i = 0; i < 1000; i++) fakes.push({ author: crypto.keyPair().publicKey, length: 5 })
  let served = 0
  const pages = (req) => {
    const { after } = m.decode(m.logsRequest, req)
    const from = after === null ? 0 : fakes.findIndex((f) => b4a.equals(f.author, after)) + 1
    served++
    const logs = fakes.slice(from, from + 500)
    return m.encode(m.logsResponse, { logs, more: from + 500 < fakes.length })
  }
  client.rpc.respond(AuctionPeer.METHODS.logs, { valueEncoding: c.raw }, pages)
  const hello = emptyHello('namer')
  // It answers the victim's greeting back at once: a directory is read only from a peer that
  // proved itself, and proving is cheap
  client.rpc.respond(AuctionPeer.METHODS.hello, { valueEncoding: c.raw }, () => hello)
  await client.request(AuctionPeer.METHODS.hello, hello, {
    valueEncoding: c.raw
  })
  await until(() => served > 0, 10000, 'the victim to ask for the logs')

  const a = await seller.openAuction({ item: 'Honest#1', price: '1' })
  await everywhere([victim], a.id)
  t.pass('an honest seller’s new log gets in while the made-up ones wait')

  await until(() => served >= 2, 20000, 'the second page')
  await until(async () => (await victim.info()).logs <= 2, 20000, 'the made-up logs to be dropped')
  t.pass('logs that showed nothing signed are forgotten')
  t.is((await victim.listAuctions()).length, 1, 'and left nothing in the view')
})

test('a followed log brings its last block with each longer length, until it is disputed or a bid expects a push', async (t) => {
  const { peers } = await createPeers(t, 2)
  const [victim, liar] = peers
  const a = await liar.openAuction({ item: 'Pic#1', price: '1' })
  await everywhere([victim], a.id)
  const follower = victim.logs.get(liar.id)
  const latest = () => follower.core.core.replicator._alwaysLatestBlockEnabled
  t.is(latest(), true, 'live: a longer length comes with the last block')

  follower.expectPush()
  t.is(latest(), false, 'not while the author may push that block')
  follower._stopPushes()
  t.is(latest(), true, 'and again after')

  follower.dispute(follower.length)
  t.is(latest(), false, 'a disputed log brings no more blocks with its lengths')
})
