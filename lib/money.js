const AuctionError = require('./errors')

const DECIMALS = 6
const UNIT = 10n ** BigInt(DECIMALS)
const MAX_AMOUNT = 2n ** 63n - 1n
const AMOUNT = /^(0|[1-9][0-9]{0,18})(\.[0-9]{1,6})?$/

// Decimal string -> integer micro-units; no float ever touches an amount
function parseAmount(str) {
  if (typeof str !== 'string') {
    throw AuctionError.INVALID_AMOUNT('Amount must be a decimal string, like "75.5"')
  }
  const m = AMOUNT.exec(str)
  if (m === null) {
    throw AuctionError.INVALID_AMOUNT(
      `"${preview(str)}" is not a positive decimal amount with at most ${DECIMALS} decimals`
    )
  }
  const frac = m[2] ? m[2].slice(1).padEnd(DECIMALS, '0') : '0'
  const units = BigInt(m[1]) * UNIT + BigInt(frac)
  return checkUnits(units)
}

function checkUnits(units) {
  if (typeof units !== 'bigint') throw AuctionError.INVALID_AMOUNT('Amount must be a bigint')
  if (units <= 0n) throw AuctionError.INVALID_AMOUNT('Amount must be greater than zero')
  if (units > MAX_AMOUNT) {
    throw AuctionError.INVALID_AMOUNT(`Amount is above the maximum of ${formatAmount(MAX_AMOUNT)}`)
  }
  return units
}

function formatAmount(units) {
  const whole = units / UNIT
  const frac = (units % UNIT).toString().padStart(DECIMALS, '0').replace(/0+$/, '')
  return frac ? `${whole}.${frac}` : `${whole}`
}

function preview(str) {
  return str.length > 32 ? str.slice(0, 32) + '...' : str
}

module.exports = { parseAmount, formatAmount, checkUnits, DECIMALS, MAX_AMOUNT }
