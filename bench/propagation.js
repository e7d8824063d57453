// N full peers in one process (a fresh child process per N, so its RSS is theirs alone): start,
// mesh, then one auction and a sequence of bids, each timed from the seller's append until
// every peer has emitted it
const path = require('path')
const { monitorEventLoopDelay } = require('perf_hooks')
const {
  createPeer,
  spawnRemote,
  waitFor,
  within,
  cpuTime,
  percentile,
  median,
  now,
  mib,
  log
} = require('./harness')

const CLOSE_BATCH = 20

// Runs measure() below in a child process
async function propagation(bootstrap, dir, n, opts) {
  log(`  propagation, N = ${n}`)
  const remote = await spawnRemote('propagation', bootstrap, { dir, n, ...opts })
  await remote.stop()
  return remote.info
}

async function measure(bootstrap, dir, n, { bids, startBatch, budget }) {
  const deadline = Date.now() + budget
  const rssBefore = process.memoryUsage().rss
  const peers = []
  const startMs = []
  const r = {}
  // Peers given up on while starting and meshing, and how late the event loop ran
  let dropped = 0
  const loop = monitorEventLoopDelay()
  loop.enable()
  const t0 = now()
  try {
    for (let i = 0; i < n && Date.now() < deadline; i += startBatch) {
      const batch = []
      for (let j = i; j < Math.min(n, i + startBatch); j++) {
        const peer = createPeer(path.join(dir, 'peer-' + j), bootstrap, { name: 'peer-' + j })
        peer.on('peer-remove', () => dropped++)
        peers.push(peer)
        const t = now()
        batch.push(peer.ready().then(() => startMs.push(now() - t)))
      }
      await Promise.all(batch)
      if (n >= 100) log(`    ${peers.length} peers started, ${Math.round(now() - t0)} ms`)
    }
    r['startedN' + n] = peers.length
    r['startSecondsN' + n] = (now() - t0) / 1000
    r['startP50MsN' + n] = percentile(startMs, 50)

    // Connections are bounded (32 by default, a quarter chosen by the peer): every peer is
    // connected to at least the 8 it chose, or to all the others when there are fewer
    const enough = Math.min(n - 1, 8)
    const meshed = await within(
      () => peers.every((p) => p.stats().connections >= enough),
      Math.max(0, deadline - Date.now()),
      100
    )
    const known = peers.map((p) => p.peers().length)
    r['meshedN' + n] = meshed
    r['meshSecondsN' + n] = (now() - t0) / 1000
    r['meshMinPeersN' + n] = Math.min(...known)
    r['meshMedianPeersN' + n] = median(known)
    r['connectionsPerPeerN' + n] = connections(peers) / peers.length
    r['droppedN' + n] = dropped
    loop.disable()
    r['loopDelayP99MsN' + n] = loop.percentile(99) / 1e6
    r['loopDelayMaxMsN' + n] = loop.max / 1e6
    const rss = process.memoryUsage().rss
    r['rssMiBN' + n] = mib(rss)
    r['rssPerPeerMiBN' + n] = mib(rss - rssBefore) / peers.length
    if (!meshed) {
      const ms = Math.round(r['loopDelayP99MsN' + n])
      log(
        `    not connected after ${r['meshSecondsN' + n].toFixed(0)} s: peers known min ${r['meshMinPeersN' + n]}, median ${r['meshMedianPeersN' + n]}; ${dropped} peers dropped; event loop delay p99 ${ms} ms`
      )
      return r
    }
    log(`    connected in ${r['meshSecondsN' + n].toFixed(1)} s, ${mib(rss).toFixed(0)} MiB RSS`)

    Object.assign(r, await events(peers, n, bids, deadline))
    return r
  } finally {
    const t = now()
    await closeAll(peers)
    r['closeSecondsN' + n] = (now() - t) / 1000
  }
}

// Each event: from the seller's own emit (right after its append resolved) until the last
// peer emitted it
async function events(peers, n, bids, deadline) {
  const [seller] = peers
  const arrivals = new Map()
  const arrive = (key, peer) => {
    const t = now()
    let a = arrivals.get(key)
    if (!a) arrivals.set(key, (a = { at: null, times: [] }))
    if (peer === seller) a.at = t
    else a.times.push(t)
  }
  for (const peer of peers) {
    peer.on('auction-opened', () => arrive('open', peer))
    peer.on('bid-accepted', (e) => arrive('bid/' + (e.bid.position - 1), peer))
  }
  const all = (key) => {
    const a = arrivals.get(key)
    return a !== undefined && a.at !== null && a.times.length === n - 1
  }
  // Events may take long past the budget, never forever
  const timeout = Math.max(30000, deadline - Date.now())

  const cpu = cpuTime()
  const auction = await seller.openAuction({ item: 'Lot', price: '1' })
  await waitFor(() => all('open'), 'the auction at every peer', timeout, 1)
  for (let i = 0; i < bids; i++) {
    const bidder = peers[1 + (i % (n - 1))]
    await bidder.placeBid(auction.id, String(2 + i))
    await waitFor(() => all('bid/' + i), 'a bid at every peer', timeout, 1)
  }

  // CPU of the whole process per event and per peer that applied it
  const cpuPerPeer = (cpuTime() - cpu) / (bids + 1) / (n - 1)
  const last = []
  const each = []
  // Map order: the opening first, then the bids
  for (const a of arrivals.values()) {
    last.push(Math.max(...a.times) - a.at)
    for (const t of a.times) each.push(t - a.at)
  }
  return {
    ['propagationP50N' + n]: percentile(last, 50),
    ['propagationP99N' + n]: percentile(last, 99),
    ['openMsN' + n]: last[0],
    ['bidsP99N' + n]: percentile(last.slice(1), 99),
    ['deliveryP50N' + n]: percentile(each, 50),
    ['propagationEventsN' + n]: last.length,
    // Every event in order, the opening first (peers open the seller's log for it)
    ['propagationMsN' + n]: last.map((ms) => Math.round(ms * 100) / 100),
    ['cpuPerEventPerPeerMsN' + n]: cpuPerPeer
  }
}

function connections(peers) {
  let all = 0
  for (const peer of peers) {
    for (const [, list] of peer.net.bound) all += list.length
  }
  return all
}

// A few at a time: each says bye to every peer it knows, and waits up to a second for answers
async function closeAll(peers) {
  for (let i = 0; i < peers.length; i += CLOSE_BATCH) {
    await Promise.all(peers.slice(i, i + CLOSE_BATCH).map((peer) => peer.close()))
  }
}

module.exports = { propagation, measure }
