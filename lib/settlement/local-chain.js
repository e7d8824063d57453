const { fork } = require('child_process')
const path = require('path')
const { once } = require('events')
const AuctionError = require('../errors')
const { parseAmount } = require('../money')
const { request, waitForReceipt, deadline, blockNumberOf } = require('./json-rpc')

const CHAIN_ID = 1337
const START_TIMEOUT = 30000
const CLOSE_TIMEOUT = 3000
const DEPLOY_GAS = 2000000
const MINT_GAS = 100000

const WORKER = path.join(__dirname, 'local-chain-worker.js')

// An anvil chain on 127.0.0.1 for the demo and the tests (lib/settlement/local-chain-worker.js): accounts[0] deploys TestUSDT and
// mints `mint` USDt to accounts[1..buyers]; the other accounts hold only ether
async function startLocalChain({
  buyers = 3,
  mint = '1000',
  chainId = CHAIN_ID,
  port = 0,
  accounts: totalAccounts = Math.max(10, buyers + 3),
  timeout = START_TIMEOUT
} = {}) {
  if (!(buyers >= 0 && buyers < totalAccounts)) {
    throw AuctionError.INVALID_ARGUMENT('buyers must leave account 0 to the deployer')
  }
  const units = parseAmount(mint)

  const child = fork(WORKER, [JSON.stringify({ chainId, totalAccounts, port })], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc']
  })
  // A running chain never holds this process open; when it ends, the worker sees its IPC channel
  // close and exits too
  child.unref()
  child.channel.unref()
  child.stderr.unref()
  let stderr = ''
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (data) => {
    stderr = (stderr + data).slice(-2000)
  })
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve(`exited with ${signal || code}`))
  })
  const failed = new Promise((resolve) => {
    child.once('error', (err) => resolve(`could not run: ${err.message}`))
  })
  let closing = null
  // anvil's own process, once the worker has told: killed here too, should the worker have been
  // killed before it could
  let anvil = null

  const close = () => {
    if (closing) return closing
    closing = stop(child, exited).then(() => {
      if (anvil !== null) killQuietly(anvil)
    })
    return closing
  }

  const started = Date.now()
  try {
    const ready = await deadline(
      Promise.race([
        once(child, 'message').then(([msg]) => msg),
        exited.then((error) => ({ error })),
        failed.then((error) => ({ error }))
      ]),
      timeout,
      () => new Error(`anvil did not listen within ${timeout} ms`)
    )
    if (ready.error) throw new Error(ready.error)
    anvil = ready.pid

    const url = `http://127.0.0.1:${ready.port}`
    const accounts = ready.accounts.map((a, index) => ({
      address: a.address,
      privateKey: a.privateKey,
      mnemonic: ready.mnemonic,
      index
    }))
    const deployer = accounts[0]
    const mints = accounts.slice(1, buyers + 1).map((a) => ({ to: a.address, amount: units }))

    const left = Math.max(1, timeout - (Date.now() - started))
    const token = await deadline(
      deployToken({ url, privateKey: deployer.privateKey, mint: mints, timeout: left }),
      left,
      () => new Error(`the token was not deployed and minted within ${timeout} ms`)
    )

    return {
      url,
      chainId,
      token,
      deployer: deployer.address,
      accounts,
      buyers: accounts.slice(1, buyers + 1),
      close
    }
  } catch (err) {
    await close()
    const why = stderr.trim() ? `${err.message}\n${stderr.trim()}` : err.message
    throw AuctionError.LOCAL_CHAIN_FAILED(`The local chain did not start: ${why}`, err)
  }
}

// Deploys a TestUSDT from lib/settlement/token.json and mints to each { to, amount (units) };
// resolves with its address. Signed here and sent raw, so no provider caches a nonce.
async function deployToken({ url, privateKey, mint = [], timeout = START_TIMEOUT }) {
  const { Wallet, Interface } = require('ethers')
  const { abi, bytecode } = require('./token.json')
  const until = Date.now() + timeout
  const wallet = new Wallet(privateKey)
  const token = new Interface(abi)

  const [chainId, gasPrice, nonce] = await Promise.all([
    request(url, 'eth_chainId'),
    request(url, 'eth_gasPrice'),
    request(url, 'eth_getTransactionCount', [wallet.address, 'pending'])
  ])
  const base = { chainId: BigInt(chainId), gasPrice: BigInt(gasPrice), type: 0 }

  const deployed = await send(
    url,
    wallet,
    { ...base, nonce: Number(nonce), to: null, data: bytecode, gasLimit: DEPLOY_GAS },
    until
  )
  const address = deployed.contractAddress

  const hashes = []
  for (let i = 0; i < mint.length; i++) {
    const data = token.encodeFunctionData('mint', [mint[i].to, mint[i].amount])
    const tx = { ...base, nonce: Number(nonce) + 1 + i, to: address, data, gasLimit: MINT_GAS }
    hashes.push(await request(url, 'eth_sendRawTransaction', [await wallet.signTransaction(tx)]))
  }
  for (const hash of hashes) await mined(url, hash, until)

  return address
}

async function send(url, wallet, tx, until) {
  const hash = await request(url, 'eth_sendRawTransaction', [await wallet.signTransaction(tx)])
  return mined(url, hash, until)
}

async function mined(url, hash, until) {
  const receipt = await waitForReceipt(url, hash, { until })
  if (receipt === null) throw new Error(`transaction ${hash} was not mined in time`)
  if (receipt.status !== '0x1') throw new Error(`transaction ${hash} reverted`)
  return receipt
}

// Mines n empty blocks (confirmations on a dev chain grow only when blocks are mined); resolves
// with the new head block number
async function mine(url, n = 1) {
  await request(url, 'anvil_mine', ['0x' + n.toString(16)])
  return blockNumberOf(url)
}

function killQuietly(pid) {
  try {
    process.kill(pid, 'SIGKILL')
  } catch (err) {
    // Gone already, as it should be once the worker stopped it
    if (err.code !== 'ESRCH') throw err
  }
}

async function stop(child, exited) {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), CLOSE_TIMEOUT)
  await exited
  clearTimeout(timer)
}

module.exports = { startLocalChain, deployToken, mine, CHAIN_ID }
