const AuctionError = require('../errors')

// An endpoint that has not answered by then counts as unreachable, never as a hang
const REQUEST_TIMEOUT = 5000
const POLL_INTERVAL = 250

let ids = 0

// Plain JSON-RPC over fetch: no provider cache (ethers shares answers for 250 ms, so a block
// number or nonce read right after mining is stale) and a deadline on every request
async function request(url, method, params = [], { timeout = REQUEST_TIMEOUT } = {}) {
  const signal = AbortSignal.timeout(timeout)
  let body
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: ++ids, method, params }),
      signal
    })
    if (!res.ok) {
      throw new Error(`HTTP ${res.status}`)
    }
    body = await res.json()
  } catch (err) {
    const why = signal.aborted ? `did not answer within ${timeout} ms` : describe(err)
    throw AuctionError.ENDPOINT_UNREACHABLE(`${endpoint(url)} ${why} (${method})`, err)
  }
  if (body === null || typeof body !== 'object') {
    throw AuctionError.ENDPOINT_UNREACHABLE(`${endpoint(url)} gave no JSON-RPC answer`)
  }
  if (body.error) {
    const err = AuctionError.RPC_ERROR(
      `${endpoint(url)} refused ${method}: ${body.error.message}`,
      body.error
    )
    err.rpcCode = body.error.code
    throw err
  }
  return body.result
}

async function chainIdOf(url, opts) {
  return BigInt(await request(url, 'eth_chainId', [], opts))
}

async function blockNumberOf(url, opts) {
  return Number(BigInt(await request(url, 'eth_blockNumber', [], opts)))
}

// Resolves with the receipt once the transaction is mined, or null at the deadline (epoch ms)
async function waitForReceipt(url, hash, { until, interval = POLL_INTERVAL, timeout } = {}) {
  while (true) {
    const receipt = await request(url, 'eth_getTransactionReceipt', [hash], { timeout })
    if (receipt) return receipt
    if (Date.now() + interval > until) return null
    await sleep(interval)
  }
}

// Rejects with onexpire() when the promise has not settled within ms
function deadline(promise, ms, onexpire) {
  let timer = null
  const expired = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(onexpire()), ms)
  })
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer))
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

// Only the host: a real endpoint's URL often carries an API key in its path or query
function endpoint(url) {
  try {
    return new URL(url).host || 'the endpoint'
  } catch {
    return 'the endpoint (not a URL)'
  }
}

function describe(err) {
  const cause = err && err.cause
  if (cause && cause.code === 'ECONNREFUSED') return 'refused the connection'
  if (cause && cause.code) return `failed: ${cause.code}`
  return `failed: ${(err && err.message) || err}`
}

module.exports = {
  request,
  chainIdOf,
  blockNumberOf,
  waitForReceipt,
  deadline,
  sleep,
  endpoint,
  REQUEST_TIMEOUT,
  POLL_INTERVAL
}
