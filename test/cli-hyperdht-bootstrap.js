const test = require('brittle')
const path = require('path')
const { spawn, spawnSync } = require('child_process')

const INNER = path.join(__dirname, 'netns', 'hyperdht-bootstrap.js')
const LOOPBACK_ONLY = ['--net', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"']

// The system's own recipe binds every interface, so it runs where loopback is the only one
const namespaces = spawnSync('unshare', [...LOOPBACK_ONLY, 'true']).status === 0
const maybe = namespaces ? test : test.skip

maybe(
  'hyperdht --bootstrap works as the private bootstrap (run in a loopback-only namespace)',
  async (t) => {
    const child = spawn('unshare', [...LOOPBACK_ONLY, process.execPath, INNER], {
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let output = ''
    child.stdout.on('data', (data) => {
      output += data
    })
    child.stderr.on('data', (data) => {
      output += data
    })
    const code = await new Promise((resolve) => child.once('exit', resolve))
    if (code !== 0) t.comment(output)
    t.is(code, 0, 'the scenario passed inside the namespace')
    t.ok(/# tests = 1\/1 pass/.test(output), 'its one test ran and passed')
    t.absent(/not ok/.test(output), 'no assertion failed')
  }
)
