// npm run bench [-- --quick] [-- --runs N] [-- --n200] [-- --bidder-processes N]
// npm run bench -- --scale [...]: the scale simulation only (bench/scale.js)
// hyperauction side by side with raw @hyperswarm/rpc, Hyperbee and Hypercore, measured in the
// same run. Everything binds 127.0.0.1 on a private testnet.
const createTestnet = require('hyperdht/testnet')
const fs = require('fs')
const os = require('os')
const path = require('path')
const { rawRpc, rawBee, rawCore, rawVerify, rawPush } = require('./baselines')
const { bidLatency, sellerThroughput } = require('./bids')
const { catchUp } = require('./catch-up')
const { follow, QUICK: FOLLOW_QUICK } = require('./follow')
const { propagation } = require('./propagation')
const { report } = require('./report')
const { HOST, median, log } = require('./harness')

const QUICK = process.argv.includes('--quick')
const RUNS = Number(argValue('--runs') || (QUICK ? 1 : 3))
const CLIENTS = 8
// Where the throughput figure's bidder peers run: 0 in this process, else that many children
const BIDDER_PROCESSES = Number(argValue('--bidder-processes') || 0)
const IN_FLIGHT = 8
const SEQUENTIAL = QUICK ? 300 : 2000
const PARALLEL_MS = QUICK ? 1000 : 3000
const BEE = { sequential: QUICK ? 300 : 2000, batched: QUICK ? 5000 : 20000, batch: 500 }
const CORE = {
  sequential: QUICK ? 300 : 2000,
  batched: QUICK ? 6400 : 64000,
  batch: 64,
  blockBytes: 256
}
const CATCH_UP = {
  bids: QUICK ? 2000 : 10000,
  bidders: CLIENTS,
  inFlight: IN_FLIGHT,
  timeout: 120000
}
const SIZES = QUICK ? [3, 10] : [3, 10, 50]
if (process.argv.includes('--n200')) SIZES.push(200)
const PROPAGATION = {
  bids: QUICK ? 10 : 30,
  startBatch: 5,
  // Start and mesh; past it the figure reports how far it got
  budget: 180000
}

async function main() {
  const started = Date.now()
  const testnet = await createTestnet(3, { host: HOST })
  const bootstrap = testnet.bootstrap
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hyperauction-bench-'))
  const runs = []

  try {
    for (let run = 0; run < RUNS; run++) {
      log(`run ${run + 1} of ${RUNS}`)
      const dir = path.join(tmp, 'run-' + run)
      const r = {}
      const fig = { clients: CLIENTS, inFlight: IN_FLIGHT, parallelMs: PARALLEL_MS }
      await attempt(r, 'rawRpc', () => rawRpc(bootstrap, { sequential: SEQUENTIAL, ...fig }))
      await attempt(r, 'rawBee', () => rawBee(path.join(dir, 'bee'), BEE))
      await attempt(r, 'rawCore', () => rawCore(path.join(dir, 'core'), CORE))
      await attempt(r, 'rawVerify', () => rawVerify({ samples: CORE.sequential }))
      await attempt(r, 'rawPush', () => rawPush(path.join(dir, 'push'), CORE))
      await attempt(r, 'rawPushFour', () =>
        rawPush(path.join(dir, 'push-four'), { ...CORE, others: 3, key: 'rawPushFour' })
      )
      await attempt(r, 'bid', () =>
        bidLatency(bootstrap, path.join(dir, 'latency'), { sequential: SEQUENTIAL, warmup: 20 })
      )
      await attempt(r, 'bidFour', () =>
        bidLatency(bootstrap, path.join(dir, 'latency-four'), {
          sequential: SEQUENTIAL,
          warmup: 20,
          followers: 3,
          key: 'bidFour'
        })
      )
      await attempt(r, 'throughput', () =>
        sellerThroughput(bootstrap, path.join(dir, 'throughput'), {
          ...fig,
          bidders: CLIENTS,
          processes: BIDDER_PROCESSES
        })
      )
      // Each bidder peer on its own auction: no bid is overtaken by another's
      await attempt(r, 'separate', () =>
        sellerThroughput(bootstrap, path.join(dir, 'separate'), {
          ...fig,
          key: 'separate',
          bidders: CLIENTS,
          processes: BIDDER_PROCESSES,
          separate: true
        })
      )
      // The same seller with a single bidder peer: what the seller takes when few peers follow
      await attempt(r, 'oneBidderThroughput', () =>
        sellerThroughput(bootstrap, path.join(dir, 'one-bidder'), {
          ...fig,
          key: 'oneBidder',
          bidders: 1
        })
      )
      runs.push(r)
    }

    log('once')
    const once = {}
    await attempt(once, 'catchUp', () => catchUp(bootstrap, path.join(tmp, 'catch-up'), CATCH_UP))
    await attempt(once, 'follow', () =>
      follow(bootstrap, path.join(tmp, 'follow'), QUICK ? FOLLOW_QUICK : {})
    )
    for (const n of SIZES) {
      await attempt(once, 'propagationN' + n, () =>
        propagation(bootstrap, path.join(tmp, 'n' + n), n, PROPAGATION)
      )
    }

    const results = { ...medians(runs), ...once }
    report(results, {
      quick: QUICK,
      runs: RUNS,
      seconds: Math.round((Date.now() - started) / 1000),
      clients: CLIENTS,
      inFlight: IN_FLIGHT,
      beeBatch: BEE.batch,
      coreBatch: CORE.batch,
      sizes: SIZES,
      perRun: runs
    })
  } finally {
    await testnet.destroy()
    fs.rmSync(tmp, { recursive: true, force: true })
  }
}

// A figure that fails is reported as failed, and the others still run
async function attempt(results, name, fn) {
  try {
    Object.assign(results, await fn())
  } catch (err) {
    log(`  ! ${name} failed: ${err.message}`)
    results[name + 'Error'] = err.message
  }
}

// The median of each number over the runs; anything else (an error) from the first run with it
function medians(runs) {
  const out = {}
  for (const r of runs) {
    for (const key of Object.keys(r)) {
      if (key in out) continue
      const values = runs.map((run) => run[key]).filter((v) => typeof v === 'number')
      const other = runs.map((run) => run[key]).find((v) => v) || r[key]
      out[key] = values.length > 0 ? median(values) : other
    }
  }
  return out
}

function argValue(name) {
  const i = process.argv.indexOf(name)
  return i === -1 ? null : process.argv[i + 1]
}

const run = process.argv.includes('--scale') ? require('./scale').main : main

run().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
