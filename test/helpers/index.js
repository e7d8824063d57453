const createTestnet = require('hyperdht/testnet')
const RPC = require('@hyperswarm/rpc')
const DHT = require('hyperdht')
const c = require('compact-encoding')
const path = require('path')
const AuctionPeer = require('../..')
const Network = require('../../lib/network')
const crypto = require('../../lib/crypto')
const m = require('../../lib/messages')

// Bare RPC nodes speak the peers' binary methods raw
const RAW = { requestEncoding: c.raw, responseEncoding: c.raw }

// The events that change an auction a peer holds, and those that change its known peers
const AUCTION_EVENTS = [
  'auction-opened',
  'bid-accepted',
  'auction-extended',
  'bidder-refused',
  'auction-closed',
  'auction-paid',
  'payment-lapsed',
  'second-chance',
  'offer-accepted',
  'dispute',
  'recovered'
]
const PEER_EVENTS = ['peer-add', 'peer-remove']

// A private DHT on 127.0.0.1, torn down after the test's peers
function createBootstrap(t) {
  return createTestnet(3, { host: '127.0.0.1', teardown: t.teardown })
}

async function createPeer(t, testnet, opts = {}) {
  const dir = opts.storage || path.join(await t.tmp(), 'peer')
  const peer = new AuctionPeer(dir, {
    bootstrap: testnet.bootstrap,
    host: '127.0.0.1',
    firewalled: false,
    network: opts.network || 'test',
    ...opts
  })
  t.teardown(() => peer.close(), { order: 0 })
  await peer.ready()
  return peer
}

// n peers that all know each other
async function createPeers(t, n, opts = {}) {
  const testnet = opts.testnet || (await createBootstrap(t))
  const peers = []
  for (let i = 0; i < n; i++) {
    peers.push(await createPeer(t, testnet, { name: 'Client#' + (i + 1), ...opts.peer }))
  }
  await meshed(peers)
  return { testnet, peers }
}

// Polled rather than checked at each peer-add: a peer is added before its greeting back proves
// it, and test/faults.js's dead peer is dropped only once proven
function meshed(peers, timeout = 20000) {
  return until(() => peers.every((p) => p.peers().length >= peers.length - 1), timeout, 'mesh')
}

// The auction as a peer holds it, or null if it does not know it
async function auctionAt(peer, id) {
  try {
    return await peer.getAuction(id)
  } catch (err) {
    if (err.code === 'AUCTION_NOT_FOUND') return null
    throw err
  }
}

async function holds(peer, id) {
  return (await auctionAt(peer, id)) !== null
}

async function count(peer) {
  return (await peer.listAuctions()).length
}

// Every peer in the list holds what test(auction) accepts: checked again at each event that
// changes an auction a peer holds
function everywhere(peers, id, test = () => true, timeout = 10000) {
  return when(
    peers,
    AUCTION_EVENTS,
    async () => {
      for (const peer of peers) {
        const a = await auctionAt(peer, id)
        if (a === null || !test(a)) return false
      }
      return true
    },
    timeout,
    `auction ${id.slice(0, 6)} everywhere`
  )
}

function noop() {}

// Polls a condition that no event of a peer says (connections, digests, another process's
// output)
async function until(fn, timeout = 10000, what = 'condition') {
  const deadline = Date.now() + timeout
  for (;;) {
    if (await fn()) return
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

// The first `name` event that filter accepts. Listen before the action that causes it. With a
// timeout, fails naming what was awaited if none comes in time.
function once(emitter, name, filter = () => true, timeout = 0, what = `'${name}'`) {
  // Made here, so that its stack names the test that waited
  const timedOut = timeout > 0 ? new Error(`Timed out waiting for ${what}`) : null
  const promise = new Promise((resolve, reject) => {
    const timer = timeout > 0 ? setTimeout(ontimeout, timeout) : null
    function onevent(value) {
      if (!filter(value)) return
      emitter.off(name, onevent)
      clearTimeout(timer)
      resolve(value)
    }
    function ontimeout() {
      emitter.off(name, onevent)
      reject(timedOut)
    }
    emitter.on(name, onevent)
  })
  // A test that failed before awaiting it still fails for its own reason
  promise.catch(noop)
  return promise
}

// Resolves once check() holds: tested now, then again at each of the named events of the
// emitters, for state that only those events change (the listeners are on before the first
// test, so a change cannot slip in between). Fails naming what after timeout.
function when(emitters, names, check, timeout = 10000, what = 'condition') {
  const timedOut = new Error(`Timed out waiting for ${what}`)
  const promise = new Promise((resolve, reject) => {
    const listeners = []
    let done = false
    let testing = false
    let again = false
    const finish = (err) => {
      if (done) return
      done = true
      clearTimeout(timer)
      for (const [emitter, name] of listeners) emitter.off(name, retest)
      if (err) reject(err)
      else resolve()
    }
    // One test at a time: events during a test make one more test after it
    async function retest() {
      if (testing) {
        again = true
        return
      }
      testing = true
      try {
        do {
          again = false
          if (await check()) finish(null)
        } while (again && !done)
      } catch (err) {
        finish(err)
      } finally {
        testing = false
      }
    }
    const timer = setTimeout(() => finish(timedOut), timeout)
    for (const emitter of emitters) {
      for (const name of names) {
        emitter.on(name, retest)
        listeners.push([emitter, name])
      }
    }
    retest()
  })
  promise.catch(noop)
  return promise
}

function digests(peers) {
  return Promise.all(peers.map((p) => p.digest()))
}

async function converged(peers, timeout = 15000) {
  await until(
    async () => {
      const all = await digests(peers)
      return all.every((d) => d === all[0])
    },
    timeout,
    'equal digests'
  )
}

// A bare Hyperswarm RPC node on the test's DHT, with no hyperauction code behind it, torn down
// with the test. A server on this host needs firewalled: false, or connections to it time out.
function rawNode(t, testnet, { keyPair = DHT.keyPair(), firewalled = true } = {}) {
  const dht = new DHT({ keyPair, bootstrap: testnet.bootstrap, host: '127.0.0.1', firewalled })
  const rpc = new RPC({ dht, keyPair })
  t.teardown(async () => {
    await rpc.destroy()
    await dht.destroy()
  })
  return { dht, rpc, keyPair }
}

// A Network on a bare DHT node, with no peer around it: the test gives its greet() and fakes or
// makes the connections; the store only hears of replication
async function bareNetwork(t, testnet, opts) {
  const { dht, keyPair } = rawNode(t, testnet)
  const net = new Network({
    dht,
    keyPair,
    store: { replicate: () => {} },
    topic: crypto.topic('bare'),
    ...opts
  })
  await net.ready()
  t.teardown(() => net.close())
  return net
}

function rawClient(t, testnet, keyPair = DHT.keyPair()) {
  return rawNode(t, testnet, { keyPair }).rpc
}

// The encoded hello of a bare node that holds no log: its name and the keys it passes on, under
// a new instance id
function emptyHello(name, peers = []) {
  return m.encode(m.hello, { name, length: 0, yours: 0, instance: crypto.randomNonce(), peers })
}

// Asserts that promise rejects with code; resolves with the error
async function rejects(t, promise, code, message) {
  try {
    await promise
    t.fail(message + ': resolved')
    return null
  } catch (err) {
    t.is(err.code, code, message)
    return err
  }
}

// The code a synchronous call throws, or 'ok'
function codeOf(fn) {
  try {
    fn()
    return 'ok'
  } catch (err) {
    return err.code
  }
}

module.exports = {
  RAW,
  emptyHello,
  codeOf,
  rejects,
  rawNode,
  bareNetwork,
  rawClient,
  auctionAt,
  holds,
  count,
  everywhere,
  createBootstrap,
  createPeer,
  createPeers,
  meshed,
  until,
  once,
  when,
  AUCTION_EVENTS,
  PEER_EVENTS,
  digests,
  converged
}
