const fs = require('fs')
const path = require('path')
const dgram = require('dgram')
const dns = require('dns')
const net = require('net')
const readline = require('readline')
const DHT = require('hyperdht')
const goodbye = require('graceful-goodbye')
const AuctionPeer = require('../..')
const AuctionError = require('../errors')
const format = require('./format')
const { ControlServer, socketPath, peerNames } = require('./control')
const { runCommand } = require('./commands')
const { command, summary, bail, validate } = require('paparam')
const { splitWords, markArgs, unmarkArgs } = require('./cli-args')
const { peerCommands, bailLine } = require('./peer-commands')
const WebServer = require('../web/server')
const { webOptions, isLoopback, urlHost } = require('../web/address')

const HISTORY_SIZE = 500
// A peer that has not closed by then is left to the exit
const STOP_TIMEOUT = 10000

// `hyperauction start`: the peer, its control socket, one line per notification,
// and a console when stdin is a terminal. SIGINT/SIGTERM or `hyperauction stop` close
// everything and exit 0. A start that fails closes what it opened, so the process exits.
async function startPeer(opts) {
  const { storage, print, printErr } = opts
  const webAt = webOptions(opts.web, opts.webPublic)
  const walletSeed = daemonWallet(opts)
  await makeStorage(storage)
  if (opts.port) await checkPort(opts.host || '0.0.0.0', opts.port)

  const nodes = opts.bootstrap || DHT.BOOTSTRAP
  const where = opts.bootstrap
    ? nodes.map((n) => `${n.host}:${n.port}`).join(',')
    : 'the public HyperDHT bootstrap nodes'

  const peer = new AuctionPeer(storage, {
    bootstrap: opts.bootstrap,
    host: opts.host,
    port: opts.port,
    firewalled: opts.host ? false : undefined,
    network: opts.network,
    name: opts.name,
    secret: opts.secret,
    chainRpc: opts.chainRpc
  })

  let cons = null
  let web = null
  let stopping = null
  const stop = () => {
    if (stopping) return stopping
    stopping = (async () => {
      if (cons) cons.close()
      if (web !== null) await web.close()
      await control.close()
      await peer.close()
    })()
    return stopping
  }
  // 0 once everything is closed; 1 if closing failed or hangs (the process exits anyway)
  const shutdown = async () => {
    let timer = null
    const late = new Promise((resolve) => {
      timer = setTimeout(resolve, STOP_TIMEOUT, false)
    })
    // A start cut short does not wait for the peer to open first
    const closing =
      peer.opened || peer.opening === null
        ? stop()
        : Promise.all([web && web.close(), control.close(), release(peer)])
    try {
      if (await Promise.race([closing.then(yes), late])) return 0
      printErr(`warning: the peer did not close within ${STOP_TIMEOUT / 1000} s`)
    } catch (err) {
      printErr(format.errorLine(err))
    } finally {
      clearTimeout(timer)
    }
    return 1
  }

  let stopCode = 0
  const control = new ControlServer(peer, storage, {
    onerror: (err) => printErr(format.errorLine(err)),
    onstop: async () => {
      say('stopping: asked by `hyperauction stop`')
      stopCode = await shutdown()
    },
    onstopped: () => process.exit(stopCode)
  })
  control.ctx.walletSeed = walletSeed

  // A peer's name and key prefix; an offline seller's by the name kept with its log
  let kept = new Map()
  const nameOf = (hex) => {
    if (hex === peer.id) return format.label(hex, peer.name, { self: true })
    const info = peer.peers().find((p) => p.publicKey === hex)
    return format.label(hex, (info && info.name) || kept.get(hex) || '')
  }
  Object.defineProperty(nameOf, 'self', { get: () => ({ publicKey: peer.id, name: peer.name }) })
  const readNames = async () => {
    const { peers } = await peerNames(peer)
    kept = new Map(peers.filter((p) => p.name).map((p) => [p.publicKey, p.name]))
  }
  peer.on('peer-remove', () => readNames().catch(noop))

  // What happens while the peer starts (known peers greeted again) is printed after the header,
  // named once the kept names are read
  let early = []
  const say = (line) => {
    if (early !== null) early.push(line)
    else if (cons) cons.say(line)
    else print(line)
  }

  for (const event of format.NOTIFICATIONS) {
    peer.on(event, (data) => {
      const now = Date.now()
      if (early !== null) early.push(() => format.line(event, data, nameOf, now))
      else say(format.line(event, data, nameOf, now))
    })
  }
  peer.on('warning', (err) => say(`warning: ${err.message}`))

  const unregister = goodbye(async () => process.exit(await shutdown()))
  try {
    await control.listen()
    if (webAt !== null) {
      web = new WebServer(peer, storage, control.ctx, {
        ...webAt,
        onerror: (err) => printErr(format.errorLine(err))
      })
      await web.listen()
      if (!isLoopback(webAt.host)) {
        printErr(
          `warning: the board at ${urlHost(web.host)}:${web.port} is reachable from other hosts; anyone with the token can bid and pay in your name`
        )
      }
    }
    printErr(`connecting to the DHT at ${where}...`)
    if (!(await bootstrapAnswers(nodes, opts.host))) {
      throw AuctionError.BOOTSTRAP_UNREACHABLE(`no DHT node answered at ${where}`)
    }
    printErr(`joining the auction network ${peer.network}...`)
    await peer.ready()
  } catch (err) {
    unregister()
    const failure = startError(err, storage, peer, where)
    await stop().catch((err) => printErr(format.errorLine(err)))
    await release(peer)
    throw failure
  }

  print(`hyperauction peer ${peer.id}${peer.name ? ' (' + peer.name + ')' : ''}`)
  print(`  network:        ${peer.network}`)
  print(`  storage:        ${path.resolve(storage)}`)
  print(`  control socket: ${socketPath(storage)}`)
  if (opts.chainRpc) print(`  chain endpoint: ${opts.chainRpc} (payments are verified there)`)
  if (web !== null) print(`web: ${web.url}`)
  print('Ready. Ctrl+C or `hyperauction stop` stops the peer.')
  await readNames().catch(noop)
  for (const line of early) print(typeof line === 'function' ? line() : line)
  early = null

  if (process.stdin.isTTY && process.stdout.isTTY) {
    cons = startConsole(peer, control.ctx, storage, nameOf, () =>
      process.kill(process.pid, 'SIGINT')
    )
  }
}

// The seed phrase the peer pays with when a `pay` brings no wallet (the board's never does):
// start --wallet-file FILE, else HYPERAUCTION_WALLET_SEED of this process, else none
function daemonWallet(opts) {
  if (opts.walletFile === undefined) return opts.walletSeed || null
  let seed
  try {
    seed = fs.readFileSync(path.resolve(opts.walletFile), 'utf-8').trim()
  } catch (err) {
    throw AuctionError.INVALID_ARGUMENT(
      `The wallet file ${opts.walletFile} cannot be read: ${err.code || err.message}`
    )
  }
  if (seed === '') {
    throw AuctionError.INVALID_ARGUMENT(`The wallet file ${opts.walletFile} is empty`)
  }
  return seed
}

// The storage folder, made if missing (mode 0700), and writable: a read-only disk or a
// folder of another user's is said as such, with the folder at fault
async function makeStorage(storage) {
  const dir = path.resolve(storage)
  try {
    await makeFolders(dir)
    await fs.promises.access(dir, fs.constants.W_OK)
    return
  } catch (err) {
    throw await storageError(err, dir)
  }
}

// mkdir -p one folder at a time: Node's recursive mkdir spins for ever where a folder exists but
// takes no new one (/proc/x says ENOENT, /proc EEXIST, and again)
async function makeFolders(dir) {
  const missing = []
  for (let at = dir; ; at = path.dirname(at)) {
    try {
      const st = await fs.promises.stat(at)
      if (!st.isDirectory()) throw systemError('ENOTDIR', `${at} is a file, not a folder`)
      break
    } catch (err) {
      if (err.code !== 'ENOENT' || path.dirname(at) === at) throw err
      missing.push(at)
    }
  }
  for (const at of missing.reverse()) {
    try {
      await fs.promises.mkdir(at, { mode: 0o700 })
    } catch (err) {
      // A link to nowhere exists too: the folder under it is the one that fails
      if (err.code !== 'EEXIST') throw err
    }
  }
}

async function storageError(err, dir) {
  // mkdir -p on a read-only disk says ENOENT: the first folder that exists says why
  let at = dir
  for (;;) {
    try {
      const st = await fs.promises.stat(at)
      if (!st.isDirectory()) return systemError('ENOTDIR', `${at} is a file, not a folder`)
      break
    } catch (e) {
      if ((e.code !== 'ENOENT' && e.code !== 'ENOTDIR') || path.dirname(at) === at) return err
      at = path.dirname(at)
    }
  }
  const what = at === dir ? 'the storage folder' : `cannot create ${dir}:`
  try {
    await fs.promises.access(at, fs.constants.W_OK)
  } catch (e) {
    if (e.code === 'EROFS') return systemError('EROFS', `${what} ${at} is on a read-only disk`)
    if (e.code === 'EACCES' || e.code === 'EPERM') {
      return systemError(e.code, `${what} ${at} is not writable by this user`)
    }
  }
  // "No such folder" where the folder above exists: a link to nowhere, or a folder that takes no
  // new ones (/proc, /sys)
  if (err.code === 'ENOENT' && typeof err.path === 'string') {
    for (const p of [err.path, path.dirname(err.path)]) {
      const target = await fs.promises.readlink(p).catch(no)
      const why = `${p} is a link to ${target}, which is missing`
      if (target) return systemError('ENOENT', `${what} ${why}`)
    }
    if (err.syscall === 'mkdir') {
      return systemError('ENOENT', `${what} ${path.dirname(err.path)} takes no new folders`)
    }
  }
  // access() trusts the mode; a read-only mount is only found by writing
  if (err.code === 'ENOENT' || err.code === 'EROFS') {
    return systemError('EROFS', `${what} ${at} is on a read-only disk`)
  }
  return err
}

function systemError(code, message) {
  const err = new Error(message)
  err.code = code
  return err
}

// A UDP port asked for with --port is free, or the start fails at once
function checkPort(host, port) {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4')
    socket.once('error', (err) => {
      socket.close()
      reject(
        err.code === 'EADDRINUSE' ? AuctionError.PORT_IN_USE(`${host}:${port} is in use`) : err
      )
    })
    socket.bind(port, host, () => socket.close(() => resolve()))
  })
}

// Pings the bootstrap nodes (hyperdht retries each ping 3 times, a second apart): true as soon
// as one answers, false if none does. A peer started without one would wait for its DHT
// queries to time out, then run with no network.
async function bootstrapAnswers(nodes, host) {
  const probe = new DHT({ bootstrap: [], host, port: [0, 0], ephemeral: true })
  try {
    await probe.ready()
    const answered = nodes.map(async (node) => {
      for (const addr of await addresses(node)) {
        if (await probe.ping(addr).then(yes, no)) return
      }
      throw new Error('no answer')
    })
    return await Promise.any(answered).then(yes, no)
  } finally {
    await probe.destroy()
  }
}

// hyperdht writes a public node as "ip@name:port": the ip first, else the name's
async function addresses(node) {
  const { host, port } = typeof node === 'string' ? parseNode(node) : node
  const [ip, name] = host.includes('@') ? host.split('@') : [null, host]
  const found = ip ? [{ host: ip, port }] : []
  if (net.isIP(name)) return [...found, { host: name, port }]
  // A name that does not resolve adds no address
  const resolved = await dns.promises.lookup(name, { family: 4 }).then((r) => r.address, no)
  if (resolved) found.push({ host: resolved, port })
  return found
}

function yes() {
  return true
}

function no() {
  return false
}

function parseNode(str) {
  const i = str.lastIndexOf(':')
  return { host: str.slice(0, i), port: Number(str.slice(i + 1)) }
}

// A ReadyResource whose _open failed is never _closed: what the peer opened for itself is
// released here, so a failed start leaves no DHT node running
async function release(peer) {
  if (peer.opened) return
  if (peer.dht !== null && !peer.dht.destroyed) await peer.dht.destroy()
  await peer.store.close()
}

function startError(err, storage, peer, where) {
  if (err instanceof AuctionError) return err
  // RocksDB refuses a second process on the same folder
  if (err && /lock/i.test(String(err.message))) {
    return AuctionError.PEER_ALREADY_RUNNING(`A peer is already running on ${storage}`)
  }
  // The bootstrap answered the probe but its DHT queries found nobody
  const table = peer.dht && peer.dht.table
  if (table && table.toArray().length === 0) {
    return AuctionError.BOOTSTRAP_UNREACHABLE(`no DHT node answered at ${where}`)
  }
  return err
}

// The interactive console of `start`: the CLI's own commands, flags and help, run in-process
function startConsole(peer, ctx, storage, nameOf, onexit) {
  const historyFile = path.join(storage, 'history')
  let history = []
  try {
    history = fs.readFileSync(historyFile, 'utf-8').split('\n').filter(Boolean).reverse()
  } catch {
    history = []
  }

  const rl = readline.createInterface({
    input: process.stdin,
    output: process.stdout,
    prompt: 'hyperauction> ',
    history,
    historySize: HISTORY_SIZE
  })

  const say = (line) => {
    readline.clearLine(process.stdout, 0)
    readline.cursorTo(process.stdout, 0)
    process.stdout.write(line + '\n')
    rl.prompt(true)
  }

  const send = (name, args) => runCommand(peer, name, args, ctx)
  const defined = peerCommands(send, { print: say, nameOf, storage: false })
  for (const c of defined) c.add(validate(unmarkArgs))
  let json = false
  const commands = command(
    'hyperauction',
    summary(`Commands: ${defined.map((c) => c.name).join(', ')}, help [command], exit`),
    ...defined,
    bail((b) => say(bailLine(b, { json })))
  )

  // Lines typed ahead run one after another: each is answered in the order it was typed
  let queue = Promise.resolve()
  rl.on('line', (line) => {
    queue = queue.then(() => online(line)).catch((err) => say(format.errorLine(err)))
  })
  const online = async (line) => {
    const words = splitWords(line)
    if (words.length === 0) return rl.prompt()
    fs.appendFile(historyFile, line + '\n', { mode: 0o600 }, noop)
    if (words[0] === 'exit' || words[0] === 'quit' || words[0] === 'stop') return onexit()
    // help COMMAND for a command of the console; the list of commands for anything else
    if (words[0] === 'help') {
      const sub = defined.find((c) => c.name === words[1])
      return say((sub || commands).help().trimEnd())
    }
    json = words.includes('--json')
    const running = commands.parse(markArgs(words), { silent: true })
    if (running !== null && running.running) await running.running
    rl.prompt()
  }
  rl.on('SIGINT', onexit)
  rl.prompt()

  return { say, close: () => rl.close() }
}

function noop() {}

// `hyperauction bootstrap`: a private DHT bootstrap node until SIGINT/SIGTERM
async function runBootstrap({ host, port, print }) {
  // A node that fails to bind is not destroyed whole (its DHT waits on the bind), so the port
  // is tried first
  await checkPort(host, port)
  const node = DHT.bootstrapper(port, host, { host })
  try {
    await node.ready()
  } catch (err) {
    await node.destroy().catch(noop)
    if (err.code === 'EADDRINUSE') throw AuctionError.PORT_IN_USE(`${host}:${port} is in use`)
    throw err
  }
  const addr = node.address()
  print(`bootstrap node listening on ${addr.host}:${addr.port}`)
  goodbye(async () => {
    await node.destroy()
    process.exit(0)
  })
}

module.exports = startPeer
module.exports.runBootstrap = runBootstrap
