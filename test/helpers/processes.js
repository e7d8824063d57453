const { spawn, execFile } = require('child_process')
const dgram = require('dgram')
const path = require('path')

const BIN = path.join(__dirname, '..', '..', 'bin', 'hyperauction.js')

// A UDP port on 127.0.0.1 that nothing holds right now
function freePort() {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4')
    socket.once('error', reject)
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address()
      socket.close(() => resolve(port))
    })
  })
}

// Spawns a long-running hyperauction process, resolves once its output (stdout or stderr)
// matches ready. Teardown kills it if the test did not stop it.
function spawnCli(t, args, ready, opts = {}) {
  return spawnNode(t, [BIN, ...args], ready, opts)
}

function spawnNode(t, argv, ready, opts = {}) {
  const child = spawn(process.execPath, argv, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...opts.env }
  })
  child.output = ''
  child.exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal }))
  )
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    return child.exited
  })
  return new Promise((resolve, reject) => {
    for (const stream of [child.stdout, child.stderr]) {
      stream.setEncoding('utf-8')
      stream.on('data', (data) => {
        child.output += data
        if (ready.test(child.output)) resolve(child)
      })
    }
    child.once('exit', (code) => reject(new Error(`exited ${code} before ready:\n${child.output}`)))
  })
}

// Runs one short command; resolves with { code, stdout, stderr } whatever the exit code
function runCli(args, opts = {}) {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, ...opts.env }, timeout: opts.timeout || 20000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr })
      }
    )
  })
}

async function runJson(args) {
  const res = await runCli([...args, '--json'])
  if (res.code !== 0) throw new Error(`${args.join(' ')} failed: ${res.stderr}`)
  return JSON.parse(res.stdout)
}

module.exports = { freePort, spawnCli, spawnNode, runCli, runJson, BIN }
