// npm run bench -- --scale [--sizes 100,300,1000] [--procs 4] [--events 20] [--sybils 0.2]
//                         [--max-connections 32] [--shared-dht] [--interval 250] [--spam]
//                         [--sybil-greets K] [--sellers K] [--quick]
// The scale simulation of issue 12: N honest AuctionPeers spread over a few worker processes
// (bench/scale-worker.js) on a private testnet on 127.0.0.1, each size run clean and then with
// slow Sybils besides the N. Per run: start time, how fast E auctions reach every peer, and
// what each peer sends, holds and uses for them.
const createTestnet = require('hyperdht/testnet')
const fs = require('fs')
const os = require('os')
const path = require('path')
const { fork } = require('child_process')
const { commit } = require('./report')
const { MAX_OPEN_AUCTIONS } = require('../lib/constants')
const { HOST, percentile, sleep, mib, log } = require('./harness')

const QUICK = process.argv.includes('--quick')
const SIZES = (argValue('--sizes') || (QUICK ? '50,100' : '100,300,1000')).split(',').map(Number)
const PROCS = Number(argValue('--procs') || 4)
const EVENTS = Number(argValue('--events') || 20)
// The events come from this many sellers in turn, each of which opened one auction every peer
// holds before the measure (--sellers K): events on logs the peers already follow, as most are
// in a market (bids, a seller's next lot). 0: each event from a new seller, the first block of
// a log every other peer opens, asks a channel for and fetches.
const SELLERS = Number(argValue('--sellers') || 0)
// The share of slow Sybils in the second run of each size; 0 runs each size clean only
const SYBILS = Number(argValue('--sybils') || 0.2)
const MAX_CONNECTIONS = Number(argValue('--max-connections') || 32)
// New honest peers each Sybil greets per lookup (one every 5 s); 0: every peer it finds at once.
// Both ends of each Sybil's connection run on this machine: unpaced, 60 Sybils at N = 300 make
// 18,000 handshakes in about 30 s, the workers' sockets overflow, and what is measured is the
// machine's capacity and no longer the honest peers' defence. By default the Sybils together
// greet about SYBIL_GREET_BUDGET new peers per lookup, 1 to 4 each: 4 at N = 100 and 300, 1 at
// N = 1,000, where 200 Sybils greeting 4 each stalled the start
const SYBIL_GREETS = argValue('--sybil-greets')
const SYBIL_GREET_BUDGET = 240
const SYBIL_GREETS_MAX = 4
// One DHT routing node per worker process instead of one per peer (each peer keeps its own
// key, RPC server, connections and store): what is left is the auction protocol's own cost
const SHARED_DHT = process.argv.includes('--shared-dht')
// After each clean run, one honest peer turns spammer (--spam): it opens more auctions than a
// seller may hold
const SPAM = process.argv.includes('--spam')
const SPAM_EXTRA = 50
// Every peer fetches and applies the 1,000 openings the limit allows before it drops the log: 21
// blocks at about 10 ms of CPU each per peer here, so on 2 cores N peers take about N / 10 s
// (102-124 s at N = 1,000). The wait grows with N to match.
const SPAM_DEADLINE = 120 * 1000
const SPAM_DEADLINE_PER_PEER = 400
// Peers a worker starts at once, so the DHT is not stormed
const START_BATCH = 10
const SYBIL_BUDGET = 60 * 1000
// Start and connect every honest peer; past it the run goes on with the peers that are ready
const START_BUDGET = 3 * 60 * 1000
const SETTLE = 5000
// The idle rates come from a window with no events after settling
const IDLE_WINDOW = 5000
// One auction every this many ms (--interval): each costs the machine N times one peer's
// work, so a larger N needs more room between them for what is measured to be the protocol's
// delay and not the simulator's queue
const OPEN_INTERVAL = Number(argValue('--interval') || 250)
// How long after the last auction opened its arrivals are awaited
const EVENT_DEADLINE = 60 * 1000
const POLL_INTERVAL = 250
const PROGRESS_INTERVAL = 10000
// A worker that has not exited this long after it was asked to close is killed
const STOP_TIMEOUT = 30 * 1000

async function main() {
  const started = Date.now()
  const runs = []
  for (const n of SIZES) {
    const clean = await simulate(n, 0)
    runs.push(clean)
    if (SYBILS > 0) {
      const sybil = await simulate(n, SYBILS)
      if (sybil.reachAllP99 && clean.reachAllP99) {
        sybil.p99VsClean = sybil.reachAllP99 / clean.reachAllP99
      }
      runs.push(sybil)
    }
  }
  report(runs, Math.round((Date.now() - started) / 1000))
}

// One run: n honest peers, and share * n Sybils besides them
async function simulate(n, share) {
  const s = Math.round(share * n)
  const r = {
    n,
    sybils: s,
    sybilGreets: sybilGreets(s),
    procs: PROCS,
    events: EVENTS,
    interval: OPEN_INTERVAL,
    maxConnections: MAX_CONNECTIONS,
    sharedDht: SHARED_DHT
  }
  const network = 'scale-' + Date.now()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hyperauction-scale-'))
  log(`N = ${n}${s > 0 ? `, ${s} Sybils (${paceOf(r)})` : ', clean'} (${PROCS} processes)`)
  const t = Date.now()
  const testnet = await createTestnet(3, { host: HOST })
  const workers = []
  let progress = null
  try {
    for (let i = 0; i < PROCS; i++) workers.push(new Worker(i))
    const spawned = await Promise.all(workers.map((w) => w.spawned))
    const baseline = spawned.map((msg) => msg.baseline)
    const bootstrap = testnet.bootstrap
    const honest = split(n, PROCS)
    const sybils = split(s, PROCS)

    // Sybils first: the honest peers start into a network they are already in
    let beforeHonest = baseline
    if (s > 0) {
      const t0 = Date.now()
      const res = await deadline(
        Promise.all(
          workers.map((w, i) =>
            w.ask('sybils', {
              bootstrap,
              network,
              first: sybils.first[i],
              count: sybils.count[i],
              total: s,
              batch: START_BATCH,
              greets: r.sybilGreets,
              sharedDht: SHARED_DHT
            })
          )
        ),
        SYBIL_BUDGET,
        'the Sybils to start'
      )
      beforeHonest = res.map((x) => x.rss)
      r.sybilStartSeconds = (Date.now() - t0) / 1000
      r.mibPerSybil = mib(sum(beforeHonest) - sum(baseline)) / s
      log(`  ${s} Sybils started in ${r.sybilStartSeconds.toFixed(1)} s`)
    }

    progress = setInterval(() => {
      const p = workers.map((w) => w.progress).filter(Boolean)
      const total = (key) => sum(p.map((x) => x[key]))
      log(`  ${total('made')} made, ${total('ready')} ready, ${total('connected')} connected`)
    }, PROGRESS_INTERVAL)
    const startBy = Date.now() + START_BUDGET
    const start = await Promise.all(
      workers.map((w, i) =>
        w.ask('start', {
          bootstrap,
          dir,
          network,
          first: honest.first[i],
          count: honest.count[i],
          batch: START_BATCH,
          maxConnections: MAX_CONNECTIONS,
          deadline: startBy,
          sybils: s,
          sharedDht: SHARED_DHT
        })
      )
    )
    clearInterval(progress)
    const t0 = Math.min(...start.map((x) => x.firstCreatedAt))
    r.made = sum(start.map((x) => x.made))
    r.ready = sum(start.map((x) => x.ready))
    r.connected = sum(start.map((x) => x.connected))
    r.startComplete = start.every((x) => x.allConnected)
    r.startSeconds = (Math.max(...start.map((x) => x.doneAt)) - t0) / 1000
    r.startFailures = [].concat(...start.map((x) => x.failures)).slice(0, 5)
    log(
      r.startComplete
        ? `  all ${n} ready and connected in ${r.startSeconds.toFixed(1)} s`
        : `  start budget spent: ${r.made} made, ${r.ready} ready, ${r.connected} connected of ${n} in ${r.startSeconds.toFixed(1)} s`
    )
    const counts = start.map((x) => x.ready)
    const m = r.ready
    if (m < 2) throw new Error(`only ${m} honest peers ready`)

    await sleep(SETTLE)
    let sellers = null
    if (SELLERS > 0) {
      // Each seller's first auction, not measured: every peer follows its log from here
      const first = await openAuctions(workers, counts, SELLERS, null, 'First#')
      await arrived(
        workers,
        first.filter((o) => !o.error),
        m
      )
      sellers = first.filter((o) => !o.error).map((o) => ({ worker: o.worker, peer: o.peer }))
      r.sellers = sellers.length
      log(`  ${sellers.length} sellers followed by every peer`)
      await sleep(SETTLE)
    }
    const s1 = await stats(workers)
    await sleep(IDLE_WINDOW)
    const s2 = await stats(workers)
    await Promise.all(workers.map((w) => w.ask('resetLoop')))

    // What the peers hold while the events go round
    const watch = watchConnections(workers)
    let ok = []
    try {
      const opened = await openAuctions(workers, counts, EVENTS, sellers)
      ok = opened.filter((o) => !o.error)
      r.openFailures = opened.filter((o) => o.error).map((o) => o.error)
      await arrived(workers, ok, m)
    } finally {
      clearInterval(watch)
    }
    const ids = ok.map((o) => o.id)
    const eventsEnd = Date.now()
    const s3 = await stats(workers)
    const arrivals = await Promise.all(workers.map((w) => w.ask('arrivals', { ids })))

    Object.assign(r, delays(ok, arrivals, counts))
    if (r.missedArrivals > 0) {
      const sellers = ok.map((o) => o.seller)
      const misses = await Promise.all(workers.map((w) => w.ask('misses', { ids, sellers })))
      r.misses = mergeCounts(misses)
    }
    Object.assign(r, traffic(s1, s2, s3, m, ok.length, (eventsEnd - s2.at) / 1000))
    const snapshot = s3.workers
    r.rssMiB = mib(sum(snapshot.map((x) => x.rss)))
    r.mibPerPeer = mib(sum(snapshot.map((x, i) => x.rss - beforeHonest[i]))) / r.made
    r.workerBaselineMiB = mib(sum(baseline)) / PROCS
    r.loopDelayP99Ms = Math.max(...snapshot.map((x) => x.loopDelayP99))
    r.cpuPerEventPerPeerMs =
      sum(snapshot.map((x, i) => x.cpu - s2.workers[i].cpu)) / Math.max(1, ok.length) / m
    // CPU ms per second per peer with no events (it includes the worker's own few)
    r.idleCpuPerPeerMsPerSec =
      sum(s2.workers.map((x, i) => x.cpu - s1.workers[i].cpu)) / ((s2.at - s1.at) / 1000) / m
    r.warnings = mergeCounts(snapshot.map((x) => x.warnings))
    log('  ' + summary(r))
    if (SPAM && share === 0) {
      const before = snapshot.map((x, i) => x.rss - beforeHonest[i])
      Object.assign(r, await spam(workers, m, before, r.made))
      log(
        `  spam: ${r.spamDropped} of ${m - 1} peers dropped the log (${r.spamCode}) in ${sec(r.spamSeconds)}; ${r.mibPerPeer.toFixed(2)} -> ${r.spamMibPerPeer.toFixed(2)} MiB per peer`
      )
    }
  } catch (err) {
    r.error = err.message
    log(`  ! failed: ${err.message}`)
  } finally {
    clearInterval(progress)
    const stopped = await Promise.all(workers.map((w) => w.stop()))
    r.killedWorkers = stopped.filter((killed) => killed).length
    if (r.killedWorkers > 0) log(`  ! ${r.killedWorkers} workers did not exit in time: killed`)
    await testnet.destroy()
    fs.rmSync(dir, { recursive: true, force: true })
    r.seconds = (Date.now() - t) / 1000
  }
  return r
}

// One auction every OPEN_INTERVAL ms: by the sellers given, in turn, or each by a different
// honest peer, the workers in turn
async function openAuctions(workers, counts, events, sellers = null, name = 'Lot#') {
  const used = new Set()
  const opens = []
  const live = counts.map((c, i) => i).filter((i) => counts[i] > 0)
  // A peer of the next worker in turn that has not opened one yet
  const newSeller = (e) => {
    const worker = live[e % live.length]
    let peer = Math.floor(Math.random() * counts[worker])
    for (let tries = 0; used.has(worker + '/' + peer) && tries < 100; tries++) {
      peer = Math.floor(Math.random() * counts[worker])
    }
    used.add(worker + '/' + peer)
    return { worker, peer }
  }
  for (let e = 0; e < events; e++) {
    const { worker: w, peer } = sellers === null ? newSeller(e) : sellers[e % sellers.length]
    opens.push(
      workers[w].ask('open', { peer, item: name + e }).then(
        (res) => ({ ...res, worker: w, peer }),
        (err) => ({ error: err.message })
      )
    )
    await sleep(OPEN_INTERVAL)
  }
  return Promise.all(opens)
}

// Until every honest peer holds every auction opened, or EVENT_DEADLINE after the last opening
async function arrived(workers, ok, m) {
  const ids = ok.map((o) => o.id)
  const waitBy = Math.max(...ok.map((o) => o.openedAt)) + EVENT_DEADLINE
  let complete = false
  while (!complete && Date.now() < waitBy) {
    await sleep(POLL_INTERVAL)
    const seen = await Promise.all(workers.map((w) => w.ask('seen', { ids })))
    complete = ids.every((id, i) => sum(seen.map((x) => x[i])) === m)
  }
}

// Per event, from the seller's openAuction resolving: until the last other honest peer had it,
// and until each had it
function delays(opened, arrivals, counts) {
  const m = sum(counts)
  const reach = []
  const each = []
  let missed = 0
  opened.forEach((o, e) => {
    let last = 0
    let got = 0
    arrivals.forEach((list, w) => {
      for (const [peer, at] of list[e]) {
        if (w === o.worker && peer === o.peer) continue
        got++
        each.push(at - o.openedAt)
        last = Math.max(last, at - o.openedAt)
      }
    })
    missed += m - 1 - got
    reach.push(got === m - 1 ? last : Infinity)
  })
  const finite = (x) => (x === Infinity ? null : x)
  return {
    reachAllP50: finite(percentile(reach, 50)),
    reachAllP99: finite(percentile(reach, 99)),
    deliveryP50: percentile(each, 50),
    deliveryP99: percentile(each, 99),
    eventsIncomplete: reach.filter((x) => x === Infinity).length,
    missedArrivals: missed,
    reachAllMs: reach.map(finite)
  }
}

// One honest peer of worker 0 appends MAX_OPEN_AUCTIONS + SPAM_EXTRA openings to its log:
// how long until every other peer dropped the log, with which code, and what it cost their
// memory (before: each worker's RSS over its baseline before the spam)
async function spam(workers, m, before, made) {
  const started = Date.now()
  const { spammer } = await workers[0].ask('spam', { count: MAX_OPEN_AUCTIONS + SPAM_EXTRA })
  let dropped = 0
  let codes = {}
  let shown = started
  const watch = watchConnections(workers)
  try {
    while (Date.now() - started < SPAM_DEADLINE + m * SPAM_DEADLINE_PER_PEER) {
      await sleep(POLL_INTERVAL)
      const res = await Promise.all(workers.map((w) => w.ask('dropped', { spammer })))
      dropped = sum(res.map((x) => x.dropped))
      codes = mergeCounts(res.map((x) => x.codes))
      if (dropped >= m - 1) break
      if (Date.now() - shown >= PROGRESS_INTERVAL) {
        shown = Date.now()
        const known = sum(res.map((x) => x.known))
        const applied = sum(res.map((x) => x.applied))
        log(
          `  spam, ${sec((shown - started) / 1000)}: ${dropped} dropped; the others know of ${known} and applied ${applied} of its blocks`
        )
      }
    }
  } finally {
    clearInterval(watch)
  }
  const after = (await stats(workers)).workers
  const grown = Math.max(...after.map((x, i) => x.rss - x.baseline - before[i]))
  return {
    spamDropped: dropped,
    spamCode: codes.TOO_MANY_AUCTIONS ? 'TOO_MANY_AUCTIONS' : Object.keys(codes).join(', ') || '-',
    spamSeconds: (Date.now() - started) / 1000,
    spamMibPerPeer: mib(sum(after.map((x) => x.rss - x.baseline))) / made,
    spamGrowthMibPerPeer: mib(grown) / (made / workers.length)
  }
}

// Every PROGRESS_INTERVAL until cleared: the peers' connections, their event loops and why
// they closed connections
function watchConnections(workers) {
  return setInterval(() => {
    stats(workers)
      .then(({ peers, workers: w }) => {
        const conns = peers.map((p) => p.connections)
        const closed = mergeCounts(peers.map((p) => p.closed || {}))
        const why = Object.entries(closed)
          .filter(([, n]) => n > 0)
          .map(([k, n]) => `${k} ${n}`)
        log(
          `  connections ${mean(conns).toFixed(1)} mean, ${Math.min(...conns)} min, ${Math.max(...conns)} max; event loop delay p99 ${ms(Math.max(...w.map((x) => x.loopDelayP99)))}; closed so far: ${why.join(', ') || 'none'}`
        )
      })
      .catch(() => {})
  }, PROGRESS_INTERVAL)
}

// Sent per event and per honest peer, between the snapshots around the events; the idle rate is
// what the same peers sent while settling, with no events
function traffic(s1, s2, s3, m, events, eventSeconds) {
  const delta = (a, b, key) => sum(b.peers.map((p, i) => p[key] - a.peers[i][key]))
  const perEvent = (key) => delta(s2, s3, key) / Math.max(1, events) / m
  const idle = (key) => delta(s1, s2, key) / ((s2.at - s1.at) / 1000) / m
  const connections = s3.peers.map((p) => p.connections)
  return {
    packetsPerEventPerPeer: perEvent('packetsSent'),
    // Messages: the requests, and the news, which goes one way
    messagesPerEventPerPeer: perEvent('requests') + perEvent('notices'),
    requestsPerEventPerPeer: perEvent('requests'),
    bytesPerEventPerPeer: perEvent('bytesSent'),
    idlePacketsPerPeerPerSec: idle('packetsSent'),
    idleMessagesPerPeerPerSec: idle('requests') + idle('notices'),
    // The event window's packets less what the peers send idle in as long
    netPacketsPerEventPerPeer:
      perEvent('packetsSent') - (idle('packetsSent') * eventSeconds) / Math.max(1, events),
    connectionsMean: mean(connections),
    connectionsMax: Math.max(...connections),
    knownPeersMean: mean(s3.peers.map((p) => p.peers)),
    logsOpenMean: mean(s3.peers.map((p) => p.logsOpen)),
    sybilsKnownMean: mean(s3.peers.map((p) => p.sybilsKnown)),
    sybilsConnectedMean: mean(s3.peers.map((p) => p.sybilsConnected))
  }
}

async function stats(workers) {
  const at = Date.now()
  const res = await Promise.all(workers.map((w) => w.ask('stats')))
  return { at, workers: res, peers: [].concat(...res.map((x) => x.peers)) }
}

// A worker process and its IPC: ask(cmd, args) resolves with its answer, rejects if it exits
class Worker {
  constructor(index) {
    this.index = index
    const prof = process.env.BENCH_PROFILE
      ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.BENCH_PROFILE]
      : []
    this.child = fork(path.join(__dirname, 'scale-worker.js'), [], {
      execArgv: prof,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc']
    })
    this.pending = new Map()
    this.nextId = 0
    this.exitCode = undefined
    this.progress = null
    this.exited = new Promise((resolve) => this.child.once('exit', resolve))
    this.spawned = new Promise((resolve, reject) => {
      this._spawned = { resolve, reject }
    })
    this.child.on('message', (msg) => this._onmessage(msg))
    this.child.once('exit', (code, signal) => {
      this.exitCode = code === null ? signal : code
      const err = new Error(`worker ${index} exited (${this.exitCode})`)
      this._spawned.reject(err)
      for (const { reject } of this.pending.values()) reject(err)
      this.pending.clear()
    })
  }

  _onmessage(msg) {
    if (msg.type === 'spawned') return this._spawned.resolve(msg)
    if (msg.type === 'progress') {
      this.progress = msg
      return
    }
    const req = this.pending.get(msg.id)
    if (req === undefined) return
    this.pending.delete(msg.id)
    if (msg.error) req.reject(new Error(`worker ${this.index}: ${msg.error}`))
    else req.resolve(msg.value)
  }

  ask(cmd, args) {
    if (this.exitCode !== undefined) {
      return Promise.reject(new Error(`worker ${this.index} exited (${this.exitCode})`))
    }
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      this.child.send({ id, cmd, args })
    })
  }

  // Resolves true if the worker had to be killed
  async stop() {
    if (this.exitCode !== undefined) return false
    this.ask('close').catch(noop)
    let timer = null
    const late = new Promise((resolve) => {
      timer = setTimeout(resolve, STOP_TIMEOUT, true)
    })
    const killed = await Promise.race([this.exited.then(() => false), late])
    clearTimeout(timer)
    if (killed) {
      this.child.kill('SIGKILL')
      await this.exited
    }
    return killed
  }
}

// count split as evenly as can be over procs, and where each part starts
function split(count, procs) {
  const parts = { first: [], count: [] }
  let first = 0
  for (let i = 0; i < procs; i++) {
    const c = Math.floor(count / procs) + (i < count % procs ? 1 : 0)
    parts.first.push(first)
    parts.count.push(c)
    first += c
  }
  return parts
}

async function deadline(promise, ms, what) {
  let timer = null
  const timeout = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

function report(runs, seconds) {
  const rows = runs.map((r) => {
    const kind = r.sybils > 0 ? `+${r.sybils} Sybils (${paceOf(r)})` : 'clean'
    const cells = [String(r.n), r.sellers ? `${kind}, ${r.sellers} sellers` : kind]
    if (r.error && r.reachAllP50 === undefined) {
      return [...cells, 'failed: ' + r.error + (r.made ? ` (${r.ready} of ${r.n} ready)` : '')]
    }
    return [
      ...cells,
      r.startComplete ? sec(r.startSeconds) : `${r.connected}/${r.n} in ${sec(r.startSeconds)}`,
      `${ms(r.reachAllP50)} / ${ms(r.reachAllP99)}`,
      `${ms(r.deliveryP50)} / ${ms(r.deliveryP99)}`,
      `${r.eventsIncomplete} / ${r.missedArrivals}`,
      `${r.packetsPerEventPerPeer.toFixed(1)} (${r.netPacketsPerEventPerPeer.toFixed(1)})`,
      `${r.messagesPerEventPerPeer.toFixed(2)} (${r.requestsPerEventPerPeer.toFixed(2)})`,
      (r.bytesPerEventPerPeer / 1024).toFixed(1),
      `${r.connectionsMean.toFixed(1)} / ${r.connectionsMax}`,
      r.mibPerPeer.toFixed(2),
      r.logsOpenMean.toFixed(1),
      r.p99VsClean === undefined ? '' : r.p99VsClean.toFixed(2) + 'x'
    ]
  })
  const head = [
    'N',
    'run',
    'start',
    'reach-all p50 / p99',
    'delivery p50 / p99',
    'incomplete / missed',
    'packets/event/peer (net)',
    'messages (requests)/event/peer',
    'KiB/event/peer',
    'conns mean / max',
    'MiB/peer',
    'logs open',
    'p99 vs clean'
  ]
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] || '').length)))
  const line = (cells) => '| ' + cells.map((c, i) => (c || '').padEnd(widths[i])).join(' | ') + ' |'
  const machine = `${os.cpus().length} x ${os.cpus()[0].model}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`
  console.log(
    `\nhyperauction scale simulation (${PROCS} processes, ${EVENTS} events ${OPEN_INTERVAL} ms apart, max connections ${MAX_CONNECTIONS}, ${seconds} s)`
  )
  console.log(machine + '\n')
  console.log(line(head))
  console.log(line(widths.map((w) => '-'.repeat(w))))
  for (const row of rows) console.log(line(row))
  console.log(
    '\nstart: first peer made until every honest peer is ready with a connection; reach-all: an ' +
      "auction's openAuction resolving until the last honest peer emitted it; incomplete: events " +
      `not at every peer ${EVENT_DEADLINE / 1000} s after the last opening, missed: (peer, event) ` +
      'arrivals lacking; net: less what the peers send idle in as long; MiB/peer: RSS of the ' +
      'workers less their RSS before the honest peers, per honest peer; Sybils (K per lookup): ' +
      'each greets K new honest peers per lookup, one lookup every 5 s'
  )
  for (const r of runs) {
    if (r.idlePacketsPerPeerPerSec === undefined) continue
    const top = Object.entries(r.warnings)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 4)
      .map(([code, count]) => `${code} ${count}`)
    console.log(
      `N = ${r.n}${r.sybils ? ` +${r.sybils} Sybils` : ''}: idle ${r.idlePacketsPerPeerPerSec.toFixed(1)} packets and ${r.idleMessagesPerPeerPerSec.toFixed(2)} messages per peer per s; CPU ${r.cpuPerEventPerPeerMs.toFixed(2)} ms per event and peer, idle ${r.idleCpuPerPeerMsPerSec.toFixed(2)} ms per s and peer; event loop delay p99 ${ms(r.loopDelayP99Ms)}; known peers ${r.knownPeersMean.toFixed(1)}; ${r.misses ? `missed arrivals: ${r.misses.notFollowing} not following the seller, ${r.misses.noBlocks} following without a block, ${r.misses.blocksNotApplied} holding blocks not applied (${r.misses.connected} connected to the seller); ` : ''}${r.sybils ? `Sybils known ${r.sybilsKnownMean.toFixed(1)}, connected ${r.sybilsConnectedMean.toFixed(1)} per peer, ${r.mibPerSybil.toFixed(2)} MiB per Sybil; ` : ''}warnings: ${top.join(', ') || 'none'}; run ${sec(r.seconds)}`
    )
    if (r.spamDropped !== undefined) {
      console.log(
        `N = ${r.n} spam: one key appended ${MAX_OPEN_AUCTIONS + SPAM_EXTRA} openings; ${r.spamDropped} of ${r.ready - 1} peers dropped its log (${r.spamCode}) within ${sec(r.spamSeconds)}; memory ${r.mibPerPeer.toFixed(2)} MiB per peer before, ${r.spamMibPerPeer.toFixed(2)} after`
      )
    }
  }

  const date = new Date().toISOString()
  const file = path.join(__dirname, 'results', 'scale-' + date.replace(/[:.]/g, '-') + '.json')
  fs.mkdirSync(path.dirname(file), { recursive: true })
  const meta = {
    quick: QUICK,
    sizes: SIZES,
    procs: PROCS,
    events: EVENTS,
    interval: OPEN_INTERVAL,
    sybils: SYBILS,
    sellers: SELLERS
  }
  const json = { date, machine, commit: commit(), bench: 'scale', ...meta, seconds, runs }
  fs.writeFileSync(file, JSON.stringify(json, null, 2) + '\n')
  console.log(`\nwritten to ${path.relative(process.cwd(), file)}`)
}

function summary(r) {
  return `reach-all p50 ${ms(r.reachAllP50)} p99 ${ms(r.reachAllP99)}, ${r.missedArrivals} arrivals missed; ${r.packetsPerEventPerPeer.toFixed(1)} packets and ${r.messagesPerEventPerPeer.toFixed(2)} messages (${r.requestsPerEventPerPeer.toFixed(2)} requests) per event per peer; ${r.connectionsMean.toFixed(1)} connections per peer (max ${r.connectionsMax}); ${r.mibPerPeer.toFixed(2)} MiB per peer`
}

function mergeCounts(list) {
  const out = {}
  for (const counts of list) {
    for (const [key, n] of Object.entries(counts)) out[key] = (out[key] || 0) + n
  }
  return out
}

function sum(values) {
  return values.reduce((a, b) => a + b, 0)
}

function mean(values) {
  return values.length === 0 ? 0 : sum(values) / values.length
}

function ms(x) {
  return x === null || x === undefined ? '-' : Math.round(x) + ' ms'
}

function sec(x) {
  return x === undefined ? '-' : x.toFixed(1) + ' s'
}

// New honest peers each of s Sybils greets per lookup
function sybilGreets(s) {
  if (SYBIL_GREETS !== null) {
    const greets = Number(SYBIL_GREETS)
    if (!Number.isInteger(greets) || greets < 0) {
      throw new Error(`--sybil-greets takes a whole number of peers, 0 for all: ${SYBIL_GREETS}`)
    }
    return greets
  }
  return Math.min(SYBIL_GREETS_MAX, Math.max(1, Math.floor(SYBIL_GREET_BUDGET / s)))
}

function paceOf(r) {
  return r.sybilGreets === 0 ? 'unpaced' : `${r.sybilGreets} per lookup`
}

function argValue(name) {
  const i = process.argv.indexOf(name)
  return i === -1 ? null : process.argv[i + 1]
}

function noop() {}

module.exports = { main }
