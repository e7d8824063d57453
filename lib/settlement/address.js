const AuctionError = require('../errors')

const ADDRESS = /^0x[0-9a-fA-F]{40}$/
const TX_HASH = /^0x[0-9a-fA-F]{64}$/

function isAddress(str) {
  return typeof str === 'string' && ADDRESS.test(str)
}

function isTxHash(str) {
  return typeof str === 'string' && TX_HASH.test(str)
}

// Lower case: the chain answers in either case, and comparisons must not care
function toAddress(str, what = 'address') {
  if (!isAddress(str)) {
    throw AuctionError.INVALID_ARGUMENT(`The ${what} is not a 0x-prefixed 20-byte hex address`)
  }
  return str.toLowerCase()
}

module.exports = { isAddress, isTxHash, toAddress }
