const test = require('brittle')
const { freePort, spawnCli, runCli } = require('./helpers/processes')
const { cliScenario } = require('./helpers/cli-scenario')

// Five long-running processes and some forty commands: time for a busy machine
test(
  'reference scenario across four processes, driven only by the CLI',
  { timeout: 120000 },
  async (t) => {
    const dir = await t.tmp()
    const port = await freePort()
    const boot = await spawnCli(
      t,
      ['bootstrap', '--host', '127.0.0.1', '--port', String(port)],
      /listening on 127\.0\.0\.1:/
    )

    await cliScenario(t, dir, port)

    boot.kill('SIGTERM')
    t.is((await boot.exited).code, 0, 'the bootstrap exits 0 on SIGTERM')
  }
)

test('command errors are one coded line', async (t) => {
  const dir = await t.tmp()
  const usage = await runCli(['bid', 'abc'])
  t.is(usage.code, 1)
  t.is(usage.stderr.trim(), 'error: USAGE: hyperauction bid: missing arg <amount> (see --help)')

  const duration = await runCli(['open', 'x', '1', '--duration', 'soon', '--storage', dir])
  t.ok(duration.stderr.startsWith('error: INVALID_DURATION:'), 'bad duration')

  const help = await runCli(['open', '--help'])
  t.is(help.code, 0)
  t.ok(help.stdout.includes('Example: hyperauction open'), 'help has an example')
})
