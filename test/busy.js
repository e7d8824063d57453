const test = require('brittle')
const m = require('../lib/messages')
const lag = require('../lib/lag')
const b4a = require('b4a')
const { METHODS } = require('../lib/rpc')
const {
  createPeers,
  createBootstrap,
  createPeer,
  rawNode,
  rejects,
  until,
  RAW,
  emptyHello
} = require('./helpers')

// A key nobody holds
const UNKNOWN_KEY = b4a.alloc(32, 7).toString('hex')

// Stalls this process's event loop for ms, as a busy machine would
function stall(ms) {
  const end = Date.now() + ms
  while (Date.now() < end);
}

test('a peer whose own process stalls past the request timeout keeps its request and its connection', async (t) => {
  const { peers } = await createPeers(t, 2)
  const [a, b] = peers
  const before = a.stats().closed

  // Both peers live in this process: the answer cannot come while it stalls
  const request = a.net.request(b.publicKey, METHODS.logs, m.encode(m.logsRequest, { after: null }))
  stall(3500)
  const reply = m.decode(m.logsResponse, await request, 'logs reply')

  t.ok(Array.isArray(reply.logs), 'the answer arrived after the stall')
  t.is(a.stats().closed.timeout, before.timeout, 'no request timed out')
  t.ok(a.net.connected(b.id), 'the connection is still up')
  t.ok(a.net.proven(b.id), 'and the peer is still in good standing')
})

test('on a busy process a request that times out leaves the connection up, a greeting does not; on an idle one the connection is dropped', async (t) => {
  const testnet = await createBootstrap(t)
  const a = await createPeer(t, testnet, { name: 'a', requestTimeout: 500 })
  // A key that answers the auctions method at once and never answers logs or hello
  const { rpc, keyPair } = rawNode(t, testnet, { firewalled: false })
  const server = rpc.createServer()
  server.respond(METHODS.auctions, RAW, () => b4a.alloc(0))
  server.respond(METHODS.logs, RAW, () => new Promise(() => {}))
  server.respond(METHODS.hello, RAW, () => new Promise(() => {}))
  await server.listen(keyPair)
  const hex = b4a.toString(keyPair.publicKey, 'hex')
  const ask = (method, opts) => a.net.request(keyPair.publicKey, method, b4a.alloc(0), opts)
  const busy = lag.busy
  t.teardown(() => {
    lag.busy = busy
  })
  // Connected first, so that only the answer can be late
  await ask(METHODS.auctions, { timeout: 10000 })
  const before = a.stats().closed.timeout

  lag.busy = () => true
  await rejects(t, ask(METHODS.logs), 'REQUEST_TIMEOUT', 'busy: the request times out')
  t.ok(a.net.connected(hex), 'and the connection stays')
  t.is(a.stats().closed.timeout, before, 'nothing was closed for the timeout')
  await rejects(t, ask(METHODS.hello, { greeting: true }), 'REQUEST_TIMEOUT', 'a greeting too')
  t.is(a.stats().closed.timeout, before + 1, 'but a silent greeting closes the connection')

  lag.busy = () => false
  await until(() => !a.net.connected(hex), 5000, 'the connection to go')
  await ask(METHODS.auctions, { timeout: 10000 })
  await rejects(t, ask(METHODS.logs), 'REQUEST_TIMEOUT', 'idle: the request times out')
  t.is(a.stats().closed.timeout, before + 2, 'and the connection is closed')
})

test('news goes one way: a proven peer that never answers it gets it, costs no timeout and keeps its connection', async (t) => {
  const testnet = await createBootstrap(t)
  const a = await createPeer(t, testnet, { name: 'a', requestTimeout: 500 })
  // A bare node that answers greetings and directory reads, and never answers news
  const { rpc, keyPair } = rawNode(t, testnet, { firewalled: false })
  const server = rpc.createServer()
  const heard = []
  server.respond(METHODS.hello, RAW, () => emptyHello('raw'))
  server.respond(METHODS.logs, RAW, () => m.encode(m.logsResponse, { logs: [], more: false }))
  server.respond(METHODS.news, RAW, (req) => {
    heard.push(m.decode(m.news, req, 'news'))
    return new Promise(() => {})
  })
  await server.listen(keyPair)
  const hex = b4a.toString(keyPair.publicKey, 'hex')

  a.net.discovered(keyPair.publicKey)
  await until(() => a.net.proven(hex), 10000, 'the bare node to answer a greeting')
  const before = a.stats()
  await a.openAuction({ item: 'Pic#1', price: '75' })
  await until(() => heard.length > 0, 5000, 'the news to arrive')
  t.is(b4a.toString(heard[0].logs[0].author, 'hex'), a.id, 'it names the seller’s log')
  t.is(heard[0].logs[0].length, 1, 'and its new length')
  // Four times the request timeout without an answer
  await new Promise((resolve) => setTimeout(resolve, 2000))
  const after = a.stats()
  t.ok(after.notices > before.notices, 'sent as a notice')
  t.is(after.closed.timeout, before.closed.timeout, 'nothing timed out')
  t.ok(a.net.connected(hex), 'the connection stays')
  t.is(
    a.net.notify(UNKNOWN_KEY, METHODS.news, b4a.alloc(0)),
    false,
    'a key not connected gets none'
  )
  t.absent(a.net.connected(UNKNOWN_KEY), 'and no connection is made for it')
})
