// What following a log costs: a follow-only AuctionPeer process beside a bare Corestore replica
// process of the same seller log (same storage settings, lib/storage.js), in the same window
// while the seller appends a stream of bids: CPU and RocksDB read and write batches per block in
// each process; then CPU at the follower for the first event of a new seller.
//   npm run bench (one of its figures), or alone:
//   node bench/follow.js [--quick] [--blocks N] [--rate R] [--lanes N] [--sellers N]
// BENCH_PROFILE=dir writes the window's CPU profile of the follower and of the bare replica
// there; FOLLOW_TRACE=1 adds where each one's read and write batches come from (the stacks that
// made them).
const createTestnet = require('hyperdht/testnet')
const b4a = require('b4a')
const fs = require('fs')
const os = require('os')
const path = require('path')
const AuctionPeer = require('..')
const crypto = require('../lib/crypto')
const m = require('../lib/messages')
const { createStore } = require('../lib/storage')
const {
  HOST,
  RAW,
  createPeer,
  createRpc,
  watchWarnings,
  codeOf,
  spawnChild,
  serveCommands,
  cpuTime,
  median,
  now,
  sleep,
  print,
  log
} = require('./harness')

// The stream: bids at rate a second, lanes of them in flight (a block holds one or a few), on
// auctions opened before it
const DEFAULTS = { blocks: 3000, rate: 300, lanes: 4, auctions: 8, sellers: 5, timeout: 180000 }
const QUICK = { blocks: 1000, sellers: 3 }
// How often a measured process checks its own progress: rarely, it is part of what is measured
const POLL = 20
// Idle CPU of each process is measured over this window before the stream
const IDLE_MS = 2000
// A new seller's connection to the follower settles (greetings both ways) before the mark
const SETTLE_MS = 500
// As the follower opens a remote log (lib/follower.js)
const INFLIGHT_RANGE = [128, 1024]

async function follow(bootstrap, dir, opts = {}) {
  const o = { ...DEFAULTS, ...opts }
  const deadline = Date.now() + o.timeout
  const left = () => Math.max(1, deadline - Date.now())
  const children = []
  const sellers = []
  try {
    const seller = await spawnFollow('seller', bootstrap, {
      storage: path.join(dir, 'seller'),
      auctions: o.auctions
    })
    children.push(seller)
    const follower = await spawnFollow('follower', bootstrap, {
      storage: path.join(dir, 'follower')
    })
    children.push(follower)
    const bare = await spawnFollow('bare', bootstrap, { storage: path.join(dir, 'bare') })
    children.push(bare)
    // The measured processes, in this order in every answer
    const measured = [
      { key: 'follow', child: follower },
      { key: 'bare', child: bare }
    ]
    const ask = (...command) => Promise.all(measured.map((p) => p.child.ask(...command)))
    const { publicKey, logKey } = seller.info
    const start = seller.info.length
    await bare.ask('follow', publicKey, logKey)
    const waitAll = (length) =>
      Promise.all([
        follower.ask('wait', publicKey, length, left()),
        bare.ask('wait', length, left())
      ])
    check(await waitAll(start))

    // First event of a new seller, while the follower runs (before the stream: the new sellers
    // follow the seller's log too, and its few blocks stay with the seller)
    log(`  follow: first event of ${o.sellers} new sellers`)
    const first = { ms: [] }
    for (const p of measured) first[p.key] = []
    for (let i = 0; i < o.sellers && Date.now() < deadline; i++) {
      const s = createPeer(path.join(dir, 'new-seller-' + i), bootstrap, { name: 'new-' + i })
      sellers.push(s)
      await s.ready()
      const connected = () => s.net.connected(follower.info.publicKey)
      await until(connected, 'a new seller to connect', left())
      await bare.ask('connect', s.id)
      await sleep(SETTLE_MS)
      const logHex = b4a.toString(crypto.logKey(s.publicKey), 'hex')
      const marks = check(
        await Promise.all([follower.ask('watch', s.id, left()), bare.ask('watch', logHex)])
      )
      const t = now()
      await s.openAuction({ item: 'first', price: '1' })
      const seen = check(await ask('seen'))
      first.ms.push(now() - t)
      measured.forEach((p, i) => first[p.key].push(seen[i].cpu - marks[i].cpu))
      await s.close()
    }

    const idle0 = await ask('sample')
    await sleep(IDLE_MS)
    const idle1 = await ask('sample')

    log(`  follow: the seller appends ${o.blocks} bids at ${o.rate}/s, ${o.lanes} in flight`)
    const before = await ask('sample', 'reset')
    const t = now()
    const stream = check([await seller.ask('stream', o.blocks, o.rate, o.lanes)])[0]
    const streamMs = now() - t
    const end = stream.length
    const after = check(await waitAll(end))
    const blocks = end - start
    const r = {
      followBlocks: blocks,
      followEvents: stream.events,
      followStreamSeconds: streamMs / 1000,
      followFirstEventP50Ms: median(first.ms),
      followFirstSellers: first.ms.length
    }
    measured.forEach(({ key }, i) => {
      const per = (name) => (after[i][name] - before[i][name]) / blocks
      r[key + 'CpuPerBlockMs'] = per('cpu')
      r[key + 'ReadsPerBlock'] = per('reads')
      r[key + 'GetsPerBlock'] = per('gets')
      r[key + 'WritesPerBlock'] = per('writes')
      r[key + 'TailMs'] = after[i].ms - before[i].ms - streamMs
      r[key + 'IdleCpuMsPerSec'] =
        ((idle1[i].cpu - idle0[i].cpu) * 1000) / (idle1[i].ms - idle0[i].ms)
      r[key + 'FirstCpuP50Ms'] = median(first[key])
      r[key + 'FirstCpuMeanMs'] = mean(first[key])
      if (after[i].trace) r[key + 'BatchSites'] = after[i].trace
    })
    r.followCpuRatio = r.followCpuPerBlockMs / r.bareCpuPerBlockMs
    r.followViewWrites = after[0].viewWrites - before[0].viewWrites
    return r
  } finally {
    for (const s of sellers) await s.close()
    for (const child of children.reverse()) await child.stop()
  }
}

// Answers of the children, or the first error one of them gave
function check(answers) {
  for (const a of answers) if (a.error) throw new Error(a.error)
  return answers
}

// The figure's lines of the bench table: [figure, hyperauction, raw baseline, target]
function rows(r) {
  if (r.followError) {
    return [['follow-only peer vs bare replica', 'failed: ' + r.followError, '', '']]
  }
  if (r.followCpuPerBlockMs === undefined) return []
  return [
    [
      `follow-only peer, CPU per block (${r.followBlocks} blocks, ${r.followEvents} events)`,
      `${f2(r.followCpuPerBlockMs)} ms (${f2(r.followCpuRatio)}x bare)`,
      `bare Corestore replica ${f2(r.bareCpuPerBlockMs)} ms`,
      target(r.followCpuRatio <= 1.5, '<= 1.5x')
    ],
    [
      'follow-only peer, RocksDB read / write batches per block',
      batches(r, 'follow'),
      batches(r, 'bare'),
      target(r.followReadsPerBlock <= 4, '<= 4 reads')
    ],
    [
      `first event of a new seller at a follower, CPU p50 / mean (${r.followFirstSellers} sellers)`,
      `${f2(r.followFirstCpuP50Ms)} / ${f2(r.followFirstCpuMeanMs)} ms (in ${f2(r.followFirstEventP50Ms)} ms)`,
      `bare: new core, first block ${f2(r.bareFirstCpuP50Ms)} ms`,
      ''
    ]
  ]
}

function notes(r) {
  if (r.followCpuPerBlockMs === undefined) return []
  return [
    `follow: stream ${f2(r.followStreamSeconds)} s; the follower wrote its view ${r.followViewWrites} times; last block applied ${Math.round(r.followTailMs)} ms after the last append (bare ${Math.round(r.bareTailMs)} ms); idle CPU follower ${f2(r.followIdleCpuMsPerSec)} ms/s, bare ${f2(r.bareIdleCpuMsPerSec)} ms/s`
  ]
}

function batches(r, key) {
  return `${f2(r[key + 'ReadsPerBlock'])} / ${f2(r[key + 'WritesPerBlock'])}`
}

function f2(x) {
  return x === undefined || Number.isNaN(x) ? '-' : x.toFixed(2)
}

function target(met, what) {
  return `${what}: ${met ? 'met' : 'missed'}`
}

function mean(values) {
  return values.reduce((a, b) => a + b, 0) / values.length
}

async function until(fn, what, timeout) {
  const deadline = Date.now() + timeout
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error('Timed out waiting for ' + what)
    await sleep(POLL)
  }
}

// A child process running this file with --child (child() below)
function spawnFollow(mode, bootstrap, args) {
  const json = JSON.stringify({ bootstrap, ...args })
  return spawnChild(__filename, ['--child', mode, json], { label: mode })
}

// The measured side: RocksDB's own counters of the process's one store, its CPU, and for a
// peer the writes of its view (appends of the view's core). A reset starts the window; with
// BENCH_PROFILE, the window's CPU profile is written at its end.
function sampler(store, name, view = null) {
  let viewWrites = 0
  if (view !== null) view.bee.core.on('append', () => viewWrites++)
  const stats = () => store.storage.db.stats
  const trace = process.env.FOLLOW_TRACE ? traceBatches() : null
  const profiler = process.env.BENCH_PROFILE ? profile(name) : null
  return (reset, end) => {
    if (reset && trace) trace.clear()
    if (reset && profiler) profiler.start()
    if (end && profiler) profiler.stop()
    const s = stats()
    const out = {
      cpu: cpuTime(),
      ms: now(),
      reads: s.readBatches,
      writes: s.writeBatches,
      gets: s.gets,
      viewWrites
    }
    if (trace) out.trace = trace.top(16)
    return out
  }
}

// The window's CPU profile, written as <BENCH_PROFILE>/<name>-<pid>.cpuprofile
function profile(name) {
  const inspector = require('inspector')
  const session = new inspector.Session()
  session.connect()
  let on = false
  return {
    start() {
      on = true
      session.post('Profiler.enable', () => session.post('Profiler.start'))
    },
    stop() {
      if (!on) return
      on = false
      session.post('Profiler.stop', (err, res) => {
        if (err) return log('  ! profile: ' + err.message)
        const file = path.join(process.env.BENCH_PROFILE, `${name}-${process.pid}.cpuprofile`)
        fs.writeFileSync(file, JSON.stringify(res.profile))
      })
    }
  }
}

// Counts read and write batches by the first frames outside RocksDB and hypercore-storage that
// made them
function traceBatches() {
  Error.stackTraceLimit = 40
  const State = require(path.join(path.dirname(require.resolve('rocksdb-native')), 'lib/state'))
  const sites = new Map()
  for (const [method, kind] of [
    ['createReadBatch', 'read'],
    ['createWriteBatch', 'write']
  ]) {
    const create = State.prototype[method]
    State.prototype[method] = function (db, opts) {
      const batch = create.call(this, db, opts)
      const site = kind + ': ' + callSite(new Error().stack)
      if (batch._traced !== true) {
        batch._traced = true
        const flush = batch._flush
        batch._flush = function () {
          sites.set(this._site, (sites.get(this._site) || 0) + 1)
          return flush.call(this)
        }
      }
      batch._site = site
      return batch
    }
  }
  return {
    clear: () => sites.clear(),
    top(n) {
      const all = [...sites].sort((a, b) => b[1] - a[1])
      return all.slice(0, n).map(([site, count]) => ({ site, count }))
    }
  }
}

function callSite(stack) {
  const frames = stack
    .split('\n')
    .slice(1)
    .map((l) => l.trim().replace(/^at /, ''))
    .filter((l) => !/rocksdb-native|hypercore-storage|bench\/follow\.js|node:internal/.test(l))
  // The caller of Hypercore tells whose read it is: the follower's, Hyperbee's or replication's
  const caller = frames.find((f) => !/node_modules\/hypercore\//.test(f))
  const own = frames.find((f) => /\/lib\/[a-z-]+\.js/.test(f) && !/node_modules/.test(f))
  const top = frames.slice(0, 2)
  for (const f of [caller, own]) if (f && !top.includes(f)) top.push(f)
  return top
    .map((f) => f.replace(/\(?\/.*node_modules\//, '(').replace(/\(?\/.*\/main\//, '('))
    .join(' < ')
}

async function child(mode, opts) {
  let close
  let info = {}
  const commands = {}
  if (mode === 'seller') {
    const peer = createPeer(opts.storage, opts.bootstrap, { name: 'seller' })
    await peer.ready()
    close = () => peer.close()
    const auctions = []
    for (let i = 0; i < opts.auctions; i++) {
      auctions.push((await peer.openAuction({ item: 'Lot#' + i, price: '1' })).id)
    }
    info = {
      publicKey: peer.id,
      logKey: b4a.toString(crypto.logKey(peer.publicKey), 'hex'),
      length: peer.log.core.length
    }
    commands.stream = async (bids, rate, lanes) => {
      const events = await stream(peer, auctions, opts.bootstrap, +bids, +rate, +lanes)
      await peer.log.flushed()
      return { length: peer.log.core.length, events }
    }
  } else if (mode === 'follower') {
    const peer = createPeer(opts.storage, opts.bootstrap, { name: 'follower' })
    const warnings = watchWarnings(peer)
    await peer.ready()
    close = () => peer.close()
    info = { publicKey: peer.id }
    const sample = sampler(peer.store, 'follower', peer.view)
    commands.sample = (reset) => sample(reset === 'reset')
    commands.wait = async (hex, length, timeout) => {
      await until(
        () => {
          warnings.check()
          const f = peer.logs.get(hex)
          return f !== undefined && f.applied >= Number(length)
        },
        'the follower',
        Number(timeout)
      )
      await peer.view.flushed()
      return sample(false, true)
    }
    let seen = null
    commands.watch = (hex, timeout) => {
      seen = new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          peer.off('auction-opened', onopened)
          reject(new Error('No first event of the new seller'))
        }, Number(timeout))
        const onopened = (auction) => {
          if (auction.seller !== hex) return
          clearTimeout(timer)
          peer.off('auction-opened', onopened)
          resolve(sample())
        }
        peer.on('auction-opened', onopened)
      })
      seen.catch(noop)
      return sample()
    }
    commands.seen = () => seen
  } else {
    const store = createStore(opts.storage)
    const node = createRpc(opts.bootstrap)
    await store.ready()
    const cores = []
    const clients = new Map()
    close = async () => {
      await node.destroy()
      for (const core of cores) await core.close()
      await store.close()
    }
    const sample = sampler(store, 'bare')
    const connect = async (hex) => {
      if (clients.has(hex)) return clients.get(hex)
      const client = node.rpc.connect(b4a.from(hex, 'hex'), { keyPair: node.keyPair })
      clients.set(hex, client)
      await client.stream.opened
      return client
    }
    const open = async (hex, logKey) => {
      const core = store.get({ key: b4a.from(logKey, 'hex'), inflightRange: INFLIGHT_RANGE })
      cores.push(core)
      await core.ready()
      core.replicate(clients.get(hex).stream)
      return core
    }
    let main = null
    commands.sample = (reset) => sample(reset === 'reset')
    commands.follow = async (hex, logKey) => {
      await connect(hex)
      main = await open(hex, logKey)
      main.download()
      return {}
    }
    commands.wait = async (length, timeout) => {
      await until(() => main.contiguousLength >= Number(length), 'the bare replica', +timeout)
      return sample(false, true)
    }
    commands.connect = async (hex) => {
      await connect(hex)
      return {}
    }
    let seen = null
    let watching = null
    commands.watch = (logKey) => {
      watching = logKey
      const mark = sample()
      seen = (async () => {
        const hex = [...clients.keys()].pop()
        const core = await open(hex, watching)
        core.download()
        await core.get(0)
        return sample()
      })()
      seen.catch(noop)
      return mark
    }
    commands.seen = () => seen
  }

  serveCommands(mode, info, commands, close)
}

// bids accepted bids over the seller's auctions at rate a second, lanes in flight, each lane a
// raw RPC bidder on its own auctions with rising amounts; resolves with the events appended
async function stream(peer, auctions, bootstrap, bids, rate, lanes) {
  const node = createRpc(bootstrap)
  const amounts = auctions.map(() => 1)
  const t = now()
  let sent = 0
  const lane = async (l) => {
    const keyPair = crypto.keyPair()
    const client = node.rpc.connect(peer.publicKey, { keyPair })
    while (sent < bids) {
      const i = sent++
      const wait = t + (i * 1000) / rate - now()
      if (wait > 0) await sleep(wait)
      // Lane l bids on auctions l, l + lanes, ...: one bidder at a time on an auction
      const a = l + lanes * (i % Math.ceil((auctions.length - l) / lanes))
      const body = {
        auction: b4a.from(auctions[a], 'hex'),
        bidder: keyPair.publicKey,
        amount: BigInt(++amounts[a]) * 1000000n,
        nonce: crypto.randomNonce(),
        createdAt: Date.now()
      }
      const req = m.encode(m.bid, crypto.signBid(body, keyPair))
      try {
        await client.request(AuctionPeer.METHODS.bid, req, RAW)
      } catch (err) {
        throw new Error('A bid was refused: ' + codeOf(err))
      }
    }
  }
  try {
    const all = []
    for (let l = 0; l < lanes; l++) all.push(lane(l))
    await Promise.all(all)
    return bids
  } finally {
    await node.destroy()
  }
}

function noop() {}

async function main() {
  const argv = process.argv
  const arg = (name) => {
    const i = argv.indexOf(name)
    return i === -1 ? undefined : Number(argv[i + 1])
  }
  const opts = argv.includes('--quick') ? { ...QUICK } : {}
  for (const name of ['blocks', 'rate', 'lanes', 'sellers']) {
    if (arg('--' + name) !== undefined) opts[name] = arg('--' + name)
  }
  const testnet = await createTestnet(3, { host: HOST })
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hyperauction-follow-'))
  try {
    const r = await follow(testnet.bootstrap, tmp, opts)
    const table = rows(r)
    const head = ['figure', 'hyperauction', 'raw baseline (same run)', 'target']
    const widths = head.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)))
    const line = (cells) => '| ' + cells.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |'
    console.log(line(head))
    console.log(line(widths.map((w) => '-'.repeat(w))))
    for (const row of table) console.log(line(row))
    console.log('\n' + notes(r).join('\n'))
    for (const key of ['followBatchSites', 'bareBatchSites']) {
      if (!r[key]) continue
      console.log(`\n${key} (batches in the window):`)
      for (const { site, count } of r[key]) console.log(`  ${count}  ${site}`)
    }
  } finally {
    await testnet.destroy()
    fs.rmSync(tmp, { recursive: true, force: true })
  }
}

if (process.argv[2] === '--child') {
  child(process.argv[3], JSON.parse(process.argv[4])).catch((err) => {
    print({ error: err.message })
    log(err.stack)
    process.exit(1)
  })
} else if (require.main === module) {
  main().catch((err) => {
    console.error(err)
    process.exitCode = 1
  })
}

module.exports = { follow, rows, notes, DEFAULTS, QUICK }
