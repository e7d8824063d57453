// A late joiner here takes a seller's long log from a child process: first raw Hypercore
// replication of the log over a raw RPC connection, then a new AuctionPeer applying all of it
const Corestore = require('corestore')
const b4a = require('b4a')
const path = require('path')
const {
  createPeer,
  watchWarnings,
  createRpc,
  spawnRemote,
  waitFor,
  now,
  log
} = require('./harness')

// As the follower opens a remote log (lib/follower.js)
const INFLIGHT_RANGE = [128, 1024]

async function catchUp(bootstrap, dir, { bids, bidders, inFlight, timeout }) {
  log(`  late-joiner catch-up of ${bids} bids (writing the log)`)
  const remote = await spawnRemote('history', bootstrap, {
    storage: path.join(dir, 'seller'),
    bids,
    bidders,
    inFlight
  })
  const { blocks, events } = remote.info
  try {
    log(`  late-joiner catch-up: ${events} events in ${blocks} blocks`)
    const raw = await rawReplication(bootstrap, path.join(dir, 'raw'), remote.info, timeout)
    const r = {
      catchUpEvents: events,
      catchUpBlocks: blocks,
      rawReplicationSeconds: raw.seconds,
      rawReplicationBlocksPerSec: blocks / raw.seconds,
      rawReplicationEventsPerSec: events / raw.seconds,
      rawReplicationFirstBlockMs: raw.firstMs,
      rawReplicationCpuMs: raw.cpuMs
    }
    try {
      const late = await lateJoiner(bootstrap, path.join(dir, 'late'), remote.info, timeout)
      r.catchUpSeconds = late.seconds
      r.catchUpEventsPerSec = events / late.seconds
      r.catchUpFirstEventMs = late.firstMs
      r.catchUpEventsPerSecAfterFirst = (events - 1) / (late.seconds - late.firstMs / 1000)
      r.catchUpEventsPerSecFromReady = events / (late.seconds - late.readyMs / 1000)
      r.catchUpCpuMs = late.cpuMs
    } catch (err) {
      r.catchUpError = err.message
    }
    return r
  } finally {
    await remote.stop()
  }
}

// A plain Corestore, the log opened by its key, replicated on a raw RPC connection to the seller
// (which replicates its store on every RPC connection it serves)
async function rawReplication(bootstrap, dir, { publicKey, logKey, blocks }, timeout) {
  const store = new Corestore(dir)
  const node = createRpc(bootstrap)
  try {
    const t = now()
    const cpu = process.cpuUsage()
    const core = store.get({ key: b4a.from(logKey, 'hex'), inflightRange: INFLIGHT_RANGE })
    await core.ready()
    let firstMs = 0
    core.once('download', () => {
      firstMs = now() - t
    })
    const client = node.rpc.connect(b4a.from(publicKey, 'hex'), { keyPair: node.keyPair })
    store.replicate(client.stream)
    const range = core.download({ start: 0, end: blocks })
    await waitFor(() => core.contiguousLength >= blocks, 'the raw replica', timeout)
    const seconds = (now() - t) / 1000
    range.destroy()
    return { seconds, firstMs, cpuMs: cpuMs(process.cpuUsage(cpu)) }
  } finally {
    await node.destroy()
    await store.close()
  }
}

// A new AuctionPeer finds the seller on the DHT and applies its whole log; its CPU is counted
// from ready(), the raw replica's from its start
async function lateJoiner(bootstrap, dir, { events }, timeout) {
  let applied = 0
  let firstMs = 0
  const t = now()
  const peer = createPeer(dir, bootstrap, { name: 'late' })
  const onevent = () => {
    if (applied++ === 0) firstMs = now() - t
  }
  peer.on('auction-opened', onevent)
  peer.on('bid-accepted', onevent)
  const warnings = watchWarnings(peer)
  try {
    await peer.ready()
    const readyMs = now() - t
    const cpu = process.cpuUsage()
    await waitFor(() => warnings.check() && applied >= events, 'the late joiner', timeout)
    return { seconds: (now() - t) / 1000, firstMs, readyMs, cpuMs: cpuMs(process.cpuUsage(cpu)) }
  } finally {
    await peer.close()
  }
}

// CPU of this process (all its threads) in ms
function cpuMs({ user, system }) {
  return (user + system) / 1000
}

module.exports = { catchUp }
