const test = require('brittle')
const m = require('../lib/messages')
const { METHODS } = require('../lib/rpc')
const { createPeers } = require('./helpers')

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
