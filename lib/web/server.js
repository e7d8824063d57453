const http = require('http')
const fs = require('fs')
const path = require('path')
const crypto = require('crypto')
const b4a = require('b4a')
const ReadyResource = require('ready-resource')
const safetyCatch = require('safety-catch')
const AuctionError = require('../errors')
const { runCommand } = require('../cli/commands')
const { NOTIFICATIONS } = require('../cli/format')
const { webToken } = require('./token')
const { DEFAULT_HOST, urlHost, hostHeaders } = require('./address')
const { PICTURE_TYPES } = require('../constants')

const STATIC = path.join(__dirname, 'static')
const MAX_BODY = 64 * 1024
// POST /api/auctions may carry a picture of 2 MiB, in base64
const MAX_OPEN_BODY = 4 * 1024 * 1024
// What is read and dropped of a body past its limit, so the client reads the 413
const MAX_DRAIN = 8 * 1024 * 1024
const MAX_REQUESTS = 64
const MAX_STREAMS = 64
// An event stream whose client is this far behind is dropped, not buffered without end
const MAX_STREAM_BUFFER = 1024 * 1024
const PING_INTERVAL = 15000

const HEADERS = {
  'Content-Security-Policy':
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; connect-src 'self'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY'
}
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon'
}

// The routes: a path, and per method the command it runs (its name and its args from the
// request) or the server's own handler
const ROUTES = [
  [/^\/$/, { GET: '_onpage' }],
  [/^\/static\/(.+)$/, { GET: '_onstatic' }],
  [/^\/api\/events$/, { GET: '_onevents' }],
  [/^\/api\/id$/, { GET: command('id') }],
  [/^\/api\/status$/, { GET: command('status') }],
  [/^\/api\/peers$/, { GET: command('peers') }],
  [
    /^\/api\/auctions$/,
    {
      GET: command('list', ({ query }) => listArgs(query)),
      POST: command('open', ({ body }) => body, MAX_OPEN_BODY)
    }
  ],
  [/^\/api\/auctions\/([^/]+)$/, { GET: command('show', ({ id }) => ({ id })) }],
  [/^\/api\/auctions\/([^/]+)\/picture$/, { GET: '_onpicture' }],
  [
    /^\/api\/auctions\/([^/]+)\/bid$/,
    { POST: command('bid', ({ id, body }) => ({ id, amount: body.amount })) }
  ],
  [/^\/api\/auctions\/([^/]+)\/close$/, { POST: command('close', ({ id }) => ({ id })) }],
  [/^\/api\/auctions\/([^/]+)\/cancel$/, { POST: command('cancel', ({ id }) => ({ id })) }],
  [
    /^\/api\/auctions\/([^/]+)\/refuse$/,
    { POST: command('refuse', ({ id, body }) => ({ id, bidder: body.bidder })) }
  ],
  [/^\/api\/auctions\/([^/]+)\/pay$/, { POST: command('pay', payArgs) }],
  [
    /^\/api\/auctions\/([^/]+)\/second-chance$/,
    { POST: command('second-chance', ({ id }) => ({ id })) }
  ],
  [
    /^\/api\/blocked$/,
    {
      GET: command('blocked'),
      POST: command('block', ({ body }) => ({ bidder: body.bidder }))
    }
  ],
  [/^\/api\/blocked\/([^/]+)$/, { DELETE: command('unblock', ({ id }) => ({ bidder: id })) }],
  [
    /^\/api\/auctions\/([^/]+)\/accept-offer$/,
    { POST: command('accept-offer', ({ id }) => ({ id })) }
  ]
]

// The board and its JSON API over HTTP, for the running peer: every route needs the token
// (Authorization: Bearer TOKEN, or ?token=TOKEN where a browser cannot set a header), and every
// operation is a command of lib/cli/commands.js, as on the control socket.
// opts: host (127.0.0.1), port (0: any free one), public (answer under any Host header), static
// (the folder of the page, lib/web/static), onerror (an unexpected error, answered INTERNAL).
class WebServer extends ReadyResource {
  constructor(peer, storage, ctx, opts = {}) {
    super()
    this.peer = peer
    this.storage = path.resolve(storage)
    this.ctx = ctx || { storage: this.storage, startedAt: Date.now() }
    this.host = opts.host || DEFAULT_HOST
    this.port = opts.port || 0
    this.public = !!opts.public
    this.token = null
    this.url = null
    this.server = http.createServer((req, res) => this._onrequest(req, res).catch(safetyCatch))
    this._staticDir = opts.static || STATIC
    this._onerror = opts.onerror || noop
    this._tokenHash = null
    this._hosts = null
    this._requests = 0
    // Answers under way: the event streams, and the others
    this._streams = new Set()
    this._responses = new Set()
    this._listeners = null
    this._ping = null
  }

  listen() {
    return this.ready()
  }

  async _open() {
    this.token = webToken(this.storage)
    this._tokenHash = hash(this.token)
    await new Promise((resolve, reject) => {
      const onerror = (err) => reject(listenError(err, this.host, this.port))
      this.server.once('error', onerror)
      this.server.listen(this.port, this.host, () => {
        this.server.off('error', onerror)
        resolve()
      })
    })
    this.port = this.server.address().port
    this._hosts = hostHeaders(this.host, this.port)
    this.url = `http://${urlHost(this.host)}:${this.port}/?token=${this.token}`
    this.ctx.web = this.url
  }

  async _close() {
    if (this.ctx.web === this.url) this.ctx.web = null
    for (const res of this._streams) res.end()
    for (const res of this._responses) res.destroy()
    this._unsubscribe()
    const closed = new Promise((resolve) => this.server.close(() => resolve()))
    this.server.closeAllConnections()
    await closed
  }

  async _onrequest(req, res) {
    this._responses.add(res)
    res.on('close', () => this._responses.delete(res))
    for (const [name, value] of Object.entries(HEADERS)) res.setHeader(name, value)
    try {
      await this._route(req, res)
    } catch (err) {
      if (!(err instanceof AuctionError)) this._onerror(err)
      sendError(res, err)
    }
  }

  async _route(req, res) {
    // A page of another site that has its name point at this address is not this board
    const host = String(req.headers.host || '').toLowerCase()
    if (!this.public && !this._hosts.has(host)) {
      throw AuctionError.FORBIDDEN_HOST(
        `This board answers at ${urlHost(this.host)}:${this.port}, not ${host.slice(0, 64) || 'no host'} (start it with --web-public to answer under any name)`
      )
    }
    const url = parseUrl(req.url)
    const authorized = this._authorized(req, url)
    if (authorized === null) {
      throw AuctionError.UNAUTHORIZED(
        'Give the board’s token: Authorization: Bearer TOKEN, or ?token=TOKEN (start prints the URL)'
      )
    }
    const [route, found] = findRoute(url.pathname)
    if (route === null) throw AuctionError.NOT_FOUND(`No route ${url.pathname.slice(0, 64)}`)
    const handler = Object.hasOwn(route, req.method) ? route[req.method] : undefined
    if (handler === undefined) {
      res.setHeader('Allow', Object.keys(route).join(', '))
      throw AuctionError.METHOD_NOT_ALLOWED(
        `${url.pathname.slice(0, 64)} takes ${Object.keys(route).join(' or ')}`
      )
    }
    const param = found[1] === undefined ? undefined : decodeParam(found[1])
    // The page, its files and the streams (counted apart) are cheap; the rest counts
    if (typeof handler === 'string' && handler !== '_onpicture') {
      return this[handler](req, res, param, url, authorized)
    }
    if (this._requests >= MAX_REQUESTS) {
      throw AuctionError.BUSY(`At most ${MAX_REQUESTS} requests are answered at once`)
    }
    this._requests++
    try {
      if (typeof handler === 'string') return await this[handler](req, res, param, url)
      const body = req.method === 'POST' ? await readJson(req, res, handler.maxBody) : {}
      const args = handler.args({ id: param, body, query: url.searchParams })
      const result = await runCommand(this.peer, handler.name, args, this.ctx)
      sendJson(res, 200, result)
    } finally {
      this._requests--
    }
  }

  // 'token' when the request gives the token, 'page' when it asks for the page or its files with
  // the page's cookie, else null
  _authorized(req, url) {
    const auth = req.headers.authorization
    const given =
      typeof auth === 'string' && /^bearer /i.test(auth)
        ? auth.slice(7).trim()
        : url.searchParams.get('token')
    // Hashed first: timingSafeEqual needs equal lengths, and the length is no secret then either
    if (given !== null) return same(given, this._tokenHash) ? 'token' : null
    // A reload of the page asks without the token, which the page took out of the address: the
    // page and its files also take the cookie set when the page was first given. It holds a value
    // made from the token, not the token: a browser sends it to every port of this host, and
    // it opens nothing but the page (which holds no secret) and its files
    const page = url.pathname === '/' || url.pathname.startsWith('/static/')
    const cookie = page && req.method === 'GET' ? this._cookie(req) : null
    return cookie !== null && same(cookie, hash(this._pageKey)) ? 'page' : null
  }

  // The cookie's name carries the port: a browser shares cookies between the ports of one host
  get _cookieName() {
    return 'hyperauction-token-' + this.port
  }

  // The page cookie's value, hex
  _cookie(req) {
    const header = req.headers.cookie
    if (typeof header !== 'string') return null
    for (const part of header.split(';')) {
      const eq = part.indexOf('=')
      if (eq !== -1 && part.slice(0, eq).trim() === this._cookieName) {
        return b4a.from(part.slice(eq + 1).trim(), 'hex')
      }
    }
    return null
  }

  get _pageKey() {
    return crypto.createHmac('sha256', this.token).update('hyperauction board page').digest()
  }

  // The board's page. Asked for with the token, the links to its own files carry it too (a
  // browser sends no header when it loads them, nor a cookie it refuses); asked for with the
  // page's cookie, they carry nothing
  async _onpage(req, res, param, url, authorized) {
    const file = path.join(this._staticDir, 'index.html')
    let html = (await readStatic(file)).toString('utf-8')
    if (authorized === 'token') {
      html = html.replace(
        /\b(src|href)=(["'])((?:\.?\/)?static\/[^"'#]*)\2/g,
        (all, attr, quote, link) =>
          `${attr}=${quote}${link}${link.includes('?') ? '&' : '?'}token=${this.token}${quote}`
      )
    }
    const value = this._pageKey.toString('hex')
    res.setHeader('Set-Cookie', `${this._cookieName}=${value}; HttpOnly; SameSite=Strict; Path=/`)
    send(res, 200, TYPES['.html'], html, 'no-store')
  }

  async _onstatic(req, res, name) {
    const file = path.resolve(this._staticDir, name)
    const type = TYPES[path.extname(file)]
    const hidden = name.includes('\0') || name.split('/').some((part) => part.startsWith('.'))
    if (!file.startsWith(this._staticDir + path.sep) || hidden || type === undefined) {
      throw AuctionError.NOT_FOUND(`No file ${name.slice(0, 64)}`)
    }
    send(res, 200, type, await readStatic(file), 'no-cache')
  }

  async _onpicture(req, res, id) {
    const p = await runCommand(this.peer, 'picture', { id }, this.ctx)
    // Pictures come from any seller: served as what they say only if it is an image type taken
    const shown = PICTURE_TYPES.includes(p.type)
    res.setHeader('Content-Security-Policy', "default-src 'none'; sandbox")
    if (!shown) res.setHeader('Content-Disposition', 'attachment')
    send(res, 200, shown ? p.type : 'application/octet-stream', Buffer.from(p.data, 'base64'))
  }

  // The peer's notifications as server-sent events, as the control socket's watch gives them:
  // first `watching`, then one event per notification; a comment every 15 s keeps it open
  async _onevents(req, res) {
    if (this._streams.size >= MAX_STREAMS) {
      throw AuctionError.BUSY(`At most ${MAX_STREAMS} event streams are open at once`)
    }
    if (!this.peer.opened) await this.peer.ready()
    this._responses.delete(res)
    this._streams.add(res)
    res.on('close', () => {
      this._streams.delete(res)
      if (this._streams.size === 0) this._unsubscribe()
    })
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Accel-Buffering': 'no'
    })
    this._subscribe()
    res.write(event('watching', { publicKey: this.peer.id, name: this.peer.name }))
  }

  // One listener per notification for all the streams, while any is open
  _subscribe() {
    if (this._listeners !== null) return
    this._listeners = NOTIFICATIONS.map((name) => {
      const fn = (data) => this._broadcast(name, data)
      this.peer.on(name, fn)
      return [name, fn]
    })
    this._ping = setInterval(() => this._write(': ping\n\n'), PING_INTERVAL)
  }

  _unsubscribe() {
    if (this._listeners === null) return
    for (const [name, fn] of this._listeners) this.peer.off(name, fn)
    this._listeners = null
    clearInterval(this._ping)
    this._ping = null
  }

  _broadcast(name, data) {
    let msg
    try {
      msg = event(name, data)
    } catch (err) {
      safetyCatch(err)
      return
    }
    this._write(msg)
  }

  _write(msg) {
    for (const res of this._streams) {
      if (res.writableLength > MAX_STREAM_BUFFER) res.destroy()
      else res.write(msg)
    }
  }
}

function command(name, args = () => ({}), maxBody = MAX_BODY) {
  return { name, args, maxBody }
}

function findRoute(pathname) {
  for (const [pattern, route] of ROUTES) {
    const found = pattern.exec(pathname)
    if (found !== null) return [route, found]
  }
  return [null, null]
}

function parseUrl(str) {
  try {
    return new URL(str, 'http://board')
  } catch {
    throw AuctionError.BAD_REQUEST('The URL is not well-formed')
  }
}

function decodeParam(str) {
  try {
    return decodeURIComponent(str)
  } catch {
    throw AuctionError.BAD_REQUEST('The path is not well-formed')
  }
}

// GET /api/auctions always answers a page: { auctions, total, offset, limit }
function listArgs(query) {
  const args = { sort: query.get('sort') === null ? 'ending' : query.get('sort') }
  for (const name of ['q', 'status', 'offset', 'limit']) {
    if (query.get(name) !== null) args[name] = query.get(name)
  }
  return args
}

// A claim from any wallet, or nothing: the daemon pays with its own wallet then. A seed or a
// wallet file never comes over HTTP.
function payArgs({ id, body }) {
  for (const name of ['seed', 'walletFile', 'privateKey', 'index']) {
    if (body[name] !== undefined) {
      throw AuctionError.INVALID_ARGUMENT(
        `${name} is not taken over HTTP: give { txHash, signature }, or {} to pay with the wallet the peer was started with (start --wallet-file FILE)`
      )
    }
  }
  if (body.txHash === undefined) return { id }
  return { id, txHash: body.txHash, signature: body.signature }
}

async function readJson(req, res, limit) {
  const raw = await readBody(req, res, limit)
  if (raw.length === 0) return {}
  let body
  try {
    body = JSON.parse(raw.toString('utf-8'))
  } catch {
    throw AuctionError.BAD_REQUEST('The body is not valid JSON')
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw AuctionError.BAD_REQUEST('The body must be a JSON object')
  }
  return body
}

function readBody(req, res, limit) {
  const tooLarge = () => {
    // The rest is read and dropped, up to a bound, so the client gets to read the answer
    res.setHeader('Connection', 'close')
    drain(req)
    return AuctionError.PAYLOAD_TOO_LARGE(`The body is larger than ${size(limit)}`)
  }
  if (Number(req.headers['content-length']) > limit) return Promise.reject(tooLarge())
  return new Promise((resolve, reject) => {
    const chunks = []
    let received = 0
    const ondata = (chunk) => {
      received += chunk.length
      if (received <= limit) return chunks.push(chunk)
      req.off('data', ondata)
      req.off('end', onend)
      reject(tooLarge())
    }
    const onend = () => resolve(Buffer.concat(chunks))
    req.on('data', ondata)
    req.on('end', onend)
    req.on('error', reject)
  })
}

function drain(req) {
  let dropped = 0
  req.on('data', (chunk) => {
    dropped += chunk.length
    if (dropped > MAX_DRAIN) req.destroy()
  })
  req.on('error', noop)
  req.resume()
}

async function readStatic(file) {
  try {
    return await fs.promises.readFile(file)
  } catch (err) {
    if (err.code === 'ENOENT' || err.code === 'EISDIR' || err.code === 'ENOTDIR') {
      throw AuctionError.NOT_FOUND(`No file ${path.basename(file)}`)
    }
    throw err
  }
}

function event(name, data) {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`
}

function size(bytes) {
  return bytes >= 1024 * 1024 ? `${bytes / 1024 / 1024} MiB` : `${bytes / 1024} KiB`
}

function hash(str) {
  return crypto.createHash('sha256').update(str).digest()
}

// Whether given hashes to expected (a hash), in constant time
function same(given, expected) {
  return crypto.timingSafeEqual(hash(given), expected)
}

function send(res, status, type, body, cache = 'no-store') {
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': cache
  })
  res.end(body)
}

function sendJson(res, status, value) {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value))
}

// { "error": { "code", "message" } } with the HTTP status of its code
function sendError(res, err) {
  if (res.headersSent) {
    res.destroy()
    return
  }
  const coded = err instanceof AuctionError
  const code = coded ? err.code : 'INTERNAL'
  // An unexpected error's own text may name paths or internals: the peer's output has it
  let message = coded ? String(err.message) : 'The peer failed to answer: its output says why'
  while (message.startsWith(code + ': ')) message = message.slice(code.length + 2)
  sendJson(res, statusOf(code), { error: { code, message } })
}

function statusOf(code) {
  switch (code) {
    case 'UNAUTHORIZED':
      return 401
    case 'FORBIDDEN_HOST':
      return 403
    case 'NOT_FOUND':
    case 'AUCTION_NOT_FOUND':
    case 'NO_PICTURE':
      return 404
    case 'METHOD_NOT_ALLOWED':
      return 405
    case 'PAYLOAD_TOO_LARGE':
      return 413
    case 'BUSY':
      return 503
    case 'INTERNAL':
      return 500
    default:
      return 400
  }
}

function listenError(err, host, port) {
  const at = `${urlHost(host)}:${port}`
  if (err.code === 'EADDRINUSE') return AuctionError.PORT_IN_USE(`${at} is in use`)
  if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') {
    return AuctionError.INVALID_ARGUMENT(`--web ${at}: ${host} is no address of this machine`)
  }
  return err
}

function noop() {}

module.exports = WebServer
