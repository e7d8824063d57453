// One process of the scale simulation (bench/scale.js): honest AuctionPeers and slow Sybils on
// the parent's testnet. It answers the parent's IPC messages { id, cmd, args } with
// { id, value } or { id, error }, sends { type: 'progress' } while starting, and exits once
// everything it made is closed.
const b4a = require('b4a')
const DHT = require('hyperdht')
const RPC = require('@hyperswarm/rpc')
const UDX = require('udx-native')
const path = require('path')
const { monitorEventLoopDelay } = require('perf_hooks')
const crypto = require('../lib/crypto')
const m = require('../lib/messages')
const { METHODS } = require('../lib/rpc')
const { RAW, createPeer, createRpc, within, cpuTime } = require('./harness')

// The shared DHT node, if any, and each measured peer's even share of its traffic
let shared = null
let sybilDht = null
function sharedShare() {
  if (shared === null || measured.length === 0) return {}
  return {
    packetsSent: shared.udx.packetsTransmitted / measured.length,
    bytesSent: shared.udx.bytesTransmitted / measured.length,
    bytesReceived: shared.udx.bytesReceived / measured.length
  }
}

// Openings in one block of the spammer's log
const SPAM_BLOCK = 50
// dht-rpc's default congestion window of one node
const DHT_WINDOW = 80
const SOCKET_BUFFER = 32 * 1024 * 1024
// A Sybil answers every request just under the peers' 3 s request timeout
const SYBIL_DELAY = 2900
const SYBIL_LOOKUP_INTERVAL = 5000
const SYBIL_HELLO_PEERS = 64
const CLOSE_BATCH = 50
const PROGRESS_INTERVAL = 5000
// A process still running this long after everything was closed holds a leaked handle
const EXIT_TIMEOUT = 5000

// The RSS of this process before it made any peer: what the parent subtracts
const baseline = process.memoryUsage().rss
const loop = monitorEventLoopDelay()
loop.enable()

// Honest peers that were ready in time (the measured set), all honest peers made, Sybils
const measured = []
const made = []
const sybils = []
// auction id -> Map(index in measured -> Date.now() of that peer's first 'auction-opened')
const arrivals = new Map()
const warnings = {}
let warningsBeforeSpam = {}
// Every Sybil's key in hex, to count how far they got into the honest peers
const sybilHex = new Set()
// Why peers failed to start
const failures = []

const commands = {
  async sybils({ bootstrap, network, first, count, total, batch, greets, sharedDht }) {
    // With --shared-dht the Sybils of this process share one DHT node too (not the honest
    // peers' one): each keeps its own key, RPC server, connections and lookups
    if (sharedDht && sybilDht === null) sybilDht = await sharedNode(bootstrap, count)
    const keys = []
    for (let i = 0; i < total; i++) keys.push(sybilKeyPair(network, i).publicKey)
    const topic = crypto.topic(network)
    for (let i = first; i < first + count; i += batch) {
      const started = []
      for (let j = i; j < Math.min(first + count, i + batch); j++) {
        const sybil = new Sybil(bootstrap, sybilKeyPair(network, j), topic, keys, {
          dht: sybilDht,
          greets
        })
        sybils.push(sybil)
        started.push(sybil.start())
      }
      await Promise.all(started)
    }
    return { sybils: sybils.length, rss: process.memoryUsage().rss }
  },

  async start({
    bootstrap,
    dir,
    network,
    first,
    count,
    batch,
    maxConnections,
    deadline,
    sybils,
    sharedDht
  }) {
    // One DHT node for all the peers of this process: each peer still has its own key, RPC
    // server and client, connections and store; only the routing node is shared
    if (sharedDht && shared === null) shared = await sharedNode(bootstrap, count)
    for (let i = 0; i < sybils; i++) {
      sybilHex.add(b4a.toString(sybilKeyPair(network, i).publicKey, 'hex'))
    }
    const firstCreatedAt = Date.now()
    // Peers ready after the deadline are left out of the measured set
    let late = false
    const progress = setInterval(() => {
      const connected = measured.filter((p) => p.stats().connections > 0).length
      process.send({ type: 'progress', made: made.length, ready: measured.length, connected })
    }, PROGRESS_INTERVAL)
    try {
      for (let i = first; i < first + count && Date.now() < deadline; i += batch) {
        const batchReady = []
        for (let j = i; j < Math.min(first + count, i + batch); j++) {
          const peer = createPeer(path.join(dir, 'peer-' + j), bootstrap, {
            network,
            name: 'peer-' + j,
            maxConnections,
            dht: shared || undefined
          })
          made.push(peer)
          peer.on('warning', (err) => {
            warnings[err.code] = (warnings[err.code] || 0) + 1
          })
          batchReady.push(
            peer.ready().then(
              () => late || track(peer),
              (err) => failures.push(err.message)
            )
          )
        }
        await until(Promise.all(batchReady), deadline)
      }
      const allConnected = await within(
        () => measured.every((p) => p.stats().connections > 0),
        Math.max(0, deadline - Date.now()),
        100
      )
      late = true
      const connected = measured.filter((p) => p.stats().connections > 0).length
      return {
        firstCreatedAt,
        doneAt: Date.now(),
        allConnected: allConnected && measured.length === count,
        made: made.length,
        ready: measured.length,
        failures,
        connected,
        rss: process.memoryUsage().rss
      }
    } finally {
      clearInterval(progress)
    }
  },

  stats() {
    const mem = process.memoryUsage()
    return {
      peers: measured.map((p) => ({ ...p.stats(), ...sharedShare(), ...sybilStats(p) })),
      rss: mem.rss,
      heapUsed: mem.heapUsed,
      baseline,
      cpu: cpuTime(),
      loopDelayP99: loop.percentile(99) / 1e6,
      warnings
    }
  },

  resetLoop() {
    loop.reset()
  },

  async open({ peer, item }) {
    const auction = await measured[peer].openAuction({ item, price: '1' })
    return { id: auction.id, seller: measured[peer].id, openedAt: Date.now() }
  },

  // Where the (peer, event) arrivals that never came stopped: the peer did not follow the
  // seller's log, followed it without a block of it, or held a block and never applied it.
  // Reads the peers' internals, so it may go stale as they change.
  misses({ ids, sellers }) {
    const out = { lacking: 0, notFollowing: 0, noBlocks: 0, blocksNotApplied: 0, connected: 0 }
    ids.forEach((id, e) => {
      const seen = arrivals.get(id) || new Map()
      measured.forEach((peer, i) => {
        if (seen.has(i) || peer.id === sellers[e]) return
        out.lacking++
        if (peer.net.connected(sellers[e])) out.connected++
        const follower = peer.logs.get(sellers[e])
        if (follower === undefined) out.notFollowing++
        else if (follower.core.length === 0) out.noBlocks++
        else out.blocksNotApplied++
      })
    })
    return out
  },

  // The first honest peer of this process turns spammer: it appends count openings to its own
  // log, SPAM_BLOCK to a block, past its own peer's checks (as a modified peer would), and
  // tells its peers
  async spam({ count }) {
    warningsBeforeSpam = { ...warnings }
    const peer = measured[0]
    for (let i = 0; i < count; i += SPAM_BLOCK) {
      const events = []
      for (let j = i; j < Math.min(count, i + SPAM_BLOCK); j++) {
        events.push({
          type: m.EVENT_OPENED,
          payload: {
            item: 'Spam#' + j,
            startPrice: 1000000n,
            currency: 'USDt',
            endsAt: 0,
            createdAt: Date.now(),
            terms: m.NO_TERMS
          }
        })
      }
      await peer.log.core.append(m.encode(m.block, events))
    }
    peer.news.announce()
    return { spammer: peer.id }
  },

  // Measured peers that dropped the spammer's log, and with which code; of the others, the
  // blocks of it they know of (its signed length) and have applied
  dropped({ spammer }) {
    const codes = {}
    let dropped = 0
    let known = 0
    let applied = 0
    for (const peer of measured) {
      if (peer.id === spammer) continue
      if (peer.logs.invalid.has(spammer)) {
        dropped++
        continue
      }
      const follower = peer.logs.get(spammer)
      if (follower === undefined) continue
      known += follower.length
      applied += follower.applied
    }
    // Warnings since the spam began only
    for (const [code, count] of Object.entries(warnings)) {
      const since = count - (warningsBeforeSpam[code] || 0)
      if (since > 0) codes[code] = since
    }
    return { dropped, codes, known, applied }
  },

  // How many measured peers hold each auction
  seen({ ids }) {
    return ids.map((id) => (arrivals.has(id) ? arrivals.get(id).size : 0))
  },

  arrivals({ ids }) {
    return ids.map((id) => (arrivals.has(id) ? [...arrivals.get(id)] : []))
  },

  async close() {
    for (let i = 0; i < made.length; i += CLOSE_BATCH) {
      await Promise.allSettled(made.slice(i, i + CLOSE_BATCH).map((peer) => peer.close()))
    }
    await Promise.allSettled(sybils.map((sybil) => sybil.close()))
    if (shared !== null) await shared.destroy()
    if (sybilDht !== null) await sybilDht.destroy()
    loop.disable()
    setTimeout(() => {
      process.stderr.write('  ! scale worker still running after closing everything\n')
      process.exit(1)
    }, EXIT_TIMEOUT).unref()
    return null
  }
}

// Sybils in a peer's table, and Sybils it holds a connection to
function sybilStats(peer) {
  if (sybilHex.size === 0) return { sybilsKnown: 0, sybilsConnected: 0 }
  const known = peer.peers().filter((info) => sybilHex.has(info.publicKey)).length
  let connected = 0
  for (const hex of sybilHex) if (peer.net.connected(hex)) connected++
  return { sybilsKnown: known, sybilsConnected: connected }
}

function track(peer) {
  const index = measured.push(peer) - 1
  peer.on('auction-opened', (auction) => {
    let list = arrivals.get(auction.id)
    if (list === undefined) arrivals.set(auction.id, (list = new Map()))
    if (!list.has(index)) list.set(index, Date.now())
  })
}

// A bare DHT node with an RPC server on the network's topic: it greets the honest peers it finds
// with a hello naming other Sybils (at most greets new ones per lookup, 0: all), and answers
// everything just before the request would time out
class Sybil {
  constructor(bootstrap, keyPair, topic, sybilKeys, { dht = null, greets = 0 } = {}) {
    this.node = dht === null ? createRpc(bootstrap, keyPair) : sharedRpc(dht, keyPair)
    this.keyPair = keyPair
    this.topic = topic
    this.sybilKeys = sybilKeys
    this.sybilHex = new Set(sybilKeys.map((key) => b4a.toString(key, 'hex')))
    this.instance = crypto.randomNonce()
    this.greeted = new Set()
    this.greets = greets
    this.clients = []
    this.timers = new Set()
    this.interval = null
    this.closing = false
  }

  async start() {
    const server = this.node.rpc.createServer()
    this._respond(server)
    await server.listen(this.keyPair)
    await this.node.dht.announce(this.topic, this.keyPair).finished()
    this.interval = setInterval(() => this._lookup(), SYBIL_LOOKUP_INTERVAL)
    this._lookup()
  }

  _respond(rpc) {
    for (const method of Object.values(METHODS)) {
      rpc.respond(method, RAW, () => this._answer(method))
    }
  }

  _answer(method) {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer)
        resolve(method === METHODS.hello ? this._hello() : b4a.alloc(0))
      }, SYBIL_DELAY)
      this.timers.add(timer)
    })
  }

  _hello() {
    const peers = []
    const keys = this.sybilKeys.slice()
    while (peers.length < SYBIL_HELLO_PEERS && keys.length > 0) {
      const key = keys.splice(Math.floor(Math.random() * keys.length), 1)[0]
      if (!b4a.equals(key, this.keyPair.publicKey)) peers.push(key)
    }
    return m.encode(m.hello, { name: 'sybil', length: 0, yours: 0, instance: this.instance, peers })
  }

  async _lookup() {
    if (this.closing) return
    let left = this.greets === 0 ? Infinity : this.greets
    try {
      for await (const data of this.node.dht.lookup(this.topic)) {
        for (const { publicKey } of data.peers) {
          if (left > 0 && !this.closing && this._greet(publicKey)) left--
        }
        if (this.closing || left === 0) break
      }
    } catch {
      // A lookup cut short by closing or a busy DHT: the next one finds the same peers
    }
  }

  // Greets an honest peer once, and keeps the connection: the peer may ask it things too.
  // False when it was greeted already.
  _greet(publicKey) {
    const hex = b4a.toString(publicKey, 'hex')
    if (this.closing || this.sybilHex.has(hex) || this.greeted.has(hex)) return false
    this.greeted.add(hex)
    const client = this.node.rpc.connect(publicKey, { keyPair: this.keyPair })
    this.clients.push(client)
    this._respond(client.rpc)
    client.request(METHODS.hello, this._hello(), RAW).catch(noop)
    return true
  }

  async close() {
    this.closing = true
    clearInterval(this.interval)
    for (const timer of this.timers) clearTimeout(timer)
    for (const client of this.clients) client.destroy()
    await this.node.destroy()
  }
}

// A DHT node that stands for the nodes of n peers. It sends the DHT requests of all of them
// (each server pings its relay nodes every 3 s): its congestion window is what their own
// nodes would have together, else requests queue behind pings and starts stall
async function sharedNode(bootstrap, n) {
  const dht = new DHT({
    bootstrap,
    host: '127.0.0.1',
    firewalled: false,
    maxWindow: DHT_WINDOW * n,
    udx: roomyUdx()
  })
  await dht.ready()
  return dht
}

// UDX whose sockets have large kernel buffers: a shared DHT node's socket carries the
// connections of all its peers, and with the default 208 KiB the kernel dropped about 10,000
// datagrams a second at N = 1,000, which timed requests out and tore connections down
function roomyUdx() {
  const udx = new UDX()
  const createSocket = udx.createSocket.bind(udx)
  udx.createSocket = (opts) => {
    const socket = createSocket(opts)
    const bind = socket.bind.bind(socket)
    socket.bind = (...args) => {
      const bound = bind(...args)
      // The kernel caps both at net.core.rmem_max / wmem_max
      socket.setRecvBufferSize(SOCKET_BUFFER)
      socket.setSendBufferSize(SOCKET_BUFFER)
      return bound
    }
    return socket
  }
  return udx
}

// An RPC node on a DHT node shared with others: destroying it leaves the DHT node up
function sharedRpc(dht, keyPair) {
  const rpc = new RPC({ dht, keyPair })
  return { dht, rpc, keyPair, destroy: () => rpc.destroy() }
}

// Every process derives the same Sybil keys from the network name and the Sybil's number
function sybilKeyPair(network, i) {
  return crypto.keyPair(crypto.hash(b4a.from(network + '/sybil/' + i)))
}

// Resolves when promise does, or at the deadline
async function until(promise, deadline) {
  let timer = null
  const timeout = new Promise((resolve) => {
    timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))
  })
  await Promise.race([promise, timeout])
  clearTimeout(timer)
}

function noop() {}

process.on('message', async ({ id, cmd, args }) => {
  try {
    const value = await commands[cmd](args || {})
    // After close the parent hears the answer, then the channel closes and the process exits
    if (process.connected) {
      process.send({ id, value }, () => cmd === 'close' && process.disconnect())
    }
  } catch (err) {
    if (process.connected) process.send({ id, error: err.stack || String(err) })
  }
})

process.send({ type: 'spawned', baseline })
