const ReadyResource = require('ready-resource')
const safetyCatch = require('safety-catch')
const AuctionError = require('./errors')
const { settle, detachReplication, remoteHas, peerMux } = require('./compat')
const CatchUp = require('./catch-up')
const m = require('./messages')
const { logManifest } = require('./crypto')
const { MAX_REMOTE_BLOCK, MAX_LOG_BYTES, LOG_EVENT_RATE, LOG_EVENT_BURST } = require('./constants')

// Loopback UDX keeps only 16 requests in flight by default, which is ~20% slower
const INFLIGHT_RANGE = [128, 1024]
const MAX_HEARD = 64
// A log with at most this many blocks to download past what it knows of is live: they are
// downloaded and applied at once. With more, it is catching up and waits for its turn
// (lib/catch-up), unless a bid waits on it.
const LIVE_BLOCKS = 2
// A turn is held at most this long at a time; a log with blocks still to download then queues
// again behind the others: one whose blocks nobody serves does not keep the turn
const TURN = 2000
// Hypercore's channel, one per log on a connection
const CHANNEL = 'hypercore/alpha'
const MAX_REOPENS = 4

// One remote log: replicated by Hypercore on every connection, read in order, each block handed
// to onblock(index, events) once, from where the view left off. A block that cannot be decoded
// or breaks a rule stops the follower; two signed histories end it with a conflict.
class Follower extends ReadyResource {
  constructor(store, author, opts) {
    super()
    this.author = author
    this.applied = opts.applied || 0
    this.core = store.get({ manifest: logManifest(author), inflightRange: INFLIGHT_RANGE })
    this.onblock = opts.onblock
    this.onconflict = opts.onconflict
    this.oninvalid = opts.oninvalid
    this.failed = null
    this._range = null
    // Catching up: holds a turn, or waits for one
    this._catchUp = opts.catchUp || CatchUp.shared
    this._turn = false
    this._turnTimer = null
    // Takes the log out of the line while it waits for a turn
    this._unqueue = null
    this._running = null
    this._again = false
    this._waiters = []
    // Connections attached, with how often the channel was asked for again on each
    this._muxers = new Map()
    // Attached this tick: Hypercore has not made the channel yet
    this._asking = new Set()
    // What connected peers said they hold of this log (news), by key
    this._heard = new Map()
    // Events this log may still apply now: refilled at LOG_EVENT_RATE per second
    this.rate = opts.rate || LOG_EVENT_RATE
    this.burst = opts.burst || LOG_EVENT_BURST
    this._tokens = this.burst
    this._filled = Date.now()
    this._sleep = null
    this.openAuctions = 0
    this._spread = 0
    this._active = Date.now()
    this.ongrow = opts.ongrow || noop
    this._onappend = () => {
      this._active = Date.now()
      this._pace()
      this.kick()
      // Blocks held in a row from the start can be served on: tell the peers
      const length = this.core.contiguousLength
      if (length > this._spread) {
        this._spread = length
        this.ongrow(length)
      }
    }
  }

  // Caught up, nobody waiting, no news for ms
  idle(now, ms) {
    return (
      now - this._active >= ms &&
      this._running === null &&
      this._waiters.length === 0 &&
      this.failed === null &&
      this.applied >= this.length
    )
  }

  hear(hex, length) {
    this._active = Date.now()
    if ((this._heard.get(hex) || 0) < length) this._heard.set(hex, length)
    // Bounded by what connected peers send; the oldest word goes first
    if (this._heard.size > MAX_HEARD) this._heard.delete(this._heard.keys().next().value)
  }

  heardFrom(hex) {
    return this._heard.get(hex) || 0
  }

  // Resolves true once block index is applied, false after timeout ms or when the follower stops
  waitFor(index, timeout) {
    if (this.applied > index) return Promise.resolve(true)
    if (this.closing || this.failed !== null) return Promise.resolve(false)
    return new Promise((resolve) => {
      const waiter = { index, resolve, timer: null }
      waiter.timer = setTimeout(() => this._settle(waiter, false), timeout)
      this._waiters.push(waiter)
      // A bid waits on this log: it downloads now, turn or not
      this._pace()
    })
  }

  _settle(waiter, ok) {
    clearTimeout(waiter.timer)
    const i = this._waiters.indexOf(waiter)
    if (i !== -1) this._waiters.splice(i, 1)
    waiter.resolve(ok)
  }

  _wake() {
    for (const waiter of [...this._waiters]) {
      if (this.applied > waiter.index) this._settle(waiter, true)
      else if (this.closing || this.failed !== null) this._settle(waiter, false)
    }
  }

  async _open() {
    this.core.on('append', this._onappend)
    this.core.on('download', this._onappend)
    this.core.on('conflict', (length, fork, proof) => this._onconflict(length, fork, proof))
    // Peers never truncate their logs, so a signed fork is proof that the author rewrote one:
    // whoever sees it, also a new replica that only ever saw the new fork
    this.core.on('truncate', (ancestors, fork) => this._onconflict(ancestors, fork, null))
    await this.core.ready()
    if (this.core.fork > 0) return this._onconflict(this.core.length, this.core.fork, null)
    this._pace()
    this.kick()
  }

  async _close() {
    this._wake()
    if (this._sleep !== null) {
      clearTimeout(this._sleep.timer)
      this._sleep.resolve()
    }
    if (this._range !== null) this._range.destroy()
    while (this._running !== null) await this._running
    this._stopCatchingUp()
    await settle(this.core)
    await this.core.close()
  }

  // Replicates the log on one more connection (its Protomux). Once, unless the remote refused
  // the channel: it did not hold the log when asked (a peer that heard of the log before its
  // neighbours did), and Hypercore does not ask again while this peer downloads. Asked again
  // when attached again (news or a directory from that peer, a new pick of relays), at most
  // MAX_REOPENS times a connection: news is the remote's word, and an ask costs a channel on
  // both sides.
  attach(mux) {
    if (this.closing || this.failed !== null || mux.stream.destroying) return
    const reopens = this._muxers.get(mux)
    if (reopens === undefined) {
      this._muxers.set(mux, 0)
      mux.stream.once('close', () => this._muxers.delete(mux))
    } else {
      if (this._replicating(mux) || reopens >= MAX_REOPENS) return
      this._muxers.set(mux, reopens + 1)
      detachReplication(this.core, mux)
    }
    this._active = Date.now()
    this._asking.add(mux)
    this.core.replicate(mux)
    // Hypercore makes the channel on the next tick of an open connection, before this runs
    queueMicrotask(() => this._asking.delete(mux))
  }

  // Its channel on this connection is open, or being opened: Hypercore makes it once the log
  // and the connection are open
  _replicating(mux) {
    if (!this.core.opened || mux.stream.handshakeHash === null || this._asking.has(mux)) return true
    return mux.opened({ protocol: CHANNEL, id: this.core.discoveryKey })
  }

  // Connections this peer itself chose to replicate the log on, still open
  get attached() {
    return this._muxers.size
  }

  // Lacks blocks up to length, and nothing under way may bring the next one: no peer it
  // replicates with has it (two peers that both learnt the length from connections that closed
  // replicate nothing to each other), and no channel it asked for is still unanswered
  stranded(length) {
    if (this.held >= length || !this.core.opened) return false
    const next = this.held
    if (this.core.peers.some((peer) => remoteHas(peer, next))) return false
    for (const mux of this._muxers.keys()) {
      const answered = this.core.peers.some((peer) => peerMux(peer) === mux)
      if (!answered && this._replicating(mux)) return false
    }
    return true
  }

  // How far this peer holds the log from its start, block for block
  get held() {
    return this.core.opened ? this.core.contiguousLength : 0
  }

  // How far this peer holds the log, signed, whether applied yet or not
  get length() {
    return this.core.opened ? this.core.length : 0
  }

  kick() {
    if (this.closing || this.failed !== null) return
    if (this._running !== null) {
      this._again = true
      return
    }
    this._running = this._loop()
      .catch((err) => this._fail(err))
      .finally(() => {
        this._running = null
        if (this._turn && this.applied >= this.length) this._leave()
      })
  }

  _download() {
    if (this._range !== null) this._range.destroy()
    this._range = this.core.download({ start: this.applied, end: -1 })
    this._range.done().catch(safetyCatch)
  }

  // Live: downloads every block as it comes. Catching up: downloads only in its turn, which
  // ends once it has applied all it knows of, or after TURN.
  _pace() {
    if (this._turn || this.closing || this.failed !== null || !this.core.opened) return
    const behind = this.length - Math.max(this.applied, this.core.contiguousLength)
    if (behind <= LIVE_BLOCKS || this._waiters.length > 0) {
      if (this._range === null) this._download()
      return
    }
    if (this._unqueue !== null) return
    if (this._range !== null) {
      this._range.destroy()
      this._range = null
    }
    this._unqueue = this._catchUp.take(() => this._begin())
  }

  _begin() {
    this._unqueue = null
    this._turn = true
    if (this.closing || this.failed !== null) return this._leave()
    this._turnTimer = setTimeout(() => {
      this._leave()
      this._pace()
    }, TURN)
    this._download()
    this.kick()
  }

  // Ends its turn
  _leave() {
    if (!this._turn) return
    clearTimeout(this._turnTimer)
    this._turnTimer = null
    this._turn = false
    this._catchUp.give()
  }

  // Ends its turn, or leaves the line if it waits for one: the log is done with
  _stopCatchingUp() {
    this._leave()
    if (this._unqueue === null) return
    this._unqueue()
    this._unqueue = null
  }

  async _loop() {
    do {
      this._again = false
      while (!this.closing && this.applied < this.core.contiguousLength) {
        const index = this.applied
        const buf = await this.core.get(index)
        if (buf === null || this.closing) return
        if (buf.byteLength > MAX_REMOTE_BLOCK) {
          throw AuctionError.INVALID_EVENT(
            `Block ${index} is larger than ${MAX_REMOTE_BLOCK} bytes`
          )
        }
        if (this.core.byteLength > MAX_LOG_BYTES) {
          throw AuctionError.LOG_TOO_LARGE(`The log is larger than ${MAX_LOG_BYTES} bytes`)
        }
        const events = m.decode(m.block, buf, 'log block')
        await this._throttle(events.length)
        if (this.closing) return
        await this.onblock(index, events)
        this.applied = index + 1
        if (this._waiters.length > 0) this._wake()
      }
    } while (this._again && !this.closing)
  }

  // A log may apply LOG_EVENT_RATE events a second past a burst: a spamming author is slowed,
  // and every other log goes on
  async _throttle(events) {
    const now = Date.now()
    this._tokens = Math.min(this.burst, this._tokens + ((now - this._filled) * this.rate) / 1000)
    this._filled = now
    this._tokens -= events
    if (this._tokens >= 0) return
    await new Promise((resolve) => {
      this._sleep = { resolve, timer: setTimeout(resolve, (-this._tokens * 1000) / this.rate) }
    })
    this._sleep = null
  }

  _fail(err) {
    if (this.closing || this.failed !== null) return
    this.failed = err
    this._stopCatchingUp()
    this._wake()
    this.oninvalid(err)
  }

  _onconflict(length, fork, proof) {
    if (this.dispute(length)) this.onconflict({ length, fork, proof })
  }

  // The author signed two histories (found here or by a peer): nothing more is applied. False
  // if it was known already.
  dispute(length) {
    if (this.failed !== null && this.failed.code === 'DISPUTED') return false
    this.failed = AuctionError.DISPUTED(`The author signed two histories at length ${length}`)
    this._stopCatchingUp()
    this._wake()
    return true
  }
}

function noop() {}

module.exports = Follower
