const test = require('brittle')
const fs = require('fs')
const path = require('path')
const EventEmitter = require('events')
const { spawn, spawnSync } = require('child_process')
const { freePort, spawnCli, runCli, runJson, BIN } = require('./helpers/processes')
const { until } = require('./helpers')
const { ControlServer, ControlClient } = require('../lib/cli/control')
const format = require('../lib/cli/format')

// What a newcomer to the CLI tripped over, tried as a new user would

// `script` gives a peer a pseudo-terminal, so `start` opens its console as it would for a person
const hasScript = spawnSync('script', ['--version']).status === 0
const maybe = hasScript ? test : test.skip

const BEHIND = 2 * 60 * 1000

// A command run on a terminal, as a person runs it: what it prints, and type(text) to type
function onTerminal(t, args) {
  const line = [process.execPath, BIN, ...args].join(' ')
  const child = spawn('script', ['-qfec', line, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] })
  const peer = { screen: '', type: (text) => child.stdin.write(text) }
  child.stdout.on('data', (data) => {
    peer.screen += data
  })
  peer.exited = new Promise((resolve) => child.once('exit', resolve))
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
    return peer.exited
  })
  return peer
}

maybe(
  'history is told as history at its own time, every name has a key prefix, an offline seller keeps its name, the console answers in order',
  { timeout: 120000 },
  async (t) => {
    const dir = await t.tmp()
    const port = await freePort()
    await spawnCli(t, ['bootstrap', '--host', '127.0.0.1', '--port', String(port)], /listening/)
    const net = ['--bootstrap', `127.0.0.1:${port}`, '--host', '127.0.0.1', '--network', 'new']
    const storage = (name) => path.join(dir, name)
    const s = (name) => ['--storage', storage(name)]

    // The seller's clock runs two minutes behind: its auctions are two minutes old when the
    // fresh peer joins, as if it had opened them then
    const behind = path.join(dir, 'behind.js')
    fs.writeFileSync(behind, `const now = Date.now\nDate.now = () => now() - ${BEHIND}\n`)
    const env = { NODE_OPTIONS: `--require ${behind}` }
    await spawnCli(t, ['start', ...s('seller'), ...net, '--name', 'Client#1'], /Ready\./, { env })
    const seller = (await runJson(['id', ...s('seller')])).publicKey

    const opened = await runCli(['open', 'Pic#1', '10', ...s('seller')])
    const pic1 = /^id ([0-9a-f]{32})$/m.exec(opened.stdout)[1]
    t.ok(
      opened.stdout.includes(`no end: close it with hyperauction close ${pic1}`),
      'open says that an auction without --duration has no end'
    )
    const help = await runCli(['open', '--help'])
    t.ok(/--duration\|-d <time> .*default: no end/.test(help.stdout), 'and so does its help')
    const lamp = await runJson(['open', 'Lamp', '5', '--buy-now', '20', ...s('seller')])
    const createdAt = (await runJson(['show', pic1, ...s('seller')])).createdAt

    // A fresh peer, with a console
    const fresh = onTerminal(t, ['start', ...s('fresh'), ...net, '--name', 'Client#2'])
    await until(() => fresh.screen.includes('auction opened: Lamp'), 30000, 'the history')
    const fresh64 = (await runJson(['id', ...s('fresh')])).publicKey
    t.ok(
      fresh.screen.includes(
        `[${format.time(createdAt)}] (catch-up) auction opened: Pic#1 for 10 USDt by Client#1 (${seller.slice(0, 8)}) (id ${pic1})`
      ),
      'a fresh peer prints history at the time of the event, marked catch-up, the seller named with its key prefix'
    )

    // A second peer that calls itself Client#2 too
    await spawnCli(t, ['start', ...s('twin'), ...net, '--name', 'Client#2'], /Ready\./)
    const twin = (await runJson(['id', ...s('twin')])).publicKey
    const t8 = twin.slice(0, 8)
    await until(
      () => fresh.screen.includes(`peer joined: Client#2 (${t8}), the same name as yours`),
      20000,
      'the twin at the fresh peer'
    )
    t.pass('a peer that joins under your own name is said to have it')
    await until(async () => (await runJson(['peers', ...s('seller')])).length === 2, 20000, 'both')
    const peers = (await runCli(['peers', ...s('seller')])).stdout
    t.ok(
      peers.includes(`${twin}  Client#2  (same name as ${fresh64.slice(0, 8)})`) &&
        peers.includes(`${fresh64}  Client#2  (same name as ${t8})`),
      '`peers` says when two peers share a name'
    )

    // Live news is not marked, and is printed at its time
    const mark = fresh.screen.length
    await runJson(['open', 'Pic#2', '3', ...s('twin')])
    const live = new RegExp(
      `\\[(\\d\\d:\\d\\d:\\d\\d)\\] auction opened: Pic#2 for 3 USDt by Client#2 \\(${t8}\\)`
    )
    await until(() => live.test(fresh.screen.slice(mark)), 20000, 'the live opening')
    t.pass('live news is printed unmarked, the twin told apart by its key prefix')

    // A buy-now bid says that the bidder won
    const bought = await runCli(['bid', lamp.id, '20', ...s('twin')])
    t.is(bought.code, 0, bought.stderr)
    t.ok(
      bought.stdout.includes('the buy-now price: you won Lamp'),
      'a buy-now bid says the bidder won'
    )
    await until(
      () => fresh.screen.includes(`: the buy-now price, Client#2 (${t8}) wins`),
      20000,
      'the buy-now at the fresh peer'
    )
    t.pass('and every peer is told who won')

    // Typed ahead: answered in the order typed, the slower first
    const before = fresh.screen.length
    fresh.type('open Slow 1\rid\r')
    await until(() => fresh.screen.slice(before).includes(`${fresh64} (Client#2)`), 10000, 'id')
    const typed = fresh.screen.slice(before)
    t.ok(typed.indexOf('opened Slow') !== -1, 'the open is answered')
    t.ok(
      typed.indexOf('opened Slow') < typed.indexOf(`${fresh64} (Client#2)`),
      'before the id typed after it'
    )

    // The seller goes offline: its auctions keep its name
    t.is((await runCli(['stop', ...s('seller')])).code, 0)
    await until(
      () => fresh.screen.includes(`peer left: Client#1 (${seller.slice(0, 8)})`),
      20000,
      'the seller gone'
    )
    const named = `Pic#1  from 10 USDt by Client#1 (${seller.slice(0, 8)})`
    const after = fresh.screen.length
    fresh.type('list\r')
    await until(() => fresh.screen.slice(after).includes('Lamp'), 10000, 'the list')
    t.ok(fresh.screen.slice(after).includes(named), 'the console names an offline seller')
    const listed = await runCli(['list', ...s('fresh')])
    t.ok(listed.stdout.includes(named), 'and so does `list`')
    const nameOf = await new ControlClient(storage('fresh')).names()
    t.is(nameOf(seller), `Client#1 (${seller.slice(0, 8)})`, 'the name is kept with the log')

    fresh.type('exit\r')
    t.is(await fresh.exited, 0, 'the console exits cleanly')
  }
)

maybe(
  'on a terminal pay prints its steps as they come; piped or --json, its answer alone',
  async (t) => {
    const storage = path.join(await t.tmp(), 'payer')
    fs.mkdirSync(storage, { mode: 0o700 })
    const id = 'ab'.repeat(16)
    const sent = '0x' + '12'.repeat(32)
    // A peer whose payment waits for a chain: the test says when each step happens
    const peer = new EventEmitter()
    let confirm = null
    let confirmed = false
    Object.assign(peer, {
      id: 'cd'.repeat(32),
      name: 'Client#2',
      greeting: null,
      peers: () => [],
      async pay(auction, opts) {
        this.emit('payment-progress', { auction, step: 'sent', hash: sent })
        this.emit('payment-progress', { auction: 'ef'.repeat(16), step: 'sent', hash: '0x00' })
        if (!confirmed) {
          await new Promise((resolve) => {
            confirm = resolve
          })
        }
        this.emit('payment-progress', { auction, step: 'verified', txHash: sent, blockNumber: 7 })
        return {
          item: 'Pic#1',
          currency: 'USDt',
          payment: {
            status: 'paid',
            amount: '80',
            buyer: this.id,
            txHash: opts.txHash,
            blockNumber: 7,
            verified: 'verified'
          },
          confirmed: true
        }
      }
    })
    const control = new ControlServer(peer, storage)
    await control.listen()
    t.teardown(() => control.close())

    const args = [
      'pay',
      id,
      '--tx',
      sent,
      '--signature',
      '0x' + '34'.repeat(65),
      '--storage',
      storage
    ]
    const paying = onTerminal(t, args)
    await until(() => paying.screen.includes('payment: transfer sent'), 10000, 'the first step')
    t.ok(paying.screen.includes(`payment: transfer sent (tx ${sent})`), 'the first step at once')
    t.absent(paying.screen.includes('0x00'), 'only this payment’s steps')
    confirmed = true
    confirm()
    t.is(await paying.exited, 0)
    const verified = paying.screen.indexOf('payment: the seller verified the payment (block 7)')
    t.ok(verified !== -1, 'the last step')
    const answer = `Pic#1: paid, 80 USDt by Client#2 (you) (tx ${sent}, block 7; verified on a chain endpoint)`
    t.ok(paying.screen.indexOf(answer) > verified, 'then the answer')

    const piped = await runCli(args)
    t.is(piped.stdout, answer + '\n', 'piped: the answer alone')
    t.is(piped.stderr, '', 'no steps: a script reads stderr for an error')

    const json = await runCli([...args, '--json'])
    t.is(json.code, 0, json.stderr)
    t.is(JSON.parse(json.stdout).payment.status, 'paid', '--json prints one JSON value')
    t.is(json.stderr, '', 'and nothing else')
  }
)

test('start on a folder that cannot hold one says so at once', async (t) => {
  const dir = await t.tmp()
  const link = path.join(dir, 'link')
  fs.symlinkSync(path.join(dir, 'nowhere'), link)
  const where = ['--bootstrap', '127.0.0.1:1', '--host', '127.0.0.1']
  const started = Date.now()
  const res = await runCli(['start', '--storage', path.join(link, 'x'), ...where])
  t.is(res.code, 1)
  t.is(
    res.stderr.trim(),
    `error: ENOENT: cannot create ${path.join(link, 'x')}: ${link} is a link to ${path.join(dir, 'nowhere')}, which is missing`
  )
  if (fs.existsSync('/proc/self')) {
    const proc = await runCli(['start', '--storage', '/proc/x', ...where], { timeout: 10000 })
    t.is(proc.code, 1, 'exits 1')
    const root = process.getuid && process.getuid() === 0
    t.is(
      proc.stderr.trim(),
      root
        ? 'error: ENOENT: cannot create /proc/x: /proc takes no new folders'
        : 'error: EACCES: cannot create /proc/x: /proc is not writable by this user'
    )
  }
  t.ok(Date.now() - started < 10000, `at once: ${Date.now() - started} ms`)
})
