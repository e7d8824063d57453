const fs = require('fs')
const b4a = require('b4a')
const ReadyResource = require('ready-resource')
const safetyCatch = require('safety-catch')
const m = require('./messages')
const { settle, pushBlock, pushNew } = require('./compat')
const crypto = require('./crypto')
const { MAX_BLOCK_EVENTS, MAX_BLOCK_BYTES } = require('./constants')

// An append waits at most this long for events still being judged (group commit)
const GATHER_MS = 1
// Under load (an append of several events ended less than LOADED_MS ago) an append also waits
// until it holds a quarter more events than that append did, at most LINGER_MS, or until the
// block is full: bids acknowledged together come back together, and the blocks every follower
// applies grow. It waits for no more bids than the seller held at once lately (bids in hand:
// accepted, not yet answered; the most at once in the last PEAK_MS to twice that): a few bidders
// bidding one at a time send no more until they are answered, and their bids go at once. Not at
// shutdown.
// With 8 bidder peers x 8 bids in flight the bids come in bursts (a bidder sends again once it
// applied a block): waiting for as many as the last append held, at most 10 ms, gave 9-11
// events per block and 560-740 bids/s; a quarter more, at most 25 ms (and blocks of 16 KiB
// instead of 4), 29-36 and 1,059-1,258/s (consecutive runs).
const LINGER_MS = 25
const LOADED_MS = 20
const GROWTH = 1.25
const PEAK_MS = 1000

// This peer's own Hypercore, signed with the peer's key pair. Events queued in the same tick, or
// while an append is in flight, go out in one append (one signature), packed several to a block.
// Each event learns its place (block index, offset) when it is queued.
// The signed length is also written apart from the log (markFile: the log's key and its length,
// synced after each append, off the answer's path): storage that loses a tail of the log while
// the mark survives is caught at the next start (lib/recovery.js)
class OwnLog extends ReadyResource {
  constructor(store, keyPair, opts = {}) {
    super()
    const { markFile = null, onwarning = noop } = opts
    this.markFile = markFile
    this.onwarning = onwarning
    this.lingerMs = opts.lingerMs || LINGER_MS
    this.loadedMs = opts.loadedMs || LOADED_MS
    this.peakMs = opts.peakMs || PEAK_MS
    // The length the mark held at the start: this peer signed at least this much
    this.marked = 0
    this._mark = null
    // Events being judged that will be queued soon if accepted: the sequencer counts its bids
    // between their arrival and their place in the log
    this.judging = 0
    // Bids accepted and not yet answered (hold, release), and the most held at once in the
    // current span of peakMs (since _peakAt) and in the one before
    this.inHand = 0
    this._peak = 0
    this._lastPeak = 0
    this._peakAt = 0
    this.core = store.get({ keyPair })
    this.keyPair = keyPair
    this.appends = 0
    // Blocks pushed to peers unasked: a bid's block to its bidder ahead of the answer, and each
    // new block to the peers that take pushes (lib/compat.js pushNew)
    this.pushed = 0
    // Once an append fails, the places handed out no longer match the log: nothing more is queued
    this.failed = null
    this._length = 0
    this._pending = []
    this._batch = null
    this._running = null
    // Events of the last append and when it ended, and what wakes a linger when an event is
    // queued
    this._lastEvents = 0
    this._lastAt = 0
    this._wake = null
  }

  async _open() {
    await this.core.ready()
    this._length = this.core.length
    if (this.markFile !== null) {
      this.marked = readMark(this.markFile, this.core.key)
      // Read and written in place (not appended to)
      const flags = fs.constants.O_RDWR | fs.constants.O_CREAT
      this._mark = {
        handle: await fs.promises.open(this.markFile, flags, 0o600),
        writing: null,
        next: 0
      }
      this.mark(this.core.length)
    }
    // Replication can bring back blocks another copy of this log holds beyond local storage
    // (a tail the storage lost), without recover(): the places handed out must follow
    this.core.on('append', () => {
      if (this.core.length <= this._length || this._pending.length > 0) return
      this._length = this.core.length
      this.emit('tail', this.core.length)
    })
  }

  async _close() {
    await this.flushed()
    if (this._mark !== null) {
      while (this._mark.writing !== null) await this._mark.writing
      await this._mark.handle.close()
    }
    await settle(this.core)
    await this.core.close()
  }

  // Writes length to the mark and syncs it, if it is more than the mark holds; writes asked for
  // while one is under way go together in the next
  mark(length) {
    const mark = this._mark
    if (mark === null || length <= Math.max(this.marked, mark.next)) return
    mark.next = length
    if (mark.writing !== null) return
    mark.writing = this._writeMark(mark).finally(() => {
      mark.writing = null
    })
  }

  async _writeMark(mark) {
    try {
      while (mark.next > this.marked) {
        const length = mark.next
        const bytes = markBytes(this.core.key, length)
        await mark.handle.write(bytes, 0, bytes.byteLength, 0)
        await mark.handle.datasync()
        this.marked = length
      }
    } catch (err) {
      // The own log stays as safe as it is without the mark; the user hears of it
      this.onwarning(err)
    }
  }

  get key() {
    return this.core.key
  }

  // Blocks appended and queued
  get length() {
    return this._length
  }

  // Where queue(evt) would put the event, without queueing it
  place(evt) {
    const bytes = m.byteLength(m.event, evt)
    const block = this._pending[this._pending.length - 1]
    if (
      !block ||
      block.events.length >= MAX_BLOCK_EVENTS ||
      block.bytes + bytes > MAX_BLOCK_BYTES
    ) {
      return { index: this._length, offset: 0, bytes }
    }
    return { index: block.index, offset: block.events.length, bytes }
  }

  // Returns { index, offset, appended }; appended resolves once the block is in the log
  queue(evt) {
    if (this.failed !== null) throw this.failed
    const at = this.place(evt)
    if (at.offset === 0) {
      this._pending.push({ index: this._length++, events: [], bytes: 0 })
    }
    const block = this._pending[this._pending.length - 1]
    if (this._batch === null) this._batch = defer()
    block.events.push(evt)
    block.bytes += at.bytes
    if (this._running === null) this._running = this._run()
    if (this._wake !== null) this._wake()
    return { index: at.index, offset: at.offset, appended: this._batch.promise }
  }

  // The blocks from start, just appended, to every peer that takes pushes, before their events
  // learn they are in the log (a bid's answer waits for its push). The log holds them whatever
  // becomes of their pushes.
  _pushNew(start) {
    try {
      this.pushed += pushNew(this.core, start, this.core.length)
    } catch (err) {
      safetyCatch(err)
    }
  }

  // Sends block index to the peer replicating this log on the connection mux, if it takes
  // pushes and lacks it: ahead of an answer that names the block (a bid's), on the same
  // connection. Its push usually started at the append (_pushNew), and this waits for it. A push
  // that fails leaves the remote to ask for the block as usual.
  push(index, mux) {
    if (mux === null || mux === undefined) return Promise.resolve()
    return pushBlock(this.core, mux, index).then((sent) => {
      if (sent) this.pushed++
    }, noop)
  }

  async flushed() {
    while (this._running !== null) await this._running
  }

  // Blocks that another copy of this log holds beyond ours, taken back before signing anew
  async recover(length, timeout) {
    if (length <= this.core.length || this._pending.length > 0) return 0
    const before = this.core.length
    await deadline(this.core.update({ wait: true, force: true }), timeout)
    const end = Math.min(length, this.core.length)
    if (end > before) await deadline(this.core.download({ start: before, end }).done(), timeout)
    this._length = Math.max(this._length, this.core.length)
    return this.core.length - before
  }

  // Group commit: while events are being judged, the append waits for them up to GATHER_MS, or
  // until a block is full, so that bids in flight together share a block and a signature. With
  // none being judged (one bid at a time) it goes at once.
  async _gather() {
    const until = performance.now() + GATHER_MS
    while (this.judging > 0 && performance.now() < until) {
      const last = this._pending[this._pending.length - 1]
      if (this._pending.length > 1 || last.events.length >= MAX_BLOCK_EVENTS) return
      await new Promise((resolve) => setImmediate(resolve))
    }
  }

  // A bid was accepted into the log: it is in hand until it is answered
  hold() {
    this.inHand++
    const now = performance.now()
    if (now - this._peakAt > this.peakMs) {
      this._lastPeak = now - this._peakAt > 2 * this.peakMs ? 0 : this._peak
      this._peak = 0
      this._peakAt = now
    }
    if (this.inHand > this._peak) this._peak = this.inHand
  }

  release() {
    this.inHand--
  }

  // The most bids in hand at once lately: no more can come together
  _peakInHand() {
    const since = performance.now() - this._peakAt
    if (since > 2 * this.peakMs) return this.inHand
    if (since > this.peakMs) return Math.max(this._peak, this.inHand)
    return Math.max(this._peak, this._lastPeak, this.inHand)
  }

  async _linger() {
    const until = performance.now() + this.lingerMs
    const grown = Math.ceil(this._lastEvents * GROWTH)
    const target = Math.min(MAX_BLOCK_EVENTS, grown, this._peakInHand())
    while (this._queued() < target && !this._full()) {
      const wait = until - performance.now()
      if (wait <= 0) return
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, wait)
        this._wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
      this._wake = null
    }
  }

  _queued() {
    let n = 0
    for (const b of this._pending) n += b.events.length
    return n
  }

  _full() {
    const last = this._pending[this._pending.length - 1]
    return this._pending.length > 1 || last.events.length >= MAX_BLOCK_EVENTS
  }

  async _run() {
    await null
    while (this._pending.length > 0) {
      await this._gather()
      const loaded = this._lastEvents > 1 && performance.now() - this._lastAt < this.loadedMs
      if (loaded && !this.closing) await this._linger()
      const blocks = this._pending
      this._lastEvents = this._queued()
      const done = this._batch
      this._pending = []
      this._batch = null
      const start = this.core.length
      try {
        await this.core.append(blocks.map((b) => m.encode(m.block, b.events)))
      } catch (err) {
        this.failed = err
        done.reject(err)
        continue
      }
      this._pushNew(start)
      this.mark(this.core.length)
      this.appends++
      this._lastAt = performance.now()
      done.resolve()
    }
    this._running = null
  }
}

// The mark: the log key, the length (8 bytes) and a hash of both, so that a torn write reads as
// no mark rather than as a length nobody signed
function markBytes(key, length) {
  const body = b4a.alloc(40)
  b4a.copy(key, body)
  body.writeBigUInt64LE(BigInt(length), 32)
  return b4a.concat([body, crypto.hash(body)])
}

// The length the mark file holds for the log key, or 0 (no file, another log's, or torn)
function readMark(file, key) {
  let bytes
  try {
    bytes = fs.readFileSync(file)
  } catch (err) {
    if (err.code === 'ENOENT') return 0
    throw err
  }
  if (bytes.byteLength !== MARK_BYTES || !b4a.equals(bytes.subarray(0, 32), key)) return 0
  if (!b4a.equals(bytes.subarray(40), crypto.hash(bytes.subarray(0, 40)))) return 0
  return Number(bytes.readBigUInt64LE(32))
}

const MARK_BYTES = 40 + 32

function defer() {
  let resolve, reject
  const promise = new Promise((res, rej) => {
    resolve = res
    reject = rej
  })
  promise.catch(noop)
  return { promise, resolve, reject }
}

// The peer that said it holds more may be gone: a recovery attempt never waits forever
function deadline(promise, ms) {
  let timer
  const timeout = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`No peer answered within ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

function noop() {}

module.exports = OwnLog
