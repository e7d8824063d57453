const b4a = require('b4a')
const c = require('compact-encoding')
const safetyCatch = require('safety-catch')
const AuctionError = require('./errors')
const { MAX_PAYLOAD } = require('./constants')

const RAW = { requestEncoding: c.raw, responseEncoding: c.raw }
const MAX_INFLIGHT_PER_PEER = 64
const REQUEST_TIMEOUT = 3000
const POOL_LINGER = 30 * 1000

// Responders see raw bytes and may throw only coded AuctionErrors: protomux-rpc re-throws
// TypeError, RangeError and SyntaxError from a handler as uncaught, which would kill the peer.
class Transport {
  constructor(rpc, opts = {}) {
    this.rpc = rpc
    this.keyPair = opts.keyPair
    this.capability = opts.capability || null
    this.maxInflight = opts.maxInflightPerPeer || MAX_INFLIGHT_PER_PEER
    this.timeout = opts.requestTimeout || REQUEST_TIMEOUT
    this.server = rpc.createServer({ capability: this.capability })
    this._inflight = new Map()
    this._pool = new Map()
    this.onerror = opts.onerror || noop
  }

  listen() {
    return this.server.listen(this.keyPair)
  }

  respond(method, handler) {
    this.server.respond(method, RAW, (req, conn) => this._handle(handler, req, conn))
  }

  async _handle(handler, req, conn) {
    const remote = conn.stream.remotePublicKey
    const hex = b4a.toString(remote, 'hex')
    const inflight = this._inflight.get(hex) || 0
    if (inflight >= this.maxInflight) throw AuctionError.BUSY()
    this._inflight.set(hex, inflight + 1)
    try {
      if (req.byteLength > MAX_PAYLOAD) {
        throw AuctionError.PAYLOAD_TOO_LARGE(`Payload is larger than ${MAX_PAYLOAD} bytes`)
      }
      const res = await handler(req, remote)
      return res || b4a.alloc(0)
    } catch (err) {
      if (err instanceof AuctionError) throw err
      this.onerror(err)
      throw AuctionError.INTERNAL(err && err.message)
    } finally {
      const n = this._inflight.get(hex) - 1
      if (n === 0) this._inflight.delete(hex)
      else this._inflight.set(hex, n)
    }
  }

  // Resolves with the raw reply; rejects with the remote's coded error, REQUEST_TIMEOUT,
  // or PEER_UNREACHABLE. The timeout covers connecting too, which the RPC's own does not.
  request(publicKey, method, value, opts = {}) {
    const timeout = opts.timeout || this.timeout
    const entry = this._connection(publicKey)
    entry.active++
    clearTimeout(entry.linger)
    const req = entry.client.request(method, value, RAW)

    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer)
        if (--entry.active === 0 && !entry.dropped) {
          entry.linger = setTimeout(() => this._drop(entry), POOL_LINGER)
          entry.linger.unref()
        }
      }
      const timer = setTimeout(() => {
        // A connection that went silent (the remote was killed) must not be reused
        this._drop(entry)
        reject(AuctionError.REQUEST_TIMEOUT(`${method} timed out after ${timeout} ms`))
      }, timeout)

      req.then(
        (res) => {
          done()
          resolve(res)
        },
        (err) => {
          done()
          safetyCatch(err)
          const coded = AuctionError.from(err)
          if (coded) return reject(coded)
          this._drop(entry)
          reject(AuctionError.PEER_UNREACHABLE(err && err.message))
        }
      )
    })
  }

  // One pooled connection per remote key, dropped when it fails or idles
  _connection(publicKey) {
    const hex = b4a.toString(publicKey, 'hex')
    let entry = this._pool.get(hex)
    if (entry) return entry
    const client = this.rpc.connect(publicKey, {
      keyPair: this.keyPair,
      capability: this.capability
    })
    entry = { hex, client, active: 0, linger: null, dropped: false }
    client.on('close', () => this._drop(entry))
    this._pool.set(hex, entry)
    return entry
  }

  _drop(entry) {
    if (entry.dropped) return
    entry.dropped = true
    clearTimeout(entry.linger)
    if (this._pool.get(entry.hex) === entry) this._pool.delete(entry.hex)
    entry.client.destroy()
  }

  async close() {
    for (const entry of [...this._pool.values()]) this._drop(entry)
    await this.rpc.destroy()
  }
}

function noop() {}

module.exports = Transport
