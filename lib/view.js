const ReadyResource = require('ready-resource')
const Hyperbee = require('hyperbee')
const c = require('compact-encoding')
const b4a = require('b4a')
const m = require('./messages')
const { VIEW_CACHE } = require('./constants')

const FLUSH_DELAY = 20
// A flush costs about a millisecond of CPU whatever it holds (a Hyperbee batch reads the tree
// nodes the last one wrote, and the view's core signs an append): a busy peer writes at most
// once per FLUSH_INTERVAL, however many blocks it applies meanwhile
const FLUSH_INTERVAL = 1000
const BIDS_PER_ROW = 32
const bidRows = c.array(m.bidRow)
// Staged writes beyond this are written at once, which bounds the memory they hold
const MAX_STAGED = 8192

// The local view: auctions, bids, logs, peers and meta in one Hyperbee that is never
// replicated. Everything but meta and peers is derived from the logs and can be rebuilt.
// Writes are staged, visible to reads at once, and flushed together in one batch.
class View extends ReadyResource {
  constructor(core, opts = {}) {
    super()
    this.bee = new Hyperbee(core, { keyEncoding: 'utf-8', valueEncoding: 'binary' })
    this.cacheSize = opts.cacheSize || VIEW_CACHE
    this._cache = new Map()
    this._rows = new Map()
    // Rows being read by loadBids, and how many bids were staged into each meanwhile
    this._reading = new Map()
    this._staged = new Map()
    // Moves at every row staged: what was read from the view before may have changed
    this.changes = 0
    this._writing = null
    this._next = null
    this._running = null
    this._timer = null
    this._flushedAt = 0
  }

  _open() {
    return this.bee.ready()
  }

  async _close() {
    await this.flushed()
    await this.bee.close()
  }

  get length() {
    return this.bee.core.length
  }

  getMeta(name) {
    return this._get('meta/' + name)
  }

  stageMeta(name, value) {
    this._stage('meta/' + name, value)
  }

  // The decoded view of an auction if it is in memory; undefined if it must be read
  peekAuction(idHex) {
    const view = this._cache.get(idHex)
    if (view === undefined) return undefined
    this._cache.delete(idHex)
    this._cache.set(idHex, view)
    return view
  }

  async getAuction(idHex) {
    const cached = this.peekAuction(idHex)
    if (cached !== undefined) return cached
    const buf = await this._get('auctions/' + idHex)
    // A write staged while this read waited is newer than what was read
    const raced = this.peekAuction(idHex)
    if (raced !== undefined) return raced
    if (buf === null) return null
    const view = c.decode(m.auctionView, buf)
    this._remember(idHex, view)
    return view
  }

  stageAuction(view) {
    const idHex = b4a.toString(view.id, 'hex')
    this._remember(idHex, view)
    this._stage('auctions/' + idHex, m.encode(m.auctionView, view))
  }

  // A new auction: listAuctions finds it in the order of openings
  stageOpened(view) {
    const idHex = b4a.toString(view.id, 'hex')
    this._stage('time/' + View.cursor(view.createdAt, idHex), b4a.alloc(0))
  }

  // Bids are kept BIDS_PER_ROW to a row: one write then stands for many bids of an auction.
  // The row a bid goes into is read beforehand (loadBids), so staging stays synchronous; a row
  // not in memory at that point is completed from storage when it is written. A row in memory
  // (_rows) always holds every bid staged or written into it; while part of a row is pending
  // without the rest, it is not in memory.
  async loadBids(idHex, position) {
    if (position % BIDS_PER_ROW === 0) return
    const key = bidsKey(idHex, position)
    const staged = this._staged.get(key)
    if (this._rows.has(key) || (staged && !staged.partial)) return
    let reading = this._reading.get(key)
    if (reading === undefined) this._reading.set(key, (reading = { readers: 0, writes: 0 }))
    reading.readers++
    const writes = reading.writes
    let rows
    try {
      rows = await this._getBidRows(key)
    } finally {
      if (--reading.readers === 0) this._reading.delete(key)
    }
    // Only if no bid was staged into this row meanwhile (it may have been written and left
    // memory already): otherwise what was read may be older than what storage holds now
    if (writes === reading.writes && !this._rows.has(key) && !this._pending(key)) {
      this._rememberRows(key, rows)
    }
  }

  stageBid(idHex, row) {
    const key = bidsKey(idHex, row.position)
    const reading = this._reading.get(key)
    if (reading !== undefined) reading.writes++
    let entry = this._staged.get(key)
    if (entry === undefined || entry === null) {
      const known = this._rows.get(key)
      const partial = known === undefined && row.position % BIDS_PER_ROW !== 0
      entry = { rows: known ? known.slice() : [], partial }
      this._staged.set(key, entry)
    }
    entry.rows[row.position % BIDS_PER_ROW] = row
    if (!entry.partial) this._rememberRows(key, entry.rows)
  }

  async getBid(idHex, position) {
    const rows = await this._getBidRows(bidsKey(idHex, position))
    return rows[position % BIDS_PER_ROW] || null
  }

  // The latest of the first count bids that accept(row) takes, or null. pending(position) may
  // give a row not staged yet.
  async latestBid(idHex, count, accept, pending = noPending) {
    for (let position = count - 1; position >= 0; position--) {
      const row = pending(position) || (await this.getBid(idHex, position))
      if (row !== null && accept(row)) return row
    }
    return null
  }

  // The bids of an auction in order, or only the last ones
  async getBids(idHex, { last = Infinity } = {}) {
    await this.flushed()
    const rows = []
    const limit = last === Infinity ? Infinity : Math.ceil(last / BIDS_PER_ROW) + 1
    const stream = this.bee.createReadStream({
      ...range('bids/' + idHex + '/'),
      reverse: true,
      limit
    })
    for await (const { value } of stream) rows.push(c.decode(bidRows, value))
    const bids = rows.reverse().flat()
    return last === Infinity ? bids : bids.slice(-last)
  }

  async _getBidRows(key) {
    const layers = []
    for (const map of [this._staged, this._writing]) {
      const entry = map === null ? undefined : map.get(key)
      if (entry === undefined || entry === null) continue
      if (!entry.partial) return merge([entry.rows, ...layers])
      layers.unshift(entry.rows)
    }
    if (layers.length === 0 && this._rows.has(key)) return this._rows.get(key)
    const node = await this.bee.get(key)
    return merge([node === null ? [] : c.decode(bidRows, node.value), ...layers])
  }

  _rememberRows(key, rows) {
    this._rows.delete(key)
    this._rows.set(key, rows)
    if (this._rows.size > this.cacheSize) this._rows.delete(this._rows.keys().next().value)
  }

  // Auctions in the order they were opened, at most limit, from an opaque cursor that a
  // previous page returned; cursor is null on the last page
  async listAuctions({ after = null, limit = Infinity } = {}) {
    await this.flushed()
    const opts = after === null ? range('time/') : { gt: 'time/' + after, lt: 'time0' }
    const auctions = []
    let cursor = null
    for await (const { key } of this.bee.createReadStream({ ...opts, limit })) {
      const view = await this.getAuction(key.slice(key.lastIndexOf('/') + 1))
      if (view !== null) auctions.push(view)
      cursor = key.slice(5)
    }
    return { auctions, cursor: auctions.length === limit ? cursor : null }
  }

  // The nonces (hex) of the bids accepted on an auction, each with its bid's position: read from
  // the bids themselves (a key per bid, as before 0.6.2, cost the seller a quarter of its CPU)
  async listNonces(idHex) {
    const nonces = new Map()
    for (const row of await this.getBids(idHex)) {
      nonces.set(b4a.toString(row.bid.nonce, 'hex'), row.position)
    }
    return nonces
  }

  // Ids that start with a hex prefix, at most limit of them
  async findIds(prefix, limit) {
    await this.flushed()
    const ids = []
    const stream = this.bee.createReadStream({ ...range('auctions/' + prefix), limit })
    for await (const { key } of stream) ids.push(key.slice(9))
    return ids
  }

  async getLog(authorHex) {
    const buf = await this._get('logs/' + authorHex)
    return buf === null ? null : c.decode(m.logRow, buf)
  }

  stageLog(authorHex, row) {
    this._stage('logs/' + authorHex, m.encode(m.logRow, row))
  }

  // The log is no longer held: named again, it is applied from its start
  dropLog(authorHex) {
    this._stage('logs/' + authorHex, null)
  }

  // Every log this peer holds, in key order, after the given author (hex) if any
  async listLogs({ after = null, limit = Infinity } = {}) {
    await this.flushed()
    const opts = after === null ? range('logs/') : { gt: 'logs/' + after, lt: 'logs0' }
    const out = []
    for await (const { key, value } of this.bee.createReadStream({ ...opts, limit })) {
      out.push({ author: key.slice(5), ...c.decode(m.logRow, value) })
    }
    return out
  }

  // Drops every row derived from the logs and sets each log back to its start, so that the
  // logs are applied again in order: for storage whose derived rows an older version wrote
  async rebuild() {
    await this.flushed()
    const batch = this.bee.batch()
    // nonces/: a key per bid of an own auction, written before 0.6.2
    const rows = ['auctions/', 'time/', 'bids/', 'nonces/', 'timers/', 'dues/', 'txs/', 'blocked/']
    for (const prefix of rows) {
      for await (const { key } of this.bee.createReadStream(range(prefix))) await batch.del(key)
    }
    for await (const { key, value } of this.bee.createReadStream(range('logs/'))) {
      const row = c.decode(m.logRow, value)
      await batch.put(key, m.encode(m.logRow, { ...row, applied: 0, open: 0 }))
    }
    await batch.flush()
    this._cache.clear()
    this._rows.clear()
  }

  stageDispute(authorHex, row) {
    this._stage('disputes/' + authorHex, m.encode(m.disputeRow, row))
  }

  async getDispute(authorHex) {
    const buf = await this._get('disputes/' + authorHex)
    return buf === null ? null : c.decode(m.disputeRow, buf)
  }

  // The own timed auctions still open, so their timers are armed again after a restart
  stageTimer(idHex, endsAt) {
    this._stage('timers/' + idHex, endsAt === null ? null : c.encode(c.uint, endsAt))
  }

  async listTimers() {
    const rows = await this._under('timers/')
    return rows.map(({ key, value }) => ({ id: key, endsAt: c.decode(c.uint, value) }))
  }

  // Payment deadlines of the own sold auctions with settlement terms
  stageDue(idHex, dueAt) {
    this._stage('dues/' + idHex, dueAt === null ? null : c.encode(c.uint, dueAt))
  }

  async listDues() {
    const rows = await this._under('dues/')
    return rows.map(({ key, value }) => ({ id: key, dueAt: c.decode(c.uint, value) }))
  }

  // Transfers counted as payments of own auctions: one counts once
  stageTx(txHex, idHex) {
    this._stage('txs/' + txHex, b4a.from(idHex, 'hex'))
  }

  async getTx(txHex) {
    const buf = await this._get('txs/' + txHex)
    return buf === null ? null : b4a.toString(buf, 'hex')
  }

  // A seller's block list: the bidders it takes no bids from on any of its auctions
  stageBlocked(sellerHex, bidderHex, blocked) {
    this._stage('blocked/' + sellerHex + '/' + bidderHex, blocked ? b4a.alloc(0) : null)
  }

  async listBlocked(sellerHex) {
    return (await this._under('blocked/' + sellerHex + '/')).map((row) => row.key)
  }

  stagePeer(hex, name) {
    this._stage('peers/' + hex, name === null ? null : b4a.from(name))
  }

  async listPeers() {
    const rows = await this._under('peers/')
    return rows.map(({ key, value }) => ({
      publicKey: b4a.from(key, 'hex'),
      name: b4a.toString(value)
    }))
  }

  // Writes what is staged within FLUSH_DELAY, and no sooner than FLUSH_INTERVAL after the last
  // write: the view is derived from the logs (a row lost to a crash is applied again from them),
  // so a write may wait, and many events then share one batch
  scheduleFlush() {
    if (this._timer !== null || this.closing) return
    if (this._staged.size >= MAX_STAGED) {
      this.flush().catch(noop)
      return
    }
    const wait = Math.max(FLUSH_DELAY, this._flushedAt + FLUSH_INTERVAL - Date.now())
    this._timer = setTimeout(() => {
      this._timer = null
      this.flush().catch((err) => this.emit('error', err))
    }, wait)
  }

  // Resolves once everything staged so far is written; concurrent callers share a batch
  flush() {
    if (this._timer !== null) {
      clearTimeout(this._timer)
      this._timer = null
    }
    if (this._next === null) this._next = defer()
    const promise = this._next.promise
    if (this._running === null) this._running = this._run()
    return promise
  }

  // Everything staged so far is written
  async flushed() {
    if (this._staged.size > 0) await this.flush()
    while (this._running !== null) await this._running
  }

  async _run() {
    // Let the current tick's writers join the first batch
    await null
    while (this._next !== null) {
      const done = this._next
      this._next = null
      const ops = this._staged
      this._staged = new Map()
      this._writing = ops
      this._flushedAt = Date.now()
      try {
        const batch = this.bee.batch()
        for (const [key, value] of ops) {
          if (value === null) await batch.del(key)
          else if (b4a.isBuffer(value)) await batch.put(key, value)
          else await batch.put(key, c.encode(bidRows, await this._completeRows(key, value)))
        }
        await batch.flush()
        done.resolve()
      } catch (err) {
        // Nothing of the batch was written: what it held is staged again, under anything newer
        for (const [key, value] of ops) {
          const newer = this._staged.get(key)
          if (newer === undefined) this._staged.set(key, value)
          else if (isRows(value) && isRows(newer)) {
            const rows = merge([value.rows, newer.rows])
            this._staged.set(key, { rows, partial: value.partial && newer.partial })
          }
        }
        done.reject(err)
      } finally {
        this._writing = null
      }
    }
    this._running = null
  }

  // Enough is staged that a writer should wait for it to be written
  get full() {
    return this._staged.size >= MAX_STAGED
  }

  // A row of bids staged without the bids before it: those come from storage
  async _completeRows(key, entry) {
    if (!entry.partial && !hasHoles(entry.rows)) return entry.rows
    const node = await this.bee.get(key)
    const rows = merge([node === null ? [] : c.decode(bidRows, node.value), entry.rows])
    if (!this._staged.has(key)) this._rememberRows(key, rows)
    return rows
  }

  _pending(key) {
    return this._staged.has(key) || (this._writing !== null && this._writing.has(key))
  }

  _stage(key, value) {
    this.changes++
    this._staged.set(key, value)
  }

  async _get(key) {
    if (this._staged.has(key)) return this._staged.get(key)
    if (this._writing !== null && this._writing.has(key)) return this._writing.get(key)
    const node = await this.bee.get(key)
    return node === null ? null : node.value
  }

  _remember(idHex, view) {
    this._cache.delete(idHex)
    this._cache.set(idHex, view)
    if (this._cache.size > this.cacheSize) this._cache.delete(this._cache.keys().next().value)
  }

  // The last name heard from the author of a log this peer follows: its auctions keep that
  // name while it is offline (its peers/ row goes when it leaves)
  stageName(hex, name) {
    this._stage('names/' + hex, name === null ? null : b4a.from(name))
  }

  async listNames() {
    const rows = await this._under('names/')
    return rows.map(({ key, value }) => ({ publicKey: key, name: b4a.toString(value) }))
  }

  // The rows under a prefix, once what is staged is written: [{ key (past the prefix), value }]
  async _under(prefix) {
    await this.flushed()
    const rows = []
    for await (const { key, value } of this.bee.createReadStream(range(prefix))) {
      rows.push({ key: key.slice(prefix.length), value })
    }
    return rows
  }
}

function defer() {
  let resolve, reject
  const promise = new Promise((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

function noop() {}

function bidsKey(idHex, position) {
  return 'bids/' + idHex + '/' + pad(Math.floor(position / BIDS_PER_ROW))
}

function isRows(value) {
  return value !== null && value !== undefined && !b4a.isBuffer(value)
}

function hasHoles(rows) {
  for (let i = 0; i < rows.length; i++) if (rows[i] === undefined) return true
  return false
}

// Later layers win, slot by slot
function merge(layers) {
  const out = []
  for (const rows of layers) {
    for (let i = 0; i < rows.length; i++) if (rows[i] !== undefined) out[i] = rows[i]
  }
  return out
}

function pad(n) {
  return n.toString().padStart(16, '0')
}

function range(prefix) {
  // '0' sorts right after '/', so it bounds every key under prefix
  const end = prefix.endsWith('/') ? prefix.slice(0, -1) + '0' : prefix + '~'
  return { gte: prefix, lt: end }
}

function noPending() {
  return null
}

// Where an auction stands in the order of openings: listAuctions pages after it
View.cursor = function (createdAt, idHex) {
  return pad(createdAt) + '/' + idHex
}

module.exports = View
