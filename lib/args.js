const b4a = require('b4a')
const AuctionError = require('./errors')
const m = require('./messages')
const rules = require('./rules')
const { parseAmount } = require('./money')

const DEFAULT_CURRENCY = 'USDt'

// What the public API takes from its callers: ids, keys, hex, terms and settlement terms

function parseId(id) {
  if (b4a.isBuffer(id) && id.byteLength === 16) return b4a.toString(id, 'hex')
  if (typeof id !== 'string' || !/^[0-9a-f]{32}$/i.test(id)) {
    throw AuctionError.INVALID_ID('An auction id is 32 hex characters')
  }
  return id.toLowerCase()
}

function parseKey(hex, what) {
  if (typeof hex !== 'string' || !/^[0-9a-f]{64}$/i.test(hex)) {
    throw AuctionError.INVALID_ARGUMENT(`${what} is a 64 hex character public key`)
  }
  return b4a.from(hex, 'hex')
}

function parseHex(value, bytes, what) {
  const hex = typeof value === 'string' ? value.replace(/^0x/i, '') : ''
  if (!/^([0-9a-f]{2})+$/i.test(hex) || (bytes !== null && hex.length !== bytes * 2)) {
    throw AuctionError.INVALID_ARGUMENT(`${what} is ${bytes ? bytes + ' bytes of' : ''} hex`)
  }
  return b4a.from(hex, 'hex')
}

function parseSettlement(s) {
  const address = (value, what) => parseHex(value, 20, what)
  return rules.checkSettlement({
    chainId: s.chainId,
    token: address(s.token, 'The token address'),
    payTo: address(s.payTo, 'The address to pay'),
    payWithin: s.payWithin,
    confirmations: s.confirmations === undefined ? 1 : s.confirmations
  })
}

// What openAuction() takes, as the payload of an AuctionOpened signed now. Terms (all optional):
// reserve, increment ("5" or "2.5%"), softClose (ms), maxExtensions, buyNow; amounts are
// decimal strings. The end is endsAt, or duration ms from now.
function parseOpening(opts) {
  const { item, price, currency = DEFAULT_CURRENCY, duration } = opts
  let { endsAt } = opts
  rules.checkItem(item)
  const startPrice = parseAmount(price)
  rules.checkCurrency(currency)
  const createdAt = Date.now()
  if (duration !== undefined && duration !== null) {
    if (!Number.isSafeInteger(duration) || duration <= 0) {
      throw AuctionError.INVALID_DURATION('Duration must be a positive number of milliseconds')
    }
    endsAt = createdAt + duration
  }
  rules.checkEndsAt(endsAt || 0, createdAt)
  return {
    item,
    startPrice,
    currency,
    endsAt: endsAt || 0,
    createdAt,
    terms: rules.checkTerms(parseTerms(opts), startPrice, endsAt || 0),
    settlement: opts.settlement ? parseSettlement(opts.settlement) : null,
    // The reference to a picture stored first (lib/pictures.js), set by openAuction
    picture: null
  }
}

// Terms from decimal strings: the increment is an amount or a percentage like "2.5%"
function parseTerms(opts) {
  const amount = (value, name) => {
    if (value === undefined || value === null) return 0n
    try {
      return parseAmount(String(value))
    } catch (err) {
      throw AuctionError.INVALID_AMOUNT(`The ${name}: ${err.message.replace(err.code + ': ', '')}`)
    }
  }
  const terms = { ...m.NO_TERMS }
  terms.reserve = amount(opts.reserve, 'reserve')
  terms.buyNow = amount(opts.buyNow, 'buy-now price')
  const increment =
    opts.increment === undefined || opts.increment === null ? null : String(opts.increment)
  if (increment !== null && increment.endsWith('%')) {
    const rate = /^([0-9]{1,3})(\.[0-9]{1,2})?%$/.exec(increment)
    if (rate === null) {
      throw AuctionError.INVALID_TERMS(
        `"${increment.slice(0, 16)}" is not a percentage like 5% or 2.5%`
      )
    }
    terms.incrementRate = Number(rate[1]) * 100 + Number((rate[2] || '.').slice(1).padEnd(2, '0'))
  } else if (increment !== null) {
    terms.increment = amount(increment, 'increment')
  }
  for (const name of ['softClose', 'maxExtensions']) {
    const value = opts[name]
    if (value === undefined || value === null) continue
    if (!Number.isSafeInteger(value) || value < 0) {
      throw AuctionError.INVALID_TERMS(`${name} must be a whole number, 0 or more`)
    }
    terms[name] = value
  }
  return terms
}

module.exports = { parseId, parseKey, parseHex, parseOpening }
