const AuctionError = require('../errors')
const {
  request,
  chainIdOf,
  blockNumberOf,
  sleep,
  endpoint,
  REQUEST_TIMEOUT
} = require('./json-rpc')
const { toAddress, isTxHash } = require('./address')

// Block timestamps against the seller's clock
const CLOCK_SLACK = 15 * 1000
const { formatAmount } = require('../money')

// keccak256('Transfer(address,address,uint256)')
const TRANSFER_TOPIC = '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef'
const CONFIRM_INTERVAL = 1000

// The seller's check of a claimed payment, through its own endpoint only: nothing the buyer
// forwards is trusted but the hash. Resolves with { txHash, blockNumber, blockHash, from, to,
// value, confirmations } or throws an AuctionError with the code of the first check that
// fails. With a timeout it waits that long for the confirmations, reporting
// onprogress('confirmations', { confirmations, required }) as they grow, then 'verified'.
async function verifyPayment({
  url,
  chainId,
  token,
  payTo,
  amount,
  txHash,
  confirmations = 1,
  timeout = 0,
  interval = CONFIRM_INTERVAL,
  requestTimeout = REQUEST_TIMEOUT,
  notBefore = 0,
  onprogress = noop
}) {
  if (chainId === undefined || chainId === null) {
    throw AuctionError.INVALID_ARGUMENT('The chain id the payment is due on is required')
  }
  if (typeof amount !== 'bigint' || amount <= 0n) {
    throw AuctionError.INVALID_ARGUMENT('The amount must be a positive bigint of micro-units')
  }
  if (!(Number.isSafeInteger(confirmations) && confirmations >= 1)) {
    throw AuctionError.INVALID_ARGUMENT('At least one confirmation is required')
  }
  token = toAddress(token, 'token')
  payTo = toAddress(payTo, 'seller address')
  if (!isTxHash(txHash)) {
    throw AuctionError.UNKNOWN_TX(`"${String(txHash).slice(0, 80)}" is not a transaction hash`)
  }
  txHash = txHash.toLowerCase()
  const until = Date.now() + timeout

  const opts = { timeout: requestTimeout }
  const actual = await chainIdOf(url, opts)
  if (actual !== BigInt(chainId)) {
    throw AuctionError.WRONG_CHAIN(
      `${endpoint(url)} serves chain ${actual}, the payment is due on chain ${chainId}`
    )
  }

  let reported = -1
  while (true) {
    // Read afresh each round: a reorg can move the transaction to another block or drop it
    const payment = await inspect(url, { token, payTo, amount, txHash }, opts)
    const head = await blockNumberOf(url, opts)
    const confirmed = payment === null ? 0 : Math.max(0, head - payment.blockNumber + 1)

    if (confirmed !== reported) {
      reported = confirmed
      onprogress('confirmations', {
        confirmations: Math.min(confirmed, confirmations),
        required: confirmations
      })
    }
    if (confirmed >= confirmations) {
      await onChain(url, payment, opts, notBefore)
      const result = { ...payment, confirmations: confirmed }
      onprogress('verified', result)
      return result
    }
    if (Date.now() + interval > until) {
      const err = AuctionError.NOT_CONFIRMED(
        payment === null
          ? `Transaction ${txHash} is not mined yet (0 of ${confirmations} confirmations)`
          : `Transaction ${txHash} has ${confirmed} of ${confirmations} confirmations`
      )
      err.confirmations = confirmed
      err.required = confirmations
      throw err
    }
    await sleep(interval)
  }
}

// The payment in the receipt, or null while the transaction waits in the mempool
async function inspect(url, { token, payTo, amount, txHash }, opts) {
  const receipt = await request(url, 'eth_getTransactionReceipt', [txHash], opts)
  if (!receipt) {
    const tx = await request(url, 'eth_getTransactionByHash', [txHash], opts)
    if (!tx) throw AuctionError.UNKNOWN_TX(`${endpoint(url)} knows no transaction ${txHash}`)
    return null
  }
  const blockNumber = Number(BigInt(receipt.blockNumber))
  if (BigInt(receipt.status) !== 1n) {
    throw AuctionError.TX_REVERTED(`Transaction ${txHash} reverted in block ${blockNumber}`)
  }

  // Only the agreed contract's own Transfer events count: any contract can emit one that lies
  const transfers = receipt.logs
    .filter((log) => !log.removed && log.address.toLowerCase() === token)
    .map(decodeTransfer)
    .filter((t) => t !== null)
  if (transfers.length === 0) {
    throw AuctionError.WRONG_TOKEN(`Transaction ${txHash} moved no tokens of ${token}`)
  }
  const paid = transfers.filter((t) => t.to === payTo)
  if (paid.length === 0) {
    throw AuctionError.WRONG_RECIPIENT(`Transaction ${txHash} paid nothing to ${payTo}`)
  }
  // One Transfer must cover the price: adding several up would leave the payer ambiguous
  const best = paid.reduce((a, b) => (b.value > a.value ? b : a))
  if (best.value < amount) {
    throw AuctionError.SHORT_AMOUNT(
      `Transaction ${txHash} paid ${units(best.value)} USDt, the price is ${units(amount)} USDt`
    )
  }
  return {
    txHash,
    blockNumber,
    blockHash: receipt.blockHash.toLowerCase(),
    from: best.from,
    to: best.to,
    value: best.value
  }
}

// A receipt can outlive its block on a lagging node; the block at that height must be it
// A transfer mined before notBefore (ms; the sale) paid something else
async function onChain(url, payment, opts, notBefore) {
  const block = await request(url, 'eth_getBlockByNumber', [hex(payment.blockNumber), false], opts)
  if (!block || block.hash.toLowerCase() !== payment.blockHash) {
    throw AuctionError.REORGED(
      `Block ${payment.blockNumber} of transaction ${payment.txHash} is no longer on the chain`
    )
  }
  // Block times are in seconds and may run a little behind the seller's clock
  if (Number(BigInt(block.timestamp)) * 1000 < notBefore - CLOCK_SLACK) {
    throw AuctionError.TX_TOO_OLD(
      `Transaction ${payment.txHash} was mined before the sale it is claimed for`
    )
  }
}

function decodeTransfer(log) {
  const topics = log.topics
  // ERC-721 Transfers have the same signature but a third indexed topic and no data
  if (topics.length !== 3 || topics[0].toLowerCase() !== TRANSFER_TOPIC) return null
  if (typeof log.data !== 'string' || log.data.length !== 66) return null
  return {
    from: topicAddress(topics[1]),
    to: topicAddress(topics[2]),
    value: BigInt(log.data)
  }
}

function topicAddress(topic) {
  return '0x' + topic.slice(-40).toLowerCase()
}

function hex(n) {
  return '0x' + n.toString(16)
}

// Only ever called with less than the price, so within what formatAmount takes
function units(value) {
  return value === 0n ? '0' : formatAmount(value)
}

function noop() {}

module.exports = { verifyPayment, TRANSFER_TOPIC }
