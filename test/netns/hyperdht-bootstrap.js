// Run by test/cli-hyperdht-bootstrap.js inside a fresh network namespace whose only interface
// is loopback: there hyperdht's bootstrap, which binds every interface, binds loopback only.
const test = require('brittle')
const { spawnNode } = require('../helpers/processes')
const { cliScenario } = require('../helpers/cli-scenario')

const PORT = 30001

test('reference scenario with `hyperdht --bootstrap` from node_modules as the bootstrap', async (t) => {
  const boot = await spawnNode(
    t,
    [
      require.resolve('hyperdht/bin.js'),
      '--bootstrap',
      '--host',
      '127.0.0.1',
      '--port',
      String(PORT)
    ],
    /Fully started/
  )
  await cliScenario(t, await t.tmp(), PORT)
  boot.kill('SIGINT')
  await boot.exited
})
