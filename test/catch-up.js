const test = require('brittle')
const m = require('../lib/messages')
const CatchUp = require('../lib/catch-up')
const { createPeers, createPeer, until, when, count } = require('./helpers')
const { Author } = require('./helpers/events')
const { store, connect, follow, seller } = require('./helpers/stores')

const SELLERS = 20
const BLOCKS = 4

test('an idle process lets 8 logs catch up at once; a busy one one at a time, spaced apart; a log out of line gets no turn', async (t) => {
  let busy = false
  const turns = new CatchUp({ busy: () => busy, gap: 200 })
  let got = 0
  const out = []
  for (let i = 0; i < 11; i++) out.push(turns.take(() => got++))
  t.is(got, 8, 'idle: 8 turns at once')
  t.is(turns.waiting, 3, 'the others wait in line')
  out[8]()
  t.is(turns.waiting, 2, 'one left the line')

  busy = true
  turns.give()
  turns.give()
  t.is(got, 8, 'busy: no new turn while 6 are under way')
  for (let i = 0; i < 6; i++) turns.give()
  const started = Date.now()
  await until(() => got === 9, 2000, 'a turn once the others ended')
  turns.give()
  await until(() => got === 10, 2000, 'the last turn')
  t.ok(Date.now() - started >= 190, 'a busy process spaces its turns by the gap')
  turns.give()
  t.is(turns.active, 0, 'every turn given back')
  t.is(turns.waiting, 0, 'and the one that left never had one')
})

test(`a late joiner catches up on ${SELLERS} logs far behind, taking turns, and applies all`, async (t) => {
  const { peers, testnet } = await createPeers(t, 1)
  const [holder] = peers
  for (let i = 0; i < SELLERS; i++) {
    const author = new Author()
    const core = holder.store.get({ keyPair: author.keyPair })
    for (let b = 0; b < BLOCKS; b++) {
      await core.append(m.encode(m.block, [author.open('Lot#' + i + '.' + b, '1').evt]))
    }
    await core.close()
    holder.logs.follow(author.publicKey)
  }
  const holds = (peer) => async () => (await count(peer)) === SELLERS * BLOCKS
  await when([holder], ['auction-opened'], holds(holder), 30000, 'the holder')

  const before = CatchUp.shared.turns
  const late = await createPeer(t, testnet, { name: 'late' })
  await when([late], ['auction-opened'], holds(late), 60000, 'every auction')
  t.ok(CatchUp.shared.turns - before >= SELLERS, 'each log took a turn to catch up')
  await until(() => CatchUp.shared.active === 0, 10000, 'the turns to end')
  t.pass('every turn ended once the logs were applied')
})

test('a log far behind waits in line for its turn, but not when a bid waits on it', async (t) => {
  const author = new Author()
  const origin = await seller(t, author, BLOCKS * 5)
  const here = await store(t)
  // Every turn is taken by another log, and stays taken
  const turns = new CatchUp({ maxTurns: 1 })
  turns.take(() => {})
  const { follower, applied } = await follow(t, here, author, { catchUp: turns })
  const [mux] = connect(t, here, origin)
  follower.attach(mux)
  await until(() => follower.length === BLOCKS * 5, 5000, 'the length')
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.is(applied.length, 0, `${BLOCKS * 5} blocks behind: it waits in line`)
  t.is(turns.waiting, 1, 'in line')

  // A bid was accepted at the last block: it is fetched now
  t.ok(await follower.waitFor(BLOCKS * 5 - 1, 10000), 'the bid’s block is held')
  t.is(applied.length, BLOCKS * 5, 'and every block before it, applied in order')
  turns.give()
})

test('a late joiner asks for a long log from its start first, and applies it as blocks arrive', async (t) => {
  const { peers, testnet } = await createPeers(t, 1)
  const [writer] = peers
  const author = new Author(writer.keyPair)
  const blocks = []
  for (let i = 0; i < 600; i++) {
    // Each opening cancelled in its own block: the log stays within the open-auction bound
    author.index = i
    const opened = author.open('Lot#' + i, '1')
    blocks.push(Author.block(opened, author.cancel(opened.id)))
  }
  await writer.log.core.append(blocks)
  writer.news.announce()
  // The order the seller serves its blocks in is the order the late joiner asked for them, however
  // busy the machine is
  const served = []
  writer.log.core.on('upload', (index) => served.push(index))

  const late = await createPeer(t, testnet, { name: 'late' })
  let held = -1
  late.once('auction-opened', () => {
    held = late.logs.get(writer.id).core.core.bitfield.countSet(0, 600)
  })
  await until(async () => (await late.info()).blocks >= 600, 30000, 'the whole log')
  const before = served.indexOf(0)
  t.comment(`block 0 served after ${before} others; ${held} of 600 held when it was applied`)
  t.ok(before >= 0 && before < 64, `block 0 asked for among the first (after ${before} others)`)
  t.ok(held >= 1 && held < 600, `the first event applied before the whole log was in (${held})`)
})
