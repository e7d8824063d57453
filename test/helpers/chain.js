const http = require('http')
const net = require('net')
const { once } = require('events')
const { startLocalChain } = require('../../lib/settlement/chain')

// A local anvil chain with TestUSDT deployed and minted to accounts[1..buyers], closed after
// the test
async function createChain(t, opts) {
  const chain = await startLocalChain(opts)
  t.teardown(() => chain.close())
  return chain
}

// A port on 127.0.0.1 that nothing listens on (it was free a moment ago)
async function closedPort() {
  const server = net.createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address()
  server.close()
  await once(server, 'close')
  return port
}

// An endpoint on 127.0.0.1 that forwards to url and passes each answer through
// rewrite(method, result), like a node that lags behind or lies
async function proxyEndpoint(t, url, rewrite) {
  const server = http.createServer(async (req, res) => {
    const chunks = []
    for await (const chunk of req) chunks.push(chunk)
    const call = JSON.parse(Buffer.concat(chunks).toString())
    const upstream = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(call)
    })
    const answer = await upstream.json()
    if (answer.result !== undefined) answer.result = rewrite(call.method, answer.result)
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify(answer))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => {
    server.closeAllConnections()
    return new Promise((resolve) => server.close(resolve))
  })
  return `http://127.0.0.1:${server.address().port}`
}

// An endpoint on 127.0.0.1 that takes every request and never answers, like a stalled node
async function silentEndpoint(t) {
  const server = http.createServer(() => {})
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => {
    server.closeAllConnections()
    return new Promise((resolve) => server.close(resolve))
  })
  return `http://127.0.0.1:${server.address().port}`
}

module.exports = { createChain, closedPort, proxyEndpoint, silentEndpoint }
