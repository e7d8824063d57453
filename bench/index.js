// npm run bench [-- --quick] [-- --runs N]
// hyperauction side by side with raw @hyperswarm/rpc and raw Hyperbee, measured in the same run.
// Everything binds 127.0.0.1 on a private testnet.
const createTestnet = require('hyperdht/testnet')
const RPC = require('@hyperswarm/rpc')
const DHT = require('hyperdht')
const Corestore = require('corestore')
const Hyperbee = require('hyperbee')
const c = require('compact-encoding')
const b4a = require('b4a')
const fs = require('fs')
const os = require('os')
const path = require('path')
const { spawn } = require('child_process')
const AuctionPeer = require('..')
const m = require('../lib/messages')
const { Author } = require('../test/helpers/events')

const QUICK = process.argv.includes('--quick')
const RUNS = Number(argValue('--runs') || (QUICK ? 1 : 3))
const SEQ_REQUESTS = QUICK ? 500 : 2000
const PARALLEL_MS = QUICK ? 1000 : 3000
const CLIENTS = 8
const IN_FLIGHT = 8
const BEE_SEQ = QUICK ? 500 : 2000
const BEE_BATCHED = QUICK ? 5000 : 20000
const PROPAGATION_N = QUICK ? [3, 10] : [3, 10, 50]
const PROPAGATION_BIDS = QUICK ? 10 : 20
const CATCHUP_EVENTS = QUICK ? 2000 : 10000

async function main() {
  const started = Date.now()
  const testnet = await createTestnet(3, { host: '127.0.0.1' })
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hyperauction-bench-'))
  const runs = []

  try {
    for (let run = 0; run < RUNS; run++) {
      log(`run ${run + 1} of ${RUNS}`)
      const r = {}
      Object.assign(r, await rawRpc(testnet, tmp))
      Object.assign(r, await rawBee(path.join(tmp, 'bee-' + run)))
      Object.assign(r, await bidLatency(testnet, path.join(tmp, 'lat-' + run)))
      Object.assign(r, await sellerThroughput(testnet, path.join(tmp, 'thr-' + run)))
      runs.push(r)
    }
    const once = {}
    for (const n of PROPAGATION_N) Object.assign(once, await propagation(testnet, tmp, n))
    Object.assign(once, await catchUp(testnet, tmp))

    const med = {}
    for (const key of Object.keys(runs[0])) med[key] = median(runs.map((r) => r[key]))
    const results = { ...med, ...once }
    report(results, {
      runs: RUNS,
      quick: QUICK,
      seconds: Math.round((Date.now() - started) / 1000)
    })
  } finally {
    await testnet.destroy()
    fs.rmSync(tmp, { recursive: true, force: true })
  }
}

async function rawRpc(testnet) {
  log('  raw RPC')
  const remote = await spawnRemote(['rpc', bootstrapOf(testnet), '-'])
  const clients = []
  for (let i = 0; i < CLIENTS; i++) {
    clients.push(new RPC({ keyPair: DHT.keyPair(), bootstrap: testnet.bootstrap }))
  }
  try {
    const key = b4a.from(remote.info.publicKey, 'hex')
    const payload = b4a.alloc(170)
    const send = (rpc) => rpc.request(key, 'echo', payload, { valueEncoding: c.raw })
    for (const rpc of clients) await send(rpc)

    const samples = []
    for (let i = 0; i < SEQ_REQUESTS; i++) {
      const t = now()
      await send(clients[0])
      samples.push(now() - t)
    }
    const rps = await saturate(PARALLEL_MS, clients, (rpc) => send(rpc))
    return {
      rawRpcP50: percentile(samples, 50),
      rawRpcP99: percentile(samples, 99),
      rawRpcRps: rps
    }
  } finally {
    for (const rpc of clients) await rpc.destroy()
    await remote.stop()
  }
}

async function rawBee(dir) {
  log('  raw Hyperbee')
  const store = new Corestore(dir)
  const bee = new Hyperbee(store.get({ name: 'bench' }), {
    keyEncoding: 'utf-8',
    valueEncoding: 'binary'
  })
  await bee.ready()
  const value = b4a.alloc(250)
  try {
    const samples = []
    let t = now()
    for (let i = 0; i < BEE_SEQ; i++) {
      const s = now()
      await bee.put('seq/' + i, value)
      samples.push(now() - s)
    }
    const seq = BEE_SEQ / ((now() - t) / 1000)
    t = now()
    for (let i = 0; i < BEE_BATCHED; i += 500) {
      const batch = bee.batch()
      for (let j = i; j < i + 500; j++) await batch.put('batch/' + j, value)
      await batch.flush()
    }
    const batched = BEE_BATCHED / ((now() - t) / 1000)
    return { rawBeeSeqPuts: seq, rawBeePutP50: percentile(samples, 50), rawBeeBatchedPuts: batched }
  } finally {
    await bee.close()
    await store.close()
  }
}

// One bidder peer bids one bid at a time on a seller in another process
async function bidLatency(testnet, dir) {
  log('  bid decision latency')
  const remote = await spawnRemote(['seller', bootstrapOf(testnet), path.join(dir, 'seller'), '1'])
  const bidder = new AuctionPeer(path.join(dir, 'bidder'), peerOpts(testnet))
  try {
    await bidder.ready()
    const id = remote.info.auctions[0]
    await waitFor(() => bidder.views.has(id), 'the auction at the bidder')
    const samples = []
    for (let i = 0; i < SEQ_REQUESTS; i++) {
      const t = now()
      await bidder.placeBid(id, String(2 + i))
      samples.push(now() - t)
    }
    return { bidP50: percentile(samples, 50), bidP99: percentile(samples, 99) }
  } finally {
    await bidder.close()
    await remote.stop()
  }
}

// 8 bidders, each with 8 signed bids in flight on its own auction, against one seller process.
// The bidders are raw RPC clients with their own keys, so the measured process is the seller.
async function sellerThroughput(testnet, dir) {
  log('  seller throughput')
  const remote = await spawnRemote([
    'seller',
    bootstrapOf(testnet),
    path.join(dir, 'seller'),
    String(CLIENTS)
  ])
  const clients = []
  for (let i = 0; i < CLIENTS; i++) {
    const keyPair = DHT.keyPair()
    clients.push({
      rpc: new RPC({ keyPair, bootstrap: testnet.bootstrap }),
      author: new Author(keyPair),
      auction: b4a.from(remote.info.auctions[i], 'hex'),
      next: 1
    })
  }
  try {
    const seller = b4a.from(remote.info.publicKey, 'hex')
    let refused = 0
    const bid = async (client) => {
      const signed = client.author.bid(client.auction, String(client.next++))
      try {
        await client.rpc.request(seller, AuctionPeer.METHODS.bid, m.encode(m.bid, signed), {
          valueEncoding: c.raw
        })
      } catch (err) {
        refused++
        throw err
      }
    }
    for (const client of clients) await bid(client)
    const rps = await saturate(PARALLEL_MS, clients, bid)
    return { sellerBidsPerSec: rps, sellerRefused: refused }
  } finally {
    for (const client of clients) await client.rpc.destroy()
    await remote.stop()
  }
}

// Accept at the seller -> applied at every other peer, all peers in this process
async function propagation(testnet, tmp, n) {
  log(`  propagation and discovery, N = ${n}`)
  const rssBefore = process.memoryUsage().rss
  const peers = []
  const startTimes = []
  let lastStart = 0
  try {
    for (let i = 0; i < n; i++) {
      lastStart = now()
      const peer = new AuctionPeer(path.join(tmp, `prop-${n}-${i}`), peerOpts(testnet))
      peers.push(peer)
      await peer.ready()
      startTimes.push(now() - lastStart)
    }
    const last = peers[n - 1]
    await waitFor(() => last.peerTable.size === n - 1, 'the last peer to know all others', 60000)
    const lastDiscovery = now() - lastStart
    await waitFor(() => peers.every((p) => p.peerTable.size === n - 1), 'a full mesh', 60000)
    const fullMesh = now() - lastStart
    const rssPerPeer = (process.memoryUsage().rss - rssBefore) / n

    const [seller, bidder] = peers
    const a = await seller.openAuction({ item: 'Pic#1', price: '1' })
    await waitFor(() => peers.every((p) => p.views.has(a.id)), 'the auction everywhere')

    const samples = []
    let acceptedAt = 0
    seller.on('bid-accepted', () => {
      acceptedAt = now()
    })
    for (const p of peers.slice(1)) {
      p.on('bid-accepted', () => samples.push(now() - acceptedAt))
    }
    for (let i = 0; i < PROPAGATION_BIDS; i++) {
      const before = samples.length
      await bidder.placeBid(a.id, String(2 + i))
      await waitFor(() => samples.length === before + n - 1, 'the bid everywhere')
    }
    return {
      [`propagationP50N${n}`]: percentile(samples, 50),
      [`propagationP99N${n}`]: percentile(samples, 99),
      [`discoveryLastPeerN${n}`]: lastDiscovery,
      [`discoveryFullMeshN${n}`]: fullMesh,
      [`peerStartN${n}`]: median(startTimes),
      [`rssPerPeerMiBN${n}`]: rssPerPeer / 1024 / 1024
    }
  } finally {
    for (const peer of peers) await peer.close()
  }
}

// A new peer pulls a history of CATCHUP_EVENTS events from a peer in another process
async function catchUp(testnet, tmp) {
  log(`  late-joiner catch-up of ${CATCHUP_EVENTS} events`)
  const remote = await spawnRemote([
    'history',
    bootstrapOf(testnet),
    path.join(tmp, 'catchup-source'),
    String(CATCHUP_EVENTS)
  ])
  let late = null
  try {
    const t = now()
    late = new AuctionPeer(path.join(tmp, 'catchup-late'), peerOpts(testnet))
    await late.ready()
    await waitFor(
      () => late.heads.get(remote.info.author) === CATCHUP_EVENTS,
      'the late joiner',
      120000
    )
    const seconds = (now() - t) / 1000
    return { catchUpEvents: CATCHUP_EVENTS, catchUpEventsPerSec: CATCHUP_EVENTS / seconds }
  } finally {
    if (late) await late.close()
    await remote.stop()
  }
}

function report(r, meta) {
  const ms = (x) => x.toFixed(2) + ' ms'
  const num = (x) => Math.round(x).toLocaleString('en-US')
  const ratio = (x) => x.toFixed(2) + 'x'
  const rows = [
    ['raw RPC sequential latency p50 / p99', `${ms(r.rawRpcP50)} / ${ms(r.rawRpcP99)}`, ''],
    [
      'raw RPC parallel requests/s',
      num(r.rawRpcRps),
      `${CLIENTS} clients x ${IN_FLIGHT} in flight`
    ],
    [
      'raw Hyperbee sequential puts/s',
      num(r.rawBeeSeqPuts),
      `put latency p50 ${ms(r.rawBeePutP50)}`
    ],
    ['raw Hyperbee batched puts/s', num(r.rawBeeBatchedPuts), 'batches of 500'],
    [
      'bid decision latency p50 / p99',
      `${ms(r.bidP50)} / ${ms(r.bidP99)}`,
      `p50 = ${ratio(r.bidP50 / r.rawRpcP50)} raw RPC (target <= 3x)`
    ],
    [
      'seller throughput, bids/s',
      num(r.sellerBidsPerSec),
      `${((100 * r.sellerBidsPerSec) / r.rawRpcRps).toFixed(1)}% of raw parallel RPC (target >= 25%)`
    ]
  ]
  for (const n of PROPAGATION_N) {
    const target = n === 10 ? ' (target p99 <= 20 ms)' : n === 50 ? ' (target p99 <= 100 ms)' : ''
    rows.push([
      `propagation p50 / p99, N = ${n}`,
      `${ms(r[`propagationP50N${n}`])} / ${ms(r[`propagationP99N${n}`])}`,
      target.trim()
    ])
  }
  rows.push([
    'late-joiner catch-up, events/s',
    num(r.catchUpEventsPerSec),
    `${num(r.catchUpEvents)} events (target >= 10,000/s)`
  ])
  for (const n of PROPAGATION_N) {
    rows.push([
      `discovery, N = ${n}: last peer / full mesh`,
      `${ms(r[`discoveryLastPeerN${n}`])} / ${ms(r[`discoveryFullMeshN${n}`])}`,
      `after the last peer started; start (ready) p50 ${ms(r[`peerStartN${n}`])}`
    ])
  }
  // RSS does not shrink after the earlier figures, so only the largest network is meaningful
  const maxN = PROPAGATION_N[PROPAGATION_N.length - 1]
  rows.push([
    `memory, RSS per peer, N = ${maxN}`,
    r[`rssPerPeerMiBN${maxN}`].toFixed(1) + ' MiB',
    'all peers in one process'
  ])

  const machine = `${os.cpus().length} x ${os.cpus()[0].model}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`
  const width = Math.max(...rows.map((row) => row[0].length))
  const valueWidth = Math.max(...rows.map((row) => row[1].length))
  console.log(
    `\nhyperauction bench (${meta.quick ? 'quick, ' : ''}median of ${meta.runs} run(s) where repeated, ${meta.seconds} s)`
  )
  console.log(machine + '\n')
  for (const [name, value, note] of rows) {
    console.log(`${name.padEnd(width)}  ${value.padStart(valueWidth)}  ${note}`)
  }

  const file = path.join(
    __dirname,
    'results',
    `${meta.quick ? 'quick' : 'full'}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`
  )
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(
    file,
    JSON.stringify({ date: new Date().toISOString(), machine, ...meta, results: r }, null, 2) + '\n'
  )
  console.log(`\nwritten to ${path.relative(process.cwd(), file)}`)
}

// Keeps IN_FLIGHT requests going per client for ms, returns completed requests per second
async function saturate(ms, clients, fn) {
  const end = now() + ms
  let done = 0
  const lane = async (client) => {
    while (now() < end) {
      try {
        await fn(client)
        done++
      } catch {
        // counted by the caller where refusals matter
      }
    }
  }
  const t = now()
  const lanes = []
  for (const client of clients) for (let i = 0; i < IN_FLIGHT; i++) lanes.push(lane(client))
  await Promise.all(lanes)
  return done / ((now() - t) / 1000)
}

function spawnRemote(args) {
  const prof = process.env.BENCH_PROFILE
    ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.BENCH_PROFILE]
    : []
  const child = spawn(process.execPath, [...prof, path.join(__dirname, 'remote.js'), ...args], {
    stdio: ['pipe', 'pipe', 'inherit']
  })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout.setEncoding('utf-8')
    child.stdout.on('data', (data) => {
      out += data
      const nl = out.indexOf('\n')
      if (nl === -1) return
      resolve({
        info: JSON.parse(out.slice(0, nl)),
        stop: () => {
          child.stdin.end()
          return exited
        }
      })
    })
    child.once('exit', (code) => reject(new Error(`remote exited with ${code}`)))
  })
}

function peerOpts(testnet) {
  return { bootstrap: testnet.bootstrap, host: '127.0.0.1', firewalled: false, network: 'bench' }
}

function bootstrapOf(testnet) {
  return `${testnet.bootstrap[0].host}:${testnet.bootstrap[0].port}`
}

async function waitFor(fn, what, timeout = 30000) {
  const deadline = Date.now() + timeout
  while (!fn()) {
    if (Date.now() > deadline) throw new Error('Timed out waiting for ' + what)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

function percentile(samples, p) {
  const sorted = samples.slice().sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

function median(values) {
  const sorted = values.slice().sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

function now() {
  return Number(process.hrtime.bigint()) / 1e6
}

function argValue(name) {
  const i = process.argv.indexOf(name)
  return i === -1 ? null : process.argv[i + 1]
}

function log(line) {
  process.stderr.write(line + '\n')
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
