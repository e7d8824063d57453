const net = require('net')
const AuctionError = require('../errors')

const DEFAULT_HOST = '127.0.0.1'
// The hosts that only this machine reaches; any other needs --web-public
const LOOPBACK = ['127.0.0.1', 'localhost', '::1']

// `--web [HOST:]PORT`: "8080", "127.0.0.1:8080", "[::1]:8080" -> { host, port }
function parseWebAddress(str) {
  const bad = () =>
    AuctionError.INVALID_ARGUMENT(
      `--web "${String(str).slice(0, 64)}" is not [HOST:]PORT, like 8080 or 127.0.0.1:8080`
    )
  if (typeof str !== 'string') throw bad()
  const parts = /^(?:(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):)?([0-9]{1,5})$/.exec(str)
  if (parts === null || Number(parts[3]) > 65535) throw bad()
  if (parts[1] !== undefined && !net.isIPv6(parts[1])) throw bad()
  return { host: parts[1] || parts[2] || DEFAULT_HOST, port: Number(parts[3]) }
}

// `start --web [HOST:]PORT [--web-public]`: { host, port, public }, or null without --web. A host
// other machines reach is served only with --web-public.
function webOptions(web, isPublic) {
  if (web === undefined) {
    if (isPublic) throw AuctionError.INVALID_ARGUMENT('--web-public goes with --web [HOST:]PORT')
    return null
  }
  const { host, port } = parseWebAddress(web)
  if (!isPublic && !isLoopback(host)) {
    throw AuctionError.INVALID_ARGUMENT(
      `--web ${web}: other hosts could reach the board there; add --web-public to serve it anyway, or serve 127.0.0.1`
    )
  }
  return { host, port, public: !!isPublic }
}

function isLoopback(host) {
  return LOOPBACK.includes(host.toLowerCase())
}

// As a URL or a Host header writes it: an IPv6 address in brackets
function urlHost(host) {
  return net.isIPv6(host) ? `[${host}]` : host
}

// The Host headers a browser sends for the board at host:port: a loopback board answers to any
// loopback name, so that http://localhost:PORT works too
function hostHeaders(host, port) {
  const names = isLoopback(host) ? [host, ...LOOPBACK] : [host]
  const headers = new Set()
  for (const name of names) {
    headers.add(`${urlHost(name)}:${port}`.toLowerCase())
    if (port === 80) headers.add(urlHost(name).toLowerCase())
  }
  return headers
}

module.exports = {
  DEFAULT_HOST,
  parseWebAddress,
  webOptions,
  isLoopback,
  urlHost,
  hostHeaders
}
