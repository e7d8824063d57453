const test = require('brittle')
const DHT = require('hyperdht')
const Dials = require('../lib/dials')
const { METHODS } = require('../lib/rpc')
const { createBootstrap, rawNode, bareNetwork, until, emptyHello, RAW } = require('./helpers')

test('an idle process dials freely; a busy one holds new dials past its limit until one ends', (t) => {
  let busy = false
  const dials = new Dials({ maxBusy: 2, busy: () => busy })
  const given = []
  for (let i = 0; i < 3; i++) given.push(dials.take())
  t.ok(
    given.every((give) => give !== null),
    'idle: 3 dials at once past a limit of 2'
  )

  busy = true
  t.is(dials.take(), null, 'busy: a fourth is held back')
  given[0]()
  given[0]()
  t.is(dials.active, 2, 'a dial given back twice counts once')
  t.is(dials.take(), null, 'still at the limit')
  given[1]()
  const next = dials.take()
  t.ok(next !== null, 'under the limit: the next goes')
  t.is(dials.held, 2, 'two held back in all')
  next()
  given[2]()
  t.is(dials.active, 0, 'every dial given back')
})

test('while the process is busy a peer greets at most the limit of new keys at once; the rest wait as candidates and are greeted once it is idle', async (t) => {
  let busy = true
  const dials = new Dials({ maxBusy: 2, busy: () => busy })
  const greeting = []
  const net = await bareNetwork(t, await createBootstrap(t), {
    dials,
    // A greeting that ends when the test says so: no connection is made
    greet: () => new Promise((resolve) => greeting.push(resolve))
  })

  for (let i = 0; i < 5; i++) net.discovered(DHT.keyPair().publicKey)
  t.is(greeting.length, 2, 'two greetings under way')
  t.is(net.candidates.size, 3, 'three keys wait as candidates')

  net.maintain()
  t.is(greeting.length, 2, 'maintenance greets none of them while two are under way')
  greeting[0]()
  await new Promise((resolve) => setImmediate(resolve))
  net.maintain()
  t.is(greeting.length, 3, 'one ended: one more is greeted')
  t.is(net.candidates.size, 2, 'two still wait')

  busy = false
  net.maintain()
  t.is(greeting.length, 5, 'idle: the rest are greeted')
  t.is(net.candidates.size, 0, 'none waits')
  for (const resolve of greeting) resolve()
  await new Promise((resolve) => setImmediate(resolve))
  t.is(dials.active, 0, 'every greeting that ended gave its dial back')
})

test('a greeting gives its dial back once its connection is open, before the answer comes', async (t) => {
  const testnet = await createBootstrap(t)
  const remote = rawNode(t, testnet, { firewalled: false })
  const server = remote.rpc.createServer()
  let answer = null
  server.respond(METHODS.hello, RAW, () => new Promise((resolve) => (answer = resolve)))
  await server.listen(remote.keyPair)
  const dials = new Dials({ maxBusy: 1, busy: () => true })
  const net = await bareNetwork(t, testnet, {
    dials,
    greet: (publicKey) =>
      net.request(publicKey, METHODS.hello, emptyHello('a'), { greeting: true, timeout: 10000 })
  })

  net.discovered(remote.keyPair.publicKey)
  t.is(dials.active, 1, 'the greeting holds the dial while it connects')
  await until(() => answer !== null, 10000, 'the greeting to reach the remote')
  // The answer is held back: the greeting cannot end before the dial comes back
  await until(() => dials.active === 0, 10000, 'the dial to be given back at the open')
  t.is(net.greetings, 1, 'connected: the dial is back while the answer is awaited')
  const next = dials.take()
  t.ok(next !== null, 'and another greeting may dial')
  next()
  answer(emptyHello('remote'))
  await until(() => net.greetings === 0, 5000, 'the greeting to end')
  t.is(net.dialing, 0, 'no dial is left held')
})
