const test = require('brittle')
const m = require('../lib/messages')
const lag = require('../lib/lag')
const AuctionError = require('../lib/errors')
const { METHODS } = require('../lib/rpc')
const {
  createPeers,
  createBootstrap,
  createPeer,
  rawNode,
  rejects,
  until,
  RAW
} = require('./helpers')

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

test('on a busy process a request that times out leaves the connection up and the peer in good standing; on an idle one the connection is dropped', async (t) => {
  const testnet = await createBootstrap(t)
  const a = await createPeer(t, testnet, { name: 'a', requestTimeout: 500 })
  // A key that takes every connection and never answers the logs method
  const { rpc, keyPair } = rawNode(t, testnet, { firewalled: false })
  const server = rpc.createServer()
  server.respond(METHODS.logs, RAW, () => new Promise(() => {}))
  await server.listen(keyPair)
  const hex = keyPair.publicKey.toString('hex')
  const logs = () =>
    a.net.request(keyPair.publicKey, METHODS.logs, m.encode(m.logsRequest, { after: null }))
  const busy = lag.busy
  t.teardown(() => {
    lag.busy = busy
  })

  lag.busy = () => true
  const before = a.stats().closed.timeout
  await rejects(t, logs(), 'REQUEST_TIMEOUT', 'busy: the request times out')
  t.ok(a.net.connected(hex), 'and the connection stays')
  t.is(a.stats().closed.timeout, before, 'nothing was closed for the timeout')
  t.absent(a.net.fail(hex, AuctionError.REQUEST_TIMEOUT()), 'the silence does not count')

  lag.busy = () => false
  await rejects(t, logs(), 'REQUEST_TIMEOUT', 'idle: the request times out')
  t.is(a.stats().closed.timeout, before + 1, 'and the connection is closed')
  await until(() => !a.net.connected(hex), 5000, 'the connection to go')
})
