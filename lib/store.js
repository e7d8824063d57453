const ReadyResource = require('ready-resource')
const Corestore = require('corestore')
const Hyperbee = require('hyperbee')
const c = require('compact-encoding')
const b4a = require('b4a')
const m = require('./messages')

const CORE_NAME = 'hyperauction'

// One Hyperbee holds the per-author event logs (the truth) and the views derived from them.
// Writes are grouped: every write() joins the next batch and resolves once that batch is flushed.
class AuctionStore extends ReadyResource {
  constructor(storage, opts = {}) {
    super()
    this.corestore = opts.corestore || new Corestore(storage)
    this.bee = null
    this._autoClose = !opts.corestore
    this._pending = null
    this._flushing = null
    this.batches = 0
  }

  async _open() {
    const core = this.corestore.get({ name: CORE_NAME })
    this.bee = new Hyperbee(core, { keyEncoding: 'utf-8', valueEncoding: 'binary' })
    await this.bee.ready()
  }

  async _close() {
    await this.flushed()
    await this.bee.close()
    if (this._autoClose) await this.corestore.close()
  }

  static eventKey(authorHex, seq) {
    return 'events/' + authorHex + '/' + pad(seq)
  }

  static headKey(authorHex) {
    return 'heads/' + authorHex
  }

  static auctionKey(idHex) {
    return 'auctions/' + idHex
  }

  static bidKey(idHex, position) {
    return 'bids/' + idHex + '/' + pad(position)
  }

  static peerKey(keyHex) {
    return 'peers/' + keyHex
  }

  async getMeta(name) {
    const node = await this.bee.get('meta/' + name)
    return node === null ? null : node.value
  }

  putMeta(name, value) {
    return this.write([{ key: 'meta/' + name, value }])
  }

  // ops: [{ key, value }], value null deletes
  write(ops) {
    if (this._pending === null) {
      let resolve, reject
      const promise = new Promise((res, rej) => {
        resolve = res
        reject = rej
      })
      this._pending = { ops: [], promise, resolve, reject }
      if (this._flushing === null) this._flushing = this._flushLoop()
    }
    for (const op of ops) this._pending.ops.push(op)
    return this._pending.promise
  }

  async flushed() {
    while (this._flushing !== null) await this._flushing
  }

  async _flushLoop() {
    // Let the current tick's writers join the first batch
    await null
    while (this._pending !== null) {
      const { ops, resolve, reject } = this._pending
      this._pending = null
      try {
        // Views and heads are rewritten by every event; a batch needs only their last value
        const last = new Map()
        for (const op of ops) last.set(op.key, op.value)
        const batch = this.bee.batch()
        for (const [key, value] of last) {
          if (value === null) await batch.del(key)
          else await batch.put(key, value)
        }
        await batch.flush()
        this.batches++
        resolve()
      } catch (err) {
        reject(err)
      }
    }
    this._flushing = null
  }

  async loadHeads() {
    const heads = new Map()
    for await (const { key, value } of this.bee.createReadStream(range('heads/'))) {
      heads.set(key.slice(6), c.decode(c.uint, value))
    }
    return heads
  }

  async loadAuctions() {
    const views = new Map()
    for await (const { key, value } of this.bee.createReadStream(range('auctions/'))) {
      views.set(key.slice(9), c.decode(m.auctionView, value))
    }
    return views
  }

  async loadPeers() {
    const peers = []
    for await (const { key, value } of this.bee.createReadStream(range('peers/'))) {
      peers.push({ publicKey: b4a.from(key.slice(6), 'hex'), name: b4a.toString(value) })
    }
    return peers
  }

  async getEvent(authorHex, seq) {
    const node = await this.bee.get(AuctionStore.eventKey(authorHex, seq))
    return node === null ? null : node.value
  }

  // Stored event bytes of one author from seq on, bounded in count and bytes
  async getEvents(authorHex, from, maxEvents, maxBytes) {
    const out = []
    let bytes = 0
    const stream = this.bee.createReadStream({
      gte: AuctionStore.eventKey(authorHex, from),
      lt: 'events/' + authorHex + '0',
      limit: maxEvents
    })
    for await (const { value } of stream) {
      if (out.length > 0 && bytes + value.byteLength > maxBytes) break
      bytes += value.byteLength
      out.push(value)
    }
    return out
  }

  async getBids(idHex) {
    const bids = []
    const prefix = 'bids/' + idHex + '/'
    for await (const { value } of this.bee.createReadStream(range(prefix))) {
      bids.push(c.decode(m.bidAccepted, value))
    }
    return bids
  }

  // Every stored event key, in key order, for the state digest
  createEventStream() {
    return this.bee.createReadStream(range('events/'))
  }
}

function pad(n) {
  return n.toString().padStart(16, '0')
}

function range(prefix) {
  // '0' sorts right after '/', so it bounds every key under prefix
  return { gte: prefix, lt: prefix.slice(0, -1) + '0' }
}

module.exports = AuctionStore
