const test = require('brittle')
const dgram = require('dgram')
const fs = require('fs')
const os = require('os')
const path = require('path')
const { freePort, spawnCli, runCli } = require('./helpers/processes')
const { markArgs, unmarkArgs } = require('../lib/cli/cli-args')
const format = require('../lib/cli/format')
const AuctionError = require('../lib/errors')
const { version } = require('../package.json')

const STACK = /^\s+at /m

// A bootstrap node of the test's own on 127.0.0.1, stopped by the teardown
async function bootstrapNode(t) {
  const port = await freePort()
  await spawnCli(t, ['bootstrap', '--host', '127.0.0.1', '--port', String(port)], /listening/)
  return `127.0.0.1:${port}`
}

function startArgs(storage, bootstrap) {
  return ['start', '--storage', storage, '--bootstrap', bootstrap, '--host', '127.0.0.1']
}

// What a failed command printed on stderr: one `error: CODE: message` line, the code once
function errorOf(t, res) {
  t.is(res.code, 1, 'exit 1')
  const lines = res.stderr.trim().split('\n')
  const errors = lines.filter((line) => line.startsWith('error: '))
  t.is(errors.length, 1, 'one error line')
  t.absent(STACK.test(res.stderr), 'no stack trace')
  const [, code, message] = /^error: ([A-Z_]+): (.*)$/.exec(errors[0]) || []
  t.absent(message && message.startsWith(code + ':'), 'the code is printed once')
  return errors[0]
}

test('an error is one line with its code once, or one JSON object', (t) => {
  t.is(
    format.errorLine(AuctionError.BID_TOO_LOW('Bid must be higher than 80 USDt')),
    'error: BID_TOO_LOW: Bid must be higher than 80 USDt'
  )
  const chain = AuctionError.SELLER_UNREACHABLE(
    'The seller did not answer: PEER_UNREACHABLE: Could not connect: CHANNEL_DESTROYED: gone'
  )
  t.is(
    format.errorLine(chain),
    'error: SELLER_UNREACHABLE: the seller’s peer could not be reached; try again when it is online',
    'an unreachable seller is said plainly, without the chain of causes'
  )
  // As it comes back over the control socket: the code in the message too
  t.is(
    format.errorLine(new AuctionError('ENOTDIR: ENOTDIR: not a folder', 'ENOTDIR')),
    'error: ENOTDIR: not a folder'
  )
  let fsError = null
  try {
    fs.mkdirSync(path.join(__filename, 'x'))
  } catch (err) {
    fsError = err
  }
  t.is(
    format.errorLine(fsError),
    `error: ENOTDIR: not a directory (mkdir ${path.join(__filename, 'x')})`,
    'a system error: its code once, what failed and where'
  )
  t.alike(JSON.parse(format.errorLine(AuctionError.PEER_NOT_RUNNING('nobody'), { json: true })), {
    error: { code: 'PEER_NOT_RUNNING', message: 'nobody' }
  })
  const internal = format.errorLine(new TypeError('oops'))
  t.ok(internal.startsWith('error: INTERNAL: TypeError: oops\n'), 'a bug keeps its stack')
  t.alike(JSON.parse(format.errorLine(new TypeError('oops'), { json: true })), {
    error: { code: 'INTERNAL', message: 'oops' }
  })
})

test('negative numbers and empty words pass the parser as arguments', (t) => {
  const words = markArgs(['open', '-3', '5', '--duration', '-5m', '--name', '', '--', '--x'])
  t.is(words.length, 8, '-- is dropped')
  t.alike([words[0], words[2], words[3]], ['open', '5', '--duration'], 'other words are untouched')
  t.ok(
    [1, 4, 6, 7].every((i) => !words[i].startsWith('-') && words[i] !== ''),
    'marked: no parser reads them as flags'
  )
  const parsed = { args: { item: words[1] }, flags: { duration: words[4], name: words[6] } }
  unmarkArgs(parsed)
  t.alike(parsed, { args: { item: '-3' }, flags: { duration: '-5m', name: '' } }, 'unmarked')
  const code = (args) => {
    try {
      unmarkArgs({ args, flags: {} })
      return 'ok'
    } catch (err) {
      return err.code
    }
  }
  t.is(code({ amount: markArgs(['-5'])[0] }), 'INVALID_AMOUNT')
  t.is(code({ price: markArgs([''])[0] }), 'INVALID_AMOUNT')
  t.is(code({ auction: markArgs([''])[0] }), 'INVALID_ID')
  t.is(code({ amount: '-5' }), 'ok', 'only marked words are checked here')
})

test('--version, -v, help and help COMMAND', { timeout: 60000 }, async (t) => {
  for (const flag of ['--version', '-v']) {
    const res = await runCli([flag])
    t.is(res.code, 0)
    t.is(res.stdout.trim(), version, `${flag} prints the version of package.json`)
  }

  const bare = await runCli([])
  t.is(bare.code, 1, 'no command: exit 1, as git does')
  t.ok(bare.stdout.includes('Commands:'), 'no command prints the help')
  t.ok(bare.stdout.includes('stop '), 'which lists stop')

  const help = await runCli(['help'])
  t.is(help.code, 0)
  t.is(help.stdout, bare.stdout, 'help prints the same list of commands')

  const bid = await runCli(['help', 'bid'])
  t.is(bid.code, 0)
  t.ok(bid.stdout.startsWith('hyperauction bid [flags] <auction> <amount>'), 'the usage of bid')
  t.ok(bid.stdout.includes('Example: hyperauction bid'), 'with its example')
  t.is(bid.stdout, (await runCli(['bid', '--help'])).stdout.trimEnd() + '\n', 'as bid --help')

  const stop = await runCli(['help', 'stop'])
  t.ok(stop.stdout.includes('--storage'), 'help stop shows its flags')

  const unknown = await runCli(['help', 'sell'])
  t.is(
    errorOf(t, unknown),
    'error: UNKNOWN_COMMAND: sell is not a command (hyperauction help lists them)'
  )
  const typo = await runCli(['bidd', '5'])
  t.is(errorOf(t, typo), 'error: USAGE: unknown command bidd (see --help)')
})

test(
  'negative and empty words are coded usage errors, before any peer is asked',
  { timeout: 60000 },
  async (t) => {
    // No peer runs on this folder: each error is found by the CLI itself
    const s = ['--storage', path.join(await t.tmp(), 'nobody')]
    const cases = [
      [
        ['bid', 'abc', '-5'],
        'error: INVALID_AMOUNT: -5 is negative: an amount must be more than 0'
      ],
      [
        ['bid', 'abc', '-0.5'],
        'error: INVALID_AMOUNT: -0.5 is negative: an amount must be more than 0'
      ],
      [['open', 'X', '-3'], 'error: INVALID_AMOUNT: -3 is negative: a price must be more than 0'],
      [
        ['open', 'X', '3', '--duration', '-5m'],
        'error: INVALID_DURATION: -5m is negative: a duration must be more than 0, like 90s, 10m or 2d'
      ],
      [
        ['open', 'X', '3', '-d', '-5m'],
        'error: INVALID_DURATION: -5m is negative: a duration must be more than 0, like 90s, 10m or 2d'
      ],
      [
        ['bid', '', '70'],
        'error: INVALID_ID: the auction id is empty: give an auction id or a unique prefix of it'
      ],
      [
        ['bid', 'abc', ''],
        'error: INVALID_AMOUNT: the amount is empty: give a decimal like 80 or 75.5'
      ],
      [
        ['show', '--', '-5'],
        'error: INVALID_ID: -5 is not an auction id: an auction id is up to 32 hex characters'
      ],
      [['bid', 'abc', '5', '6'], 'error: USAGE: hyperauction bid: unknown arg 6 (see --help)'],
      [
        ['bid', 'abc', '5', '--', '-6'],
        'error: USAGE: hyperauction bid: unknown arg -6 (see --help)'
      ]
    ]
    for (const [args, line] of cases) {
      // The flags go before --: after it every word is an argument
      const end = args.includes('--') ? args.indexOf('--') : args.length
      const res = await runCli([...args.slice(0, end), ...s, ...args.slice(end)])
      t.is(errorOf(t, res), line, args.map((a) => JSON.stringify(a)).join(' '))
      t.is(res.stdout, '', 'nothing on stdout')
    }
  }
)

test('--json: a failure is one JSON object on stderr, exit 1', { timeout: 60000 }, async (t) => {
  const s = ['--storage', path.join(await t.tmp(), 'nobody')]
  const cases = [
    [['bid', 'abc', '-5', '--json'], 'INVALID_AMOUNT'],
    [['bid', 'abc', '--json'], 'USAGE'],
    [['list', '--json'], 'PEER_NOT_RUNNING'],
    [['stop', '--json'], 'PEER_NOT_RUNNING'],
    [['--json', 'bid', 'abc', '--nope'], 'USAGE']
  ]
  for (const [args, code] of cases) {
    const res = await runCli([...args, ...s])
    t.is(res.code, 1, `${args.join(' ')}: exit 1`)
    t.is(res.stdout, '')
    t.is(res.stderr.trim().split('\n').length, 1, 'one line')
    const out = JSON.parse(res.stderr)
    t.alike(Object.keys(out), ['error'])
    t.is(out.error.code, code)
    t.is(typeof out.error.message, 'string')
    t.absent(out.error.message.startsWith(code), 'the code is not repeated in the message')
  }
  const plain = await runCli(['bid', 'abc', '-5', ...s])
  t.ok(plain.stderr.startsWith('error: INVALID_AMOUNT: '), 'without --json, the one line')
})

test(
  'stop closes the running peer: start exits 0, later commands find no peer',
  { timeout: 60000 },
  async (t) => {
    const bootstrap = await bootstrapNode(t)
    const storage = path.join(await t.tmp(), 'alice')
    const s = ['--storage', storage]
    const peer = await spawnCli(t, [...startArgs(storage, bootstrap), '--name', 'Alice'], /Ready\./)
    t.ok(
      peer.output.includes(`connecting to the DHT at ${bootstrap}...`),
      'start says what it waits for'
    )

    t.is((await runCli(['id', ...s])).code, 0, 'the peer answers')
    const stopped = await runCli(['stop', ...s])
    t.is(stopped.code, 0)
    t.is(stopped.stdout.trim(), 'stopped')
    const { code } = await peer.exited
    t.is(code, 0, 'the start process exits 0')
    t.ok(
      peer.output.includes('stopping: asked by `hyperauction stop`'),
      'the peer says why it stops'
    )

    const again = await runCli(['stop', ...s])
    t.ok(errorOf(t, again).startsWith('error: PEER_NOT_RUNNING: '), 'stop again: no peer')
    const list = await runCli(['list', ...s])
    t.ok(errorOf(t, list).startsWith('error: PEER_NOT_RUNNING: '), 'list: no peer')

    // The same folder starts again: the stop left nothing behind
    const restarted = await spawnCli(t, startArgs(storage, bootstrap), /Ready\./)
    t.is((await runCli(['stop', ...s, '--json'])).stdout.trim(), '{\n  "stopped": true\n}')
    t.is((await restarted.exited).code, 0)
  }
)

test(
  'a long storage path: the socket is in a private folder of the user, and stop works',
  { timeout: 60000 },
  async (t) => {
    const bootstrap = await bootstrapNode(t)
    const tmp = await t.tmp()
    const storage = path.join(tmp, 'x'.repeat(120))
    const env = { TMPDIR: tmp, XDG_RUNTIME_DIR: '' }
    const s = ['--storage', storage]
    const peer = await spawnCli(t, startArgs(storage, bootstrap), /Ready\./, { env })

    const dir = path.join(
      tmp,
      `hyperauction-${process.getuid ? process.getuid() : os.userInfo().username}`
    )
    const socket = /control socket: (.*)/.exec(peer.output)[1]
    t.is(path.dirname(socket), dir, 'the socket is in <tmpdir>/hyperauction-<uid>')
    t.is(fs.statSync(dir).mode & 0o777, 0o700, 'a folder for the user only')
    t.is(fs.statSync(socket).mode & 0o777, 0o600)

    t.is((await runCli(['id', ...s], { env })).code, 0)
    t.is((await runCli(['stop', ...s], { env })).code, 0)
    t.is((await peer.exited).code, 0)

    // The private folder opened to others: refused, by the peer and by the commands
    fs.chmodSync(dir, 0o755)
    const refused = await runCli(['list', ...s], { env })
    t.is(
      errorOf(t, refused),
      `error: CONTROL_SOCKET_UNSAFE: ${dir} is open to other users (mode 755): run chmod 700 ${dir}`
    )
    const start = await runCli(startArgs(storage, bootstrap), { env })
    t.ok(errorOf(t, start).startsWith('error: CONTROL_SOCKET_UNSAFE: '), 'start refuses it too')
  }
)

test(
  'an unreachable bootstrap: one coded line, exit 1, in seconds',
  { timeout: 60000 },
  async (t) => {
    const port = await freePort()
    const storage = path.join(await t.tmp(), 'alone')
    const started = Date.now()
    const res = await runCli(startArgs(storage, `127.0.0.1:${port}`), { timeout: 30000 })
    const took = Date.now() - started
    t.is(errorOf(t, res), `error: BOOTSTRAP_UNREACHABLE: no DHT node answered at 127.0.0.1:${port}`)
    t.ok(res.stderr.startsWith(`connecting to the DHT at 127.0.0.1:${port}...\n`), 'said first')
    // The probe gives up after about 4 s; the DHT alone took 12.5 s, then never exited
    t.ok(took < 15000, `exited in ${took} ms`)
    t.absent(fs.existsSync(path.join(storage, 'control.sock')), 'no control socket left')
  }
)

test('bootstrap and start on a UDP port in use exit 1 with one line', async (t) => {
  const socket = dgram.createSocket('udp4')
  await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => socket.close(resolve)))
  const { port } = socket.address()

  const boot = await runCli(['bootstrap', '--host', '127.0.0.1', '--port', String(port)])
  t.is(errorOf(t, boot), `error: PORT_IN_USE: 127.0.0.1:${port} is in use`)

  const storage = path.join(await t.tmp(), 'busy')
  const start = await runCli([...startArgs(storage, `127.0.0.1:${port}`), '--port', String(port)])
  t.is(errorOf(t, start), `error: PORT_IN_USE: 127.0.0.1:${port} is in use`)
})

test('a storage folder that cannot be made says which folder and why', async (t) => {
  const dir = await t.tmp()
  const file = path.join(dir, 'file')
  fs.writeFileSync(file, '')
  const under = await runCli([
    'start',
    '--storage',
    path.join(file, 'x'),
    '--bootstrap',
    '127.0.0.1:1'
  ])
  t.is(errorOf(t, under), `error: ENOTDIR: ${file} is a file, not a folder`)

  const list = await runCli(['list', '--storage', path.join(file, 'x')])
  t.ok(errorOf(t, list).startsWith('error: PEER_NOT_RUNNING: '))

  // Permissions do not bind root
  if (process.getuid && process.getuid() === 0) return
  const locked = path.join(dir, 'locked')
  fs.mkdirSync(locked, { mode: 0o500 })
  t.teardown(() => fs.chmodSync(locked, 0o700))
  const res = await runCli([
    'start',
    '--storage',
    path.join(locked, 'x'),
    '--bootstrap',
    '127.0.0.1:1'
  ])
  t.is(
    errorOf(t, res),
    `error: EACCES: cannot create ${path.join(locked, 'x')}: ${locked} is not writable by this user`
  )
})

test('SIGTERM stops a start that waits for its bootstrap', async (t) => {
  const port = await freePort()
  const storage = path.join(await t.tmp(), 'waiting')
  const peer = await spawnCli(t, startArgs(storage, `127.0.0.1:${port}`), /connecting to the DHT/)
  peer.kill('SIGTERM')
  t.is((await peer.exited).code, 0, 'exits 0 without waiting for the bootstrap')
  t.absent(fs.existsSync(path.join(storage, 'control.sock')), 'its control socket is gone')
})
