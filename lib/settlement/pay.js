const AuctionError = require('../errors')
const { parseAmount, checkUnits } = require('../money')
const {
  chainIdOf,
  waitForReceipt,
  deadline,
  endpoint,
  POLL_INTERVAL,
  REQUEST_TIMEOUT
} = require('./json-rpc')
const { openWallet } = require('./wallet')
const { toAddress } = require('./address')

const PAY_TIMEOUT = 120000

// One payment at a time per paying address in this process: a second send before the first is
// mined would reuse its nonce
const queues = new Map()

// Sends `amount` (decimal string like '80', or bigint micro-units) of the ERC-20 `token` to `to`
// and resolves once it is mined, with { hash, blockNumber, from }. onprogress(step, info) with
// step 'sent' then 'mined'.
async function pay({
  url,
  chainId,
  token,
  seed,
  index = 0,
  privateKey,
  to,
  amount,
  timeout = PAY_TIMEOUT,
  interval = POLL_INTERVAL,
  requestTimeout = REQUEST_TIMEOUT,
  onprogress = noop
}) {
  const units = typeof amount === 'bigint' ? checkUnits(amount) : parseAmount(amount)
  token = toAddress(token, 'token')
  to = toAddress(to, 'recipient')
  const until = Date.now() + timeout

  // Also the reachability check: an endpoint that is down fails here within seconds
  const actual = await chainIdOf(url, { timeout: requestTimeout })
  if (chainId !== undefined && chainId !== null && actual !== BigInt(chainId)) {
    throw AuctionError.WRONG_CHAIN(
      `${endpoint(url)} serves chain ${actual}, the payment is due on chain ${chainId}`
    )
  }

  const wallet = await openWallet({ url, chainId: actual, seed, index, privateKey })
  try {
    return await serialize(wallet.address, async () => {
      const hash = await deadline(
        send(url, wallet, token, to, units),
        Math.max(1, until - Date.now()),
        () =>
          AuctionError.ENDPOINT_UNREACHABLE(`${endpoint(url)} did not take the transaction in time`)
      )
      onprogress('sent', { hash })

      const receipt = await waitForReceipt(url, hash, { until, interval, timeout: requestTimeout })
      if (receipt === null) {
        const err = AuctionError.NOT_MINED(
          `Transaction ${hash} was not mined within ${timeout} ms; claim it by its hash once it is`
        )
        err.txHash = hash
        throw err
      }
      const blockNumber = Number(BigInt(receipt.blockNumber))
      if (receipt.status !== '0x1') {
        const err = AuctionError.TX_REVERTED(`Transaction ${hash} reverted in block ${blockNumber}`)
        err.txHash = hash
        throw err
      }
      onprogress('mined', { hash, blockNumber })
      return { hash, blockNumber, from: wallet.address }
    })
  } finally {
    wallet.close()
  }
}

async function send(url, wallet, token, to, units) {
  try {
    return await wallet.transfer(token, to, units)
  } catch (err) {
    throw walletError(url, err)
  }
}

// ethers' errors carry a code; the WDK's own ones (a fee above its maximum) are plain
function walletError(url, err) {
  switch (err.code) {
    case 'CALL_EXCEPTION':
      return AuctionError.PAYMENT_FAILED(
        `The token contract refuses the transfer: ${revertReason(err)}`,
        err
      )
    case 'INSUFFICIENT_FUNDS':
      return AuctionError.PAYMENT_FAILED('Not enough of the native coin to pay for gas', err)
    case 'NETWORK_ERROR':
    case 'TIMEOUT':
    case 'SERVER_ERROR':
      return AuctionError.ENDPOINT_UNREACHABLE(
        `${endpoint(url)} failed while sending: ${err.shortMessage || err.message}`,
        err
      )
    default:
      return AuctionError.PAYMENT_FAILED(
        `The wallet could not send the payment: ${err.shortMessage || err.message}`,
        err
      )
  }
}

// ethers may find no reason in a node's revert answer; the node's own message has it
function revertReason(err) {
  const rpc = err.info && err.info.error
  return (
    err.reason || (rpc && rpc.data && rpc.data.reason) || (rpc && rpc.message) || err.shortMessage
  )
}

async function serialize(key, fn) {
  const prev = queues.get(key) || Promise.resolve()
  let release = null
  const done = new Promise((resolve) => {
    release = resolve
  })
  const tail = prev.then(() => done)
  queues.set(key, tail)
  await prev
  try {
    return await fn()
  } finally {
    release()
    if (queues.get(key) === tail) queues.delete(key)
  }
}

function noop() {}

module.exports = { pay, PAY_TIMEOUT }
