// What the bench scripts share: clocks, statistics, peers and raw RPC nodes on the private
// testnet, and child processes that answer commands (remote.js, follow.js)
const RPC = require('@hyperswarm/rpc')
const DHT = require('hyperdht')
const c = require('compact-encoding')
const path = require('path')
const readline = require('readline')
const { spawn } = require('child_process')
const AuctionPeer = require('..')
const { auctionAt } = require('../test/helpers')

const HOST = '127.0.0.1'
const RAW = { requestEncoding: c.raw, responseEncoding: c.raw }
const NETWORK = 'bench'
// A remote that has not exited this long after its stdin closed is killed and reported
const STOP_TIMEOUT = 15000
// A child still running this long after it closed everything holds a leaked handle
const EXIT_TIMEOUT = 5000
// Warnings a follower emits when it gives up on a log
const INVALID = ['INVALID_EVENT', 'DISPUTED', 'BAD_REQUEST']

function createPeer(storage, bootstrap, opts = {}) {
  return new AuctionPeer(storage, {
    bootstrap,
    host: HOST,
    firewalled: false,
    network: NETWORK,
    ...opts
  })
}

// A raw @hyperswarm/rpc node with its own DHT node on 127.0.0.1 (RPC's own DHT would bind
// every interface)
function createRpc(bootstrap, keyPair = DHT.keyPair()) {
  const dht = new DHT({ keyPair, bootstrap, host: HOST, firewalled: false })
  const rpc = new RPC({ dht, keyPair })
  return {
    dht,
    rpc,
    keyPair,
    async destroy() {
      await rpc.destroy()
      await dht.destroy()
    }
  }
}

// Counts a peer's warnings by code; check() throws once the peer found a log breaking the rules
// (it stops following that log, so a figure waiting on it would only time out)
function watchWarnings(peer) {
  const counts = {}
  let invalid = null
  peer.on('warning', (err) => {
    counts[err.code] = (counts[err.code] || 0) + 1
    if (invalid === null && INVALID.includes(err.code)) invalid = err
  })
  return {
    counts,
    check() {
      if (invalid !== null) {
        throw new Error(`${peer.name || 'a peer'} stopped following a log: ${invalid.message}`)
      }
      return true
    }
  }
}

// The code of an error from a peer (AuctionError) or from a raw RPC client (err.cause.code)
function codeOf(err) {
  if (err && err.cause && err.cause.code) return err.cause.code
  return (err && err.code) || 'UNKNOWN'
}

// A child process running remote.js: it prints one JSON line when ready and answers one JSON
// line per command line; it closes everything and exits when its stdin ends
function spawnRemote(mode, bootstrap, args = {}) {
  const json = JSON.stringify({ bootstrap, ...args })
  return spawnChild(path.join(__dirname, 'remote.js'), [mode, json], {
    label: 'remote ' + mode,
    prof: true
  })
}

// A child process running file with argv, whose other end is serveCommands: resolves once it
// printed its info, with ask(...command) for the one JSON line that answers a command and stop()
// to close it. With prof, BENCH_PROFILE=dir has node write the child's CPU profile there.
function spawnChild(file, argv, { label, prof = false }) {
  const flags =
    prof && process.env.BENCH_PROFILE
      ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.BENCH_PROFILE]
      : []
  const child = spawn(process.execPath, [...flags, file, ...argv], {
    stdio: ['pipe', 'pipe', 'inherit']
  })
  let code = null
  const exited = new Promise((resolve) =>
    child.once('exit', (c) => {
      code = c
      resolve()
    })
  )
  const lines = readline.createInterface({ input: child.stdout })
  const waiting = []
  lines.on('line', (line) => {
    const next = waiting.shift()
    if (next) next.resolve(JSON.parse(line))
  })
  child.once('exit', (c) => {
    for (const next of waiting.splice(0)) next.reject(new Error(`${label} exited with ${c}`))
  })
  const nextLine = () => new Promise((resolve, reject) => waiting.push({ resolve, reject }))

  return nextLine().then((info) => {
    if (info.error) throw new Error(`${label}: ${info.error}`)
    return {
      info,
      ask(...command) {
        const reply = nextLine()
        child.stdin.write(command.join(' ') + '\n')
        return reply
      },
      async stop() {
        if (code !== null) return
        child.stdin.end()
        let timer
        const late = new Promise((resolve) => {
          timer = setTimeout(resolve, STOP_TIMEOUT, true)
        })
        const killed = await Promise.race([exited, late])
        clearTimeout(timer)
        if (killed) {
          log(`  ! ${label} did not exit ${STOP_TIMEOUT} ms after its stdin closed: killed`)
          child.kill('SIGKILL')
          await exited
        }
      }
    }
  })
}

// The child's side of spawnChild: prints info, then answers each command line ('name arg ...')
// with one JSON line, in order; once stdin ends, runs close() and expects the process to exit
function serveCommands(label, info, commands, close) {
  print(info)
  const lines = readline.createInterface({ input: process.stdin })
  let queue = Promise.resolve()
  lines.on('line', (line) => {
    const [name, ...args] = line.split(' ')
    const command = commands[name] || (() => ({ error: 'unknown command ' + line }))
    queue = queue.then(async () => {
      try {
        print(await command(...args))
      } catch (err) {
        print({ error: err.message })
      }
    })
  })
  lines.on('close', async () => {
    await queue
    await close()
    setTimeout(() => {
      log(`  ! ${label} still running ${EXIT_TIMEOUT} ms after closing everything`)
      process.exit(1)
    }, EXIT_TIMEOUT).unref()
  })
}

// Runs fn(client) with inFlight calls in flight per client for ms; returns calls per second
// that resolved, and how many rejected by code
async function saturate(ms, clients, inFlight, fn) {
  const end = now() + ms
  let done = 0
  const refused = {}
  const lane = async (client) => {
    while (now() < end) {
      try {
        await fn(client)
        done++
      } catch (err) {
        const code = codeOf(err)
        refused[code] = (refused[code] || 0) + 1
      }
    }
  }
  const t = now()
  const lanes = []
  for (const client of clients) for (let i = 0; i < inFlight; i++) lanes.push(lane(client))
  await Promise.all(lanes)
  const seconds = (now() - t) / 1000
  return { perSec: done / seconds, done, seconds, refused }
}

async function waitFor(fn, what, timeout = 30000, interval = 5) {
  const deadline = Date.now() + timeout
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error('Timed out waiting for ' + what)
    await sleep(interval)
  }
}

// Resolves true once fn() holds, false at the deadline
async function within(fn, timeout, interval = 50) {
  const deadline = Date.now() + timeout
  while (!(await fn())) {
    if (Date.now() > deadline) return false
    await sleep(interval)
  }
  return true
}

// Cpu time of this process in ms
function cpuTime() {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1000
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

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function mib(bytes) {
  return bytes / 1024 / 1024
}

// One JSON line on stdout, as a child answers its parent
function print(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n')
}

function log(line) {
  process.stderr.write(line + '\n')
}

module.exports = {
  HOST,
  RAW,
  createPeer,
  createRpc,
  watchWarnings,
  codeOf,
  spawnRemote,
  spawnChild,
  serveCommands,
  saturate,
  waitFor,
  within,
  auctionAt,
  cpuTime,
  percentile,
  median,
  now,
  sleep,
  mib,
  print,
  log
}
