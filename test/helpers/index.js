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

// Every peer in the list holds what test(auction) accepts
function everywhere(peers, id, test = () => true, timeout = 10000) {
  return until(
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

// Polls a condition that has no single event to await (convergence across many peers)
async function until(fn, timeout = 10000, what = 'condition') {
  const deadline = Date.now() + timeout
  for (;;) {
    if (await fn()) return
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

function once(emitter, name, filter = () => true) {
  return new Promise((resolve) => {
    const onevent = (value) => {
      if (!filter(value)) return
      emitter.off(name, onevent)
      resolve(value)
    }
    emitter.on(name, onevent)
  })
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
  digests,
  converged
}
