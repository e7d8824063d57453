const AuctionError = require('../errors')

const UNITS = { ms: 1, s: 1000, m: 60 * 1000, h: 60 * 60 * 1000, d: 24 * 60 * 60 * 1000 }
const MAX_DURATION = 365 * UNITS.d
// A word like -5, -0.5 or -.5 is a negative number, not a flag
const NEGATIVE = /^-[0-9.]/
// Command-line words cannot hold a NUL byte, so a marked word is never mistaken for a typed one
const MARK = '\u0000'
// What a marked word may not be, by the name of the argument or flag it fills
const SLOTS = {
  amount: amountSlot('an amount'),
  price: amountSlot('a price'),
  reserve: amountSlot('a reserve price'),
  buyNow: amountSlot('a buy-now price'),
  increment: amountSlot('an increment'),
  maxExtensions: (word) =>
    AuctionError.INVALID_ARGUMENT(
      `"${word.slice(0, 32)}" is not a number of extensions: give a whole number like 10`
    ),
  auction: (word) =>
    AuctionError.INVALID_ID(
      word === ''
        ? 'the auction id is empty: give an auction id or a unique prefix of it'
        : `${word} is not an auction id: an auction id is up to 32 hex characters`
    )
}

// "90s", "10m", "1h30m", "2d"; a bare number is seconds
function parseDuration(str) {
  if (str === '') {
    throw AuctionError.INVALID_DURATION('the duration is empty: give one like 90s, 10m or 2d')
  }
  if (typeof str === 'string' && NEGATIVE.test(str)) {
    throw AuctionError.INVALID_DURATION(
      `${str.slice(0, 32)} is negative: a duration must be more than 0, like 90s, 10m or 2d`
    )
  }
  if (typeof str !== 'string' || str.length === 0 || str.length > 32) return badDuration(str)
  if (/^[0-9]+$/.test(str)) return checkDuration(Number(str) * UNITS.s, str)
  const re = /([0-9]+)(ms|s|m|h|d)/gy
  let total = 0
  let end = 0
  for (let match = re.exec(str); match !== null; match = re.exec(str)) {
    total += Number(match[1]) * UNITS[match[2]]
    end = re.lastIndex
  }
  if (end !== str.length) return badDuration(str)
  return checkDuration(total, str)
}

function checkDuration(ms, str) {
  if (!Number.isSafeInteger(ms) || ms <= 0 || ms > MAX_DURATION) return badDuration(str)
  return ms
}

function badDuration(str) {
  throw AuctionError.INVALID_DURATION(
    `"${String(str).slice(0, 32)}" is not a duration like 90s, 10m, 1h30m or 2d (at most 365d)`
  )
}

// "127.0.0.1:30001,127.0.0.1:30002" -> [{ host, port }]
function parseBootstrap(str) {
  if (typeof str !== 'string' || str.length === 0) {
    throw AuctionError.INVALID_ARGUMENT('--bootstrap needs host:port[,host:port]')
  }
  return str.split(',').map((entry) => {
    const i = entry.lastIndexOf(':')
    const host = entry.slice(0, i)
    const port = Number(entry.slice(i + 1))
    if (i <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) {
      throw AuctionError.INVALID_ARGUMENT(`Bootstrap "${entry}" is not host:port`)
    }
    return { host, port }
  })
}

function parsePort(str) {
  const port = Number(str)
  if (!/^[0-9]+$/.test(String(str)) || port > 65535) {
    throw AuctionError.INVALID_ARGUMENT(`Port "${str}" is not a number from 0 to 65535`)
  }
  return port
}

// paparam reads every word that starts with - as flags, and an empty word as the start of
// unknown args, so `bid ID -5` said "unknown flag --5" and `bid "" 70` "unknown arg  70".
// Such words pass through it marked; words after -- are arguments whatever they look like.
function markArgs(argv) {
  const words = []
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]
    if (word === '--') {
      for (const rest of argv.slice(i + 1)) words.push(rest.startsWith('-') ? MARK + rest : rest)
      break
    }
    words.push(word === '' || NEGATIVE.test(word) ? MARK + word : word)
  }
  return words
}

function unmark(word) {
  return typeof word === 'string' ? word.replaceAll(MARK, '') : word
}

// Before a command runs: its arguments and flags as typed, and a coded usage error for a
// negative or empty word where none can be right
function unmarkArgs({ args, flags, positionals }) {
  for (const values of [args, flags]) {
    for (const [name, value] of Object.entries(values)) {
      if (typeof value !== 'string' || !value.startsWith(MARK)) continue
      const word = unmark(value)
      const err = Object.hasOwn(SLOTS, name) ? SLOTS[name](word) : null
      if (err !== null) throw err
      values[name] = word
    }
  }
  if (positionals) positionals.forEach((value, i) => (positionals[i] = unmark(value)))
  return true
}

function amountSlot(what) {
  return (word) => {
    if (word === '') {
      const name = what.slice(what.indexOf(' ') + 1)
      return AuctionError.INVALID_AMOUNT(`the ${name} is empty: give a decimal like 80 or 75.5`)
    }
    if (!NEGATIVE.test(word)) return null
    return AuctionError.INVALID_AMOUNT(
      `${word.slice(0, 32)} is negative: ${what} must be more than 0`
    )
  }
}

// Splits a console line into words; quotes keep spaces, as in a shell
function splitWords(line) {
  const words = []
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g
  for (let match = re.exec(line); match !== null; match = re.exec(line)) {
    if (match[1] !== undefined) words.push(match[1].replace(/\\(.)/g, '$1'))
    else if (match[2] !== undefined) words.push(match[2])
    else words.push(match[3])
  }
  return words
}

module.exports = {
  parseDuration,
  parseBootstrap,
  parsePort,
  splitWords,
  markArgs,
  unmarkArgs,
  unmark
}
