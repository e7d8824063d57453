const test = require('brittle')
const path = require('path')
const fs = require('fs')
const { spawn, spawnSync } = require('child_process')
const { freePort, spawnCli, BIN } = require('./helpers/processes')
const { until } = require('./helpers')

// `script` gives the peer a pseudo-terminal, so `start` opens its console as it would for a person
const hasScript = spawnSync('script', ['--version']).status === 0
const maybe = hasScript ? test : test.skip

maybe('the console of start takes the CLI commands and keeps a history', async (t) => {
  const dir = await t.tmp()
  const port = await freePort()
  await spawnCli(t, ['bootstrap', '--host', '127.0.0.1', '--port', String(port)], /listening/)

  const storage = path.join(dir, 'alice')
  const cmd = [BIN, 'start', '--storage', storage, '--bootstrap', `127.0.0.1:${port}`]
  const line = [process.execPath, ...cmd, '--host', '127.0.0.1', '--name', 'Alice'].join(' ')
  const child = spawn('script', ['-qfec', line, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] })
  let screen = ''
  child.stdout.on('data', (data) => {
    screen += data
  })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  const type = (text) => child.stdin.write(text + '\r')

  await until(() => screen.includes('hyperauction> '), 15000, 'the prompt')
  type('open "Big Pic" 75.5 --currency USDt')
  await until(() => screen.includes('opened Big Pic for 75.5 USDt'), 5000, 'open')
  t.pass('open with a quoted item and a flag')

  type('bid 00 5')
  await until(() => screen.includes('error: AUCTION_NOT_FOUND'), 5000, 'a coded error')
  t.pass('errors print as one coded line and the console goes on')

  type('list --json')
  await until(() => screen.includes('"startPrice": "75.5"'), 5000, 'list --json')
  t.pass('--json works in the console')

  type('bid 00 5 --storage ./someone-else')
  await until(() => screen.includes('unknown flag --storage'), 5000, '--storage refused')
  t.pass('the console drives its own peer: --storage is refused, not ignored')

  type('help exit')
  await until(() => screen.includes('help [command], exit'), 5000, 'the list of commands')
  t.absent(screen.includes('unknown arg exit'), 'help on a console word lists the commands')

  type('exit')
  t.is(await exited, 0, 'exit stops the peer cleanly')
  const history = fs.readFileSync(path.join(storage, 'history'), 'utf-8').trim().split('\n')
  t.alike(
    history,
    [
      'open "Big Pic" 75.5 --currency USDt',
      'bid 00 5',
      'list --json',
      'bid 00 5 --storage ./someone-else',
      'help exit',
      'exit'
    ],
    'history'
  )
})
