const fs = require('fs')
const path = require('path')
const readline = require('readline')
const DHT = require('hyperdht')
const goodbye = require('graceful-goodbye')
const AuctionPeer = require('../..')
const AuctionError = require('../errors')
const format = require('./format')
const { ControlServer, socketPath } = require('./control')
const { runCommand } = require('./commands')
const { command, summary, bail } = require('paparam')
const { splitWords } = require('./cli-args')
const { peerCommands, bailLine } = require('./peer-commands')

const NOTIFICATIONS = [
  'auction-opened',
  'bid-accepted',
  'auction-closed',
  'peer-add',
  'peer-remove'
]
const HISTORY_SIZE = 500

// `hyperauction start`: the peer, its control socket, one line per notification,
// and a console when stdin is a terminal. SIGINT/SIGTERM close everything and exit 0.
async function startPeer(opts) {
  const { storage, print, printErr } = opts
  await fs.promises.mkdir(storage, { recursive: true, mode: 0o700 })

  const peer = new AuctionPeer(storage, {
    bootstrap: opts.bootstrap,
    host: opts.host,
    port: opts.port,
    firewalled: opts.host ? false : undefined,
    network: opts.network,
    name: opts.name,
    secret: opts.secret
  })
  const control = new ControlServer(peer, storage, { onerror: (err) => printErr(String(err)) })

  const nameOf = (hex) => {
    if (hex === peer.id) return peer.name ? `${peer.name} (you)` : 'you'
    const info = peer.peers().find((p) => p.publicKey === hex)
    return info && info.name ? info.name : format.short(hex)
  }

  let cons = null
  // What happens while the peer starts (known peers greeted again) is printed after the header
  let early = []
  const say = (line) => {
    if (early !== null) early.push(line)
    else if (cons) cons.say(line)
    else print(line)
  }

  for (const event of NOTIFICATIONS) {
    peer.on(event, (data) =>
      say(`[${format.time(Date.now())}] ${format.notification(event, data, nameOf)}`)
    )
  }
  peer.on('warning', (err) => say(`warning: ${err.message}`))

  await control.listen()
  try {
    await peer.ready()
  } catch (err) {
    await control.close()
    throw lockError(err, storage)
  }

  print(`hyperauction peer ${peer.id}${peer.name ? ' (' + peer.name + ')' : ''}`)
  print(`  network:        ${peer.network}`)
  print(`  storage:        ${path.resolve(storage)}`)
  print(`  control socket: ${socketPath(storage)}`)
  print('Ready. Ctrl+C stops the peer.')
  for (const line of early) print(line)
  early = null

  let stopping = null
  const stop = () => {
    if (stopping) return stopping
    stopping = (async () => {
      if (cons) cons.close()
      await control.close()
      await peer.close()
    })()
    return stopping
  }

  goodbye(async () => {
    await stop()
    process.exit(0)
  })

  if (process.stdin.isTTY && process.stdout.isTTY) {
    cons = startConsole(peer, control.ctx, storage, nameOf, () =>
      process.kill(process.pid, 'SIGINT')
    )
  }
}

function lockError(err, storage) {
  if (err instanceof AuctionError) return err
  // RocksDB refuses a second process on the same folder
  if (err && /lock/i.test(String(err.message))) {
    return AuctionError.PEER_ALREADY_RUNNING(`A peer is already running on ${storage}`)
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
  const names = new Set(defined.map((c) => c.name))
  const commands = command(
    'hyperauction',
    summary('Commands: open, bid, close, list, show, peers, status, id, help [command], exit'),
    ...defined,
    bail((b) => say(bailLine(b)))
  )

  rl.on('line', async (line) => {
    const words = splitWords(line)
    if (words.length === 0) return rl.prompt()
    fs.appendFile(historyFile, line + '\n', { mode: 0o600 }, noop)
    if (words[0] === 'exit' || words[0] === 'quit') return onexit()
    // help COMMAND for a command of the console; the list of commands for anything else
    if (words[0] === 'help') {
      return say(commands.help(...words.slice(1, 2).filter((w) => names.has(w))))
    }
    const running = commands.parse(words, { silent: true })
    if (running !== null && running.running) await running.running
    rl.prompt()
  })
  rl.on('SIGINT', onexit)
  rl.prompt()

  return { say, close: () => rl.close() }
}

function noop() {}

// `hyperauction bootstrap`: a private DHT bootstrap node until SIGINT/SIGTERM
async function runBootstrap({ host, port, print }) {
  const node = DHT.bootstrapper(port, host, { host })
  await node.ready()
  const addr = node.address()
  print(`bootstrap node listening on ${addr.host}:${addr.port}`)
  goodbye(async () => {
    await node.destroy()
    process.exit(0)
  })
}

module.exports = startPeer
module.exports.runBootstrap = runBootstrap
