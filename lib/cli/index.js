const { command, flag, arg, summary, description, footer, bail, validate } = require('paparam')
const os = require('os')
const path = require('path')
const AuctionError = require('../errors')
const format = require('./format')
const { ControlClient } = require('./control')
const { parseBootstrap, parsePort, markArgs, unmarkArgs } = require('./cli-args')
const { peerCommands, storageFlag, jsonFlag, bailLine } = require('./peer-commands')
const { version } = require('../../package.json')

const DEFAULT_STORAGE = path.join(os.homedir(), '.hyperauction')
const EXIT_GRACE = 1000

function storageOf(flags, env) {
  return flags.storage || env.HYPERAUCTION_STORAGE || DEFAULT_STORAGE
}

// Runs the command line argv (process.argv.slice(2)) as typed in a shell
function main(argv, io = {}) {
  const end = argv.indexOf('--')
  const json = (end === -1 ? argv : argv.slice(0, end)).includes('--json')
  const ran = createCli({ ...io, json }).parse(markArgs(argv))
  // A command that failed is over: whatever a dependency left open does not keep it running
  if (ran !== null && ran.running) {
    ran.running.then(() => {
      if (process.exitCode) setTimeout(() => process.exit(), EXIT_GRACE).unref()
    })
  }
  return ran
}

// io.json: the line has --json, so even a usage error before that flag is printed as JSON
function createCli(io = {}) {
  const env = io.env || process.env
  const print = io.print || ((line) => process.stdout.write(line + '\n'))
  const printErr = io.printErr || ((line) => process.stderr.write(line + '\n'))
  const out = { print, nameOf: format.short }

  // opts.onprogress: a pay's steps as they happen
  const send = async (name, args, flags, opts = {}) => {
    const client = new ControlClient(storageOf(flags, env))
    const res = await client.request(name, args, opts)
    // Names only serve plain output; --json prints keys
    if (name !== 'id' && !flags.json) out.nameOf = await client.names()
    return res
  }

  const watch = command(
    'watch',
    summary('Print every notification of the running peer as it happens'),
    storageFlag(),
    flag('--json', 'one JSON object per line'),
    footer('Example: hyperauction watch --json'),
    async (cmd) => {
      const client = new ControlClient(storageOf(cmd.flags, env))
      let nameOf = await client.names()
      for await (const { event, data } of client.watch()) {
        if (event === 'peer-add' || event === 'peer-remove') nameOf = await client.names()
        print(cmd.flags.json ? JSON.stringify({ event, data }) : format.line(event, data, nameOf))
      }
      throw AuctionError.PEER_NOT_RUNNING('The peer stopped')
    }
  )

  const start = command(
    'start',
    summary('Run a peer in the foreground (with a console on a terminal)'),
    description(
      'Runs the peer of the storage folder: a DHT node, an RPC server and client, a Hyperbee.\n' +
        'Prints one line per notification. Other commands drive it through its control socket.'
    ),
    storageFlag(),
    flag(
      '--bootstrap|-b <list>',
      'DHT bootstrap nodes, host:port[,host:port] (default: public DHT)'
    ),
    flag('--host <addr>', 'address to bind, e.g. 127.0.0.1 (the peer is then not firewalled)'),
    flag('--port|-p <port>', 'UDP port to bind (default: any free port)'),
    flag('--network|-n <name>', 'auction network to join (default main)'),
    flag('--name <label>', 'a name other peers see next to your key'),
    flag('--secret <secret>', 'private network: only peers with the same secret may connect'),
    flag('--chain-rpc <url>', 'your EVM endpoint: payments to you are verified there, yours sent'),
    flag('--web <addr>', 'serve the board and its HTTP API at [HOST:]PORT (HOST 127.0.0.1)'),
    flag('--web-public', 'with --web: serve a HOST other machines reach (anyone with the token)'),
    flag('--wallet-file <file>', 'seed phrase this peer pays with when a pay brings no wallet'),
    footer(
      'Example: hyperauction start --storage ./alice --bootstrap 127.0.0.1:30001 --host 127.0.0.1 --name Alice'
    ),
    async (cmd) => {
      const startPeer = require('./daemon')
      const f = cmd.flags
      await startPeer({
        storage: storageOf(f, env),
        bootstrap: f.bootstrap === undefined ? undefined : parseBootstrap(f.bootstrap),
        host: f.host,
        port: f.port === undefined ? undefined : parsePort(f.port),
        network: f.network,
        name: f.name,
        secret: f.secret,
        chainRpc: f.chainRpc,
        web: f.web,
        webPublic: f.webPublic,
        walletFile: f.walletFile,
        walletSeed: env.HYPERAUCTION_WALLET_SEED,
        print,
        printErr
      })
    }
  )

  const bootstrap = command(
    'bootstrap',
    summary('Run a private DHT bootstrap node'),
    flag('--host <addr>', 'address to bind (default 127.0.0.1)'),
    flag('--port|-p <port>', 'UDP port (default 30001)'),
    footer('Example: hyperauction bootstrap --host 127.0.0.1 --port 30001'),
    async (cmd) => {
      const { runBootstrap } = require('./daemon')
      await runBootstrap({
        host: cmd.flags.host || '127.0.0.1',
        port: cmd.flags.port === undefined ? 30001 : parsePort(cmd.flags.port),
        print
      })
    }
  )

  const stop = command(
    'stop',
    summary('Stop the running peer of the storage folder cleanly'),
    description('Returns once the peer has closed; its `start` process then exits 0.'),
    storageFlag(),
    jsonFlag(),
    footer('Example: hyperauction stop --storage ./alice'),
    async (cmd) => {
      const client = new ControlClient(storageOf(cmd.flags, env))
      const res = await client.request('stop')
      print(cmd.flags.json ? JSON.stringify(res, null, 2) : 'stopped')
    }
  )

  const help = command(
    'help',
    summary('Show the help of a command, or the list of commands'),
    arg('[command]', 'a command, e.g. bid'),
    footer('Example: hyperauction help bid'),
    (cmd) => {
      const name = cmd.args.command
      if (name === undefined) return print(cli.help().trimEnd())
      const sub = commands.find((c) => c.name === name)
      if (!sub) {
        throw AuctionError.UNKNOWN_COMMAND(
          `${name} is not a command (hyperauction help lists them)`
        )
      }
      print(sub.help().trimEnd())
    }
  )

  const demo = command(
    'demo',
    summary('Run the reference scenario on an embedded private DHT, then exit'),
    flag('--web', 'then serve each peer’s board on 127.0.0.1 until Ctrl+C'),
    footer('Example: hyperauction demo --web'),
    async (cmd) => {
      const runDemo = require('./demo')
      await runDemo({ print, web: !!cmd.flags.web })
    }
  )

  const commands = [start, stop, bootstrap, ...peerCommands(send, out), watch, demo, help]
  // Words like -5 and "" come marked through the parser (see markArgs)
  for (const c of commands) c.add(validate(unmarkArgs))

  const cli = command(
    'hyperauction',
    summary('Peer-to-peer auctions over Hyperswarm RPC'),
    description(
      'Run one peer per identity with `start`; drive it from another shell with the other\n' +
        'commands, which talk to it through the control socket in its storage folder.'
    ),
    footer(
      'Quick start:\n' +
        '  hyperauction demo\n' +
        '  hyperauction start --storage ./alice --bootstrap 127.0.0.1:30001 --host 127.0.0.1\n' +
        '  hyperauction open "Pic#1" 75 --storage ./alice\n' +
        '  hyperauction help open'
    ),
    flag('--version|-v', 'print the version'),
    ...commands,
    bail((b) => {
      process.exitCode = 1
      const json = io.json || (b.command && b.command.flags && b.command.flags.json === true)
      printErr(bailLine(b, { json }))
    }),
    // No command: the version if asked, else the help, and exit 1 as git does
    (cmd) => {
      if (cmd.flags.version) return print(version)
      print(cli.help().trimEnd())
      process.exitCode = 1
    }
  )
  return cli
}

module.exports = { main, createCli }
