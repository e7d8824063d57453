// The anvil node of startLocalChain (Foundry's local chain, its binary from the
// @foundry-rs/anvil-<platform>-<arch> package), started and watched by this small process of its
// own: close() can always kill it, even when the chain hangs, and when the parent is gone this
// process ends the chain with itself
const { spawn } = require('child_process')
const path = require('path')

// anvil's own deterministic test accounts
const MNEMONIC = 'test test test test test test test test test test test junk'
const DERIVATION = "m/44'/60'/0'/0/"

const { chainId, totalAccounts, port } = JSON.parse(process.argv[2])

function anvilBinary() {
  const platform = { linux: 'linux', darwin: 'darwin', win32: 'win32' }[process.platform]
  const arch = { x64: 'amd64', arm64: 'arm64' }[process.arch]
  const name = `@foundry-rs/anvil-${platform}-${arch}`
  let dir
  try {
    dir = path.dirname(require.resolve(name + '/package.json'))
  } catch {
    throw new Error(`${name} is not installed (npm ci installs it on Linux, macOS and Windows)`)
  }
  return path.join(dir, 'bin', process.platform === 'win32' ? 'anvil.exe' : 'anvil')
}

let anvil = null

// anvil goes first, at once: a worker killed in the middle leaves its parent to kill anvil by
// its pid (startLocalChain's close)
function stop(code) {
  if (anvil !== null && anvil.exitCode === null) anvil.kill('SIGKILL')
  process.exit(code)
}

// The parent is gone (crashed or closed us): a chain nobody can reach must not outlive it
process.on('disconnect', () => stop(0))
process.on('SIGTERM', () => stop(0))

function main() {
  // Each transaction is mined right after it is sent (anvil's default: the answer to the send
  // may come first), a failing one with status 0
  anvil = spawn(
    anvilBinary(),
    [
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--chain-id',
      String(chainId),
      '--accounts',
      String(totalAccounts),
      '--mnemonic',
      MNEMONIC
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] }
  )
  anvil.stderr.pipe(process.stderr)
  anvil.on('error', (err) => fail(`anvil could not run: ${err.message}`))
  anvil.on('exit', (code, signal) => fail(`anvil exited with ${signal || code}`))
  let out = ''
  anvil.stdout.setEncoding('utf8')
  anvil.stdout.on('data', function onlisten(data) {
    out = (out + data).slice(-4096)
    const listening = out.match(/Listening on 127\.0\.0\.1:(\d+)/)
    if (listening === null) return
    anvil.stdout.off('data', onlisten)
    anvil.stdout.resume()
    ready(Number(listening[1]))
  })
}

function ready(listening) {
  const { HDNodeWallet } = require('ethers')
  const accounts = []
  for (let i = 0; i < totalAccounts; i++) {
    const wallet = HDNodeWallet.fromPhrase(MNEMONIC, undefined, DERIVATION + i)
    accounts.push({ address: wallet.address.toLowerCase(), privateKey: wallet.privateKey })
  }
  process.send({ port: listening, mnemonic: MNEMONIC, accounts, pid: anvil.pid })
}

function fail(message) {
  if (process.connected) process.send({ error: message })
  process.exit(1)
}

try {
  main()
} catch (err) {
  fail(err.message)
}
