const AuctionError = require('../errors')

const UNITS = { ms: 1, s: 1000, m: 60 * 1000, h: 60 * 60 * 1000, d: 24 * 60 * 60 * 1000 }
const MAX_DURATION = 365 * UNITS.d

// "90s", "10m", "1h30m", "2d"; a bare number is seconds
function parseDuration(str) {
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

module.exports = { parseDuration, parseBootstrap, parsePort, splitWords }
