const test = require('brittle')
const b4a = require('b4a')
const { MAX_LOGS, MAX_SERVED_LOGS } = require('../lib/constants')
const { discoveryKey, logKey, logManifest } = require('../lib/crypto')
const { createBootstrap, createPeer, meshed, everywhere, when, until, once } = require('./helpers')
const { createRelay } = require('./helpers/relay')

const JUNK = 4300
// The relay names its logs again this often, to keep them alive
const RENAME = 1000

test(
  `${JUNK} kept-alive junk logs do not keep a connected honest seller out`,
  { timeout: 120000 },
  async (t) => {
    const testnet = await createBootstrap(t)
    const victim = await createPeer(t, testnet, { name: 'victim' })

    let started = Date.now()
    const relay = await createRelay(t, testnet)
    await relay.junk(JUNK)
    t.comment(`${JUNK} one-block logs made in ${Date.now() - started} ms`)

    started = Date.now()
    await relay.connect(victim)
    relay.name()
    const renaming = setInterval(() => relay.name(), RENAME)
    t.teardown(() => clearInterval(renaming), { order: -1 })
    let applied = 0
    victim.on('auction-opened', () => applied++)
    // As many junk logs applied as there are slots: an honest seller used to be refused from here
    const full = () => applied >= MAX_LOGS
    await when([victim], ['auction-opened'], full, 60000, `${MAX_LOGS} junk logs applied`)
    t.comment(
      `the victim applied ${MAX_LOGS} junk logs ${Date.now() - started} ms after they were named`
    )

    const seller = await createPeer(t, testnet, { name: 'seller' })
    await meshed([victim, seller])
    started = Date.now()
    const a = await seller.openAuction({ item: 'Honest#1', price: '1' })
    await everywhere([victim], a.id, () => true, 30000)
    t.comment(`the honest auction arrived in ${Date.now() - started} ms`)
    const bid = await victim.placeBid(a.id, '2')
    t.is(bid.position, 1, 'and takes a bid')
    const open = victim.stats().logsOpen
    t.ok(open <= MAX_LOGS, `${open} logs open, at most ${MAX_LOGS}`)
  }
)

test('the bound on stored logs holds with dormant ones: the least useful are forgotten and cleared', async (t) => {
  const MAX = 30
  const testnet = await createBootstrap(t)
  const opts = { maxLogs: 10, maxStoredLogs: MAX, idleLog: 300 }
  const victim = await createPeer(t, testnet, { name: 'victim', ...opts })
  const seller = await createPeer(t, testnet, { name: 'seller' })
  await meshed([victim, seller])

  // The victim bids on the seller's auction, and the seller leaves: its log is dormant here,
  // the oldest of all, but one the victim takes part in
  const a = await seller.openAuction({ item: 'Pic#1', price: '1' })
  await everywhere([victim], a.id)
  await victim.placeBid(a.id, '2')
  await seller.close()

  const relay = await createRelay(t, testnet)
  await relay.junk(3 * MAX)
  await relay.connect(victim)
  let applied = 0
  victim.on('auction-opened', () => applied++)
  relay.name()
  const renaming = setInterval(() => relay.name(), 500)
  t.teardown(() => clearInterval(renaming))
  await when([victim], ['auction-opened'], () => applied >= 3 * MAX, 30000, 'every junk log')
  clearInterval(renaming)

  t.ok(victim.logs.size <= MAX, `${victim.logs.size} logs stored, at most ${MAX}`)
  t.ok((await victim.info()).logs <= MAX, 'as info() counts them')
  t.ok(victim.stats().logsOpen <= opts.maxLogs, `${victim.stats().logsOpen} of them open`)
  t.is(victim.logs.held(seller.id), 2, 'the log of the seller it bid with is kept')

  await until(() => victim.logs.clearing === 0, 10000, 'storage cleared')
  let inStorage = 0
  for (const { author } of relay.logs) {
    if (await victim.store.storage.hasCore(discoveryKey(logKey(author)))) inStorage++
  }
  t.ok(inStorage <= MAX, `${inStorage} of ${3 * MAX} junk logs left in storage, at most ${MAX}`)

  // A forgotten log named again, once the others have gone dormant, is fetched from its start
  await until(() => victim.stats().logsOpen === 0, 10000, 'the junk logs to go dormant')
  const forgotten = relay.logs.find((l) => victim.logs.held(b4a.toString(l.author, 'hex')) === 0)
  const hex = b4a.toString(forgotten.author, 'hex')
  const back = once(victim, 'auction-opened', (x) => x.seller === hex, 10000, 'the log again')
  relay.name([forgotten])
  await back
  t.is(victim.logs.held(hex), 1, 'a forgotten log named again is fetched from its start')
})

test('a peer that asks for the channel of every stored log reopens only a few of them', async (t) => {
  const testnet = await createBootstrap(t)
  const victim = await createPeer(t, testnet, { name: 'victim', idleLog: 300 })
  const relay = await createRelay(t, testnet)
  await relay.junk(200)
  await relay.connect(victim)
  relay.name()
  let applied = 0
  victim.on('auction-opened', () => applied++)
  await when([victim], ['auction-opened'], () => applied === 200, 20000, 'every log applied')
  await until(() => victim.stats().logsOpen === 0, 10000, 'the logs to go dormant')
  const mux = relay.client.mux
  const channels = () => [...mux].filter((ch) => ch.protocol === 'hypercore/alpha')
  // And their channels with the relay to be closed: the victim closes them as each log goes
  // dormant, a moment after it stops counting it as open
  await until(() => channels().length === 0, 10000, 'the dormant logs’ channels to close')

  // The relay asks the victim for the channel of each: the victim's store would open every
  // stored log it is asked for
  for (const { author } of relay.logs) {
    const core = relay.store.get({ manifest: logManifest(author) })
    t.teardown(() => core.close())
    await core.ready()
    core.replicate(mux)
  }
  await until(() => channels().every((ch) => ch.opened), 10000, 'every ask answered')
  const opened = channels().length
  t.comment(`${opened} of 200 channels opened`)
  t.ok(
    opened <= MAX_SERVED_LOGS,
    `the victim opened ${opened} of 200 stored logs, at most ${MAX_SERVED_LOGS}`
  )
  t.ok(opened > 0, 'and still serves some')
  t.is(victim.stats().logsOpen, 0, 'and follows none of them again')
})
