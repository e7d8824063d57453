const b4a = require('b4a')
const c = require('compact-encoding')
const safetyCatch = require('safety-catch')
const AuctionError = require('./errors')
const Follower = require('./follower')
const { signedTree } = require('./compat')
const crypto = require('./crypto')
const { MAX_LOGS } = require('./constants')

// A remote log with no news this long is closed (an open log costs ~40 KiB); checked this often
const IDLE_LOG = 30000
const SWEEP_INTERVAL = 5000
// Connections besides the author's on which a followed log is replicated
const RELAYS = 2
// Named logs not yet shown to hold anything: how many at once, for how long
const MAX_PROBATION = 256
const PROBATION = 15000

// The remote logs this peer holds: followed (open, a Follower each) while they have news,
// dormant (closed, a row in the view) while they have none, bounded in number. A log only named
// is on probation until it shows signed data. Logs whose author broke a rule (invalid) or
// signed two histories (disputed) are never followed again.
class Logs {
  constructor(opts) {
    this.store = opts.store
    this.view = opts.view
    this.net = opts.net
    this.id = opts.id
    // apply(author, hex, index, events, follower) applies a block of a remote log to the view
    this.apply = opts.apply
    // ongrow(hex, length): this peer holds more of a log from its start, to pass on
    this.ongrow = opts.ongrow
    this.emitter = opts.emitter
    this.isClosing = opts.isClosing
    this.rate = opts.logEventRate
    this.burst = opts.logEventBurst
    this.probationTime = opts.probation || PROBATION
    this.idleTime = opts.idleLog || IDLE_LOG
    // Authors whose logs hold two signed histories, the own included
    this.disputed = new Set()
    // Logs that broke a rule: never followed again, whoever names them
    this.invalid = new Set()
    this._followers = new Map()
    // Remote logs held but closed while they have no news: { applied, open, length } by author
    this._dormant = new Map()
    this._probation = new Map()
    this._slotWaiters = []
    this._sweepTimer = null
  }

  // The view's rows of the logs held, at start: remote logs start closed, and news, a greeting
  // or a peer's directory opens those that grew
  load(rows) {
    for (const row of rows) {
      if (row.disputed) this.disputed.add(row.author)
      if (row.author === this.id) continue
      if (row.invalid) this.invalid.add(row.author)
      if (row.disputed || row.invalid) continue
      this._dormant.set(row.author, { applied: row.applied, open: row.open, length: row.applied })
    }
  }

  start() {
    const interval = Math.min(SWEEP_INTERVAL, this.idleTime)
    this._sweepTimer = setInterval(() => this.sweep(), interval)
    this._sweepTimer.unref()
  }

  // Its timers, first thing at close
  stop() {
    clearInterval(this._sweepTimer)
    for (const hex of [...this._probation.keys()]) this._leaveProbation(hex)
  }

  async close() {
    this.stop()
    for (const follower of this._followers.values()) await follower.close()
  }

  // The follower of an open log, or undefined
  get(hex) {
    return this._followers.get(hex)
  }

  // Remote logs held, open or dormant
  get size() {
    return this._followers.size + this._dormant.size
  }

  // Remote logs held open
  get open() {
    let open = 0
    for (const follower of this._followers.values()) {
      if (follower.opened && !follower.closing) open++
    }
    return open
  }

  // Blocks applied of all remote logs
  get applied() {
    let blocks = 0
    for (const follower of this._followers.values()) blocks += follower.applied
    for (const log of this._dormant.values()) blocks += log.applied
    return blocks
  }

  // Hash over the logs this peer has applied, the own (ownCore) and the remote ones, sorted by
  // author: (author, length, disputed, tree hash)
  async digest(ownCore) {
    const parts = []
    const add = async (hex, core, length) => {
      if (length === 0) return
      // A disputed log counts apart: what was applied of it is not what its tree now says
      const disputed = this.disputed.has(hex)
      const tree = core.closed || disputed ? b4a.alloc(32) : await core.treeHash(length)
      const head = b4a.concat([b4a.from(hex, 'hex'), c.encode(c.uint, length)])
      parts.push([hex, b4a.concat([head, c.encode(c.bool, disputed), tree])])
    }
    await add(this.id, ownCore, ownCore.length)
    await this._eachApplied(add)
    parts.sort((a, b) => (a[0] < b[0] ? -1 : 1))
    const all = parts.map((p) => p[1])
    return b4a.toString(crypto.hash(all.length ? all : [b4a.alloc(0)]), 'hex')
  }

  // The proof a disputed author (seller, a key in hex) left: the other signed history and, where
  // this peer held one, its own, or null
  async proof(seller) {
    const row = await this.view.getDispute(seller.toLowerCase())
    if (row === null) return null
    const tree = (t) => ({
      length: t.length,
      fork: t.fork,
      signature: b4a.toString(t.signature, 'hex'),
      treeHash: b4a.toString(t.treeHash, 'hex')
    })
    return { seller, ...tree(row), detectedAt: row.detectedAt, own: row.own && tree(row.own) }
  }

  // The tree hash of a remote log at length, where this peer knows it without reading storage
  // (the log open and signed at that length, or put away dormant at it), else null
  treeAt(hex, length) {
    const follower = this._followers.get(hex)
    if (follower) {
      const tree = follower.core.opened ? signedTree(follower.core) : null
      return tree && tree.length === length ? tree.treeHash : null
    }
    const dormant = this._dormant.get(hex)
    return dormant && dormant.length === length ? dormant.tree || null : null
  }

  // The core of a remote log held here (open, else a session opened for the call) given to fn
  async withCore(author, fn) {
    const follower = this._followers.get(b4a.toString(author, 'hex'))
    if (follower && follower.core.opened) return fn(follower.core)
    const core = this.store.get({ manifest: crypto.logManifest(author) })
    try {
      await core.ready()
      return await fn(core)
    } finally {
      await core.close()
    }
  }

  // Another copy of this peer's storage signed a second history of the own log, which has
  // applied blocks and open auctions
  disputeOwn(length, applied, open) {
    this.disputed.add(this.id)
    this.view.stageLog(this.id, { applied, disputed: true, invalid: false, open })
    this.view.scheduleFlush()
    this.emitter.emit('dispute', { seller: this.id, length })
  }

  // Calls fn(hex, core, applied) for each remote log with blocks applied; a dormant log's core
  // is opened for the call and closed after it
  async _eachApplied(fn) {
    for (const [hex, follower] of this._followers) await fn(hex, follower.core, follower.applied)
    for (const [hex, log] of this._dormant) {
      if (log.applied === 0) continue
      const core = this.store.get({ manifest: crypto.logManifest(b4a.from(hex, 'hex')) })
      try {
        await core.ready()
        await fn(hex, core, log.applied)
      } finally {
        await core.close()
      }
    }
  }

  // Blocks held from the start: a length known without its blocks is not passed on
  held(hex) {
    const follower = this._followers.get(hex)
    if (follower) return follower.held
    const dormant = this._dormant.get(hex)
    return dormant ? dormant.length : 0
  }

  // Named logs wait for a probation slot rather than be skipped
  async probationSlot() {
    while (this._probation.size >= MAX_PROBATION && !this.isClosing()) {
      await new Promise((resolve) => this._slotWaiters.push(resolve))
    }
  }

  // Resolves true once block index of the author's log is applied here, false after timeout ms
  // (or if the log cannot be followed): the author is asked for it
  waitFor(author, index, timeout) {
    const dormant = this._dormant.get(b4a.toString(author, 'hex'))
    if (dormant !== undefined && dormant.applied > index) return Promise.resolve(true)
    this.follow(author, null, author, index + 1)
    const follower = this._followers.get(b4a.toString(author, 'hex'))
    return follower ? follower.waitFor(index, timeout) : Promise.resolve(false)
  }

  // A new connection replicates the log of its remote, and the logs whose author is not
  // connected and that have fewer than RELAYS connections to replicate on
  onconnection(hex, mux) {
    // The log of a connected author stays open: Hypercore brings its news
    if (this._dormant.has(hex)) this.follow(b4a.from(hex, 'hex'), null, null)
    for (const [author, follower] of this._followers) {
      if (!follower.opened) continue
      if (author === hex) follower.attach(mux)
      else if (follower.attached < RELAYS && !this.net.connected(author)) follower.attach(mux)
    }
  }

  // The author is gone: what this peer missed of its log can still come from other holders
  ondisconnect(hex) {
    const follower = this._followers.get(hex)
    if (!follower || !follower.opened) return
    for (const mux of this.net.randomMuxers(RELAYS, hex)) follower.attach(mux)
  }

  // A remote log: followed while this peer holds it, bounded in number. It is replicated with
  // its author; while the author is not connected, with the peer that named it (source) and a
  // few others at random. Fetching from other followers while the author is there would only
  // race them for blocks they do not have yet.
  // length: how long a peer says the log is; a dormant log wakes only if that is news.
  follow(author, row = null, source = null, length = Infinity) {
    const hex = b4a.toString(author, 'hex')
    if (hex === this.id || this._followers.has(hex)) return
    if (this.disputed.has(hex) || this.invalid.has(hex)) return
    const dormant = this._dormant.get(hex)
    if (dormant !== undefined) {
      if (dormant.length >= length) return
      row = dormant
    }
    // A log only named (by its author or a peer) is on probation until a signed length shows it
    // is not empty: anyone can name keys by the thousand, and they must not take the slots. Its
    // own author, connected and speaking for one log only, goes past the probation cap.
    const byAuthor = source !== null && b4a.equals(source, author)
    if (row === null && !byAuthor && this._probation.size >= MAX_PROBATION) return
    if (this._followers.size - this._probation.size >= MAX_LOGS) {
      this.emitter.emit(
        'warning',
        AuctionError.TOO_MANY_LOGS(`Not following ${hex}: ${MAX_LOGS} logs held`)
      )
      return
    }
    const follower = new Follower(this.store, author, {
      applied: row === null ? 0 : row.applied,
      rate: this.rate,
      burst: this.burst,
      onblock: (index, events) => {
        this._admit(hex)
        return this.apply(author, hex, index, events, follower)
      },
      onconflict: (conflict) => {
        this._onconflict(hex, conflict).catch((err) => this.emitter.emit('warning', err))
      },
      oninvalid: (err) => this._oninvalid(hex, err),
      ongrow: (length) => this.ongrow(hex, length)
    })
    follower.openAuctions = row === null ? 0 : row.open
    // Woken from its dormant row only once it surely has a slot: a lost row would make this
    // peer apply the log from its start again
    this._dormant.delete(hex)
    this._followers.set(hex, follower)
    if (row === null) this._probe(hex, follower)
    follower
      .ready()
      .then(() => {
        // The author, else the peer that named the log: each more connection is a channel to
        // open on both sides and a copy of every block's news. Random others only when
        // neither is connected.
        let muxers = this.net.muxers(hex)
        if (muxers.length === 0 && source !== null) {
          muxers = this.net.muxers(b4a.toString(source, 'hex'))
        }
        if (muxers.length === 0) muxers = this.net.randomMuxers(RELAYS, hex)
        for (const mux of muxers) follower.attach(mux)
      })
      .catch((err) => this._oninvalid(hex, err))
  }

  // Remote logs caught up and without news for idleLog ms, whose author is not connected, are
  // closed; news, a greeting or a bid opens them again where they stopped
  sweep() {
    if (this.isClosing()) return
    const now = Date.now()
    for (const [hex, follower] of this._followers) {
      if (!follower.opened || this._probation.has(hex) || this.net.connected(hex)) continue
      if (!follower.idle(now, this.idleTime)) continue
      this._followers.delete(hex)
      const tree = signedTree(follower.core)
      this._dormant.set(hex, {
        applied: follower.applied,
        open: follower.openAuctions,
        length: follower.length,
        // Its tree hash at that length, for the entries this peer gives of it (lib/forks.js)
        tree: tree && tree.length === follower.length ? tree.treeHash : null
      })
      follower.close().catch(safetyCatch)
    }
  }

  _leaveProbation(hex) {
    const timer = this._probation.get(hex)
    if (timer === undefined) return false
    clearTimeout(timer)
    this._probation.delete(hex)
    const waiters = this._slotWaiters
    this._slotWaiters = []
    for (const resolve of waiters) resolve()
    return true
  }

  _probe(hex, follower) {
    const timer = setTimeout(() => {
      if (!this._probation.has(hex)) return
      if (follower.length > 0) return this._admit(hex)
      // Nothing signed came: forget the log, it may be named again later
      this._leaveProbation(hex)
      if (this._followers.get(hex) === follower) this._followers.delete(hex)
      follower.close().catch(safetyCatch)
    }, this.probationTime)
    timer.unref()
    this._probation.set(hex, timer)
  }

  // A log that showed signed data: it takes a slot and is remembered
  _admit(hex) {
    if (!this._leaveProbation(hex)) return
    this.view.stageLog(hex, { applied: 0, disputed: false, invalid: false })
  }

  // Hypercore found an upgrade of the log that does not fit what this peer holds
  _onconflict(hex, { length, fork, proof }) {
    const upgrade = proof && proof.upgrade
    return this.dispute(hex, {
      length,
      fork,
      signature: (upgrade && upgrade.signature) || b4a.alloc(0),
      treeHash: upgrade ? crypto.treeHash(upgrade.nodes) : b4a.alloc(0),
      detectedAt: Date.now()
    })
  }

  // The author of the log signed two histories: the log is followed no more, and proof (a
  // dispute row: the other history's signed tree, and this peer's where it has one) is kept.
  // Resolves true if the log was not disputed here before.
  async dispute(hex, proof) {
    if (this.disputed.has(hex)) return false
    this.disputed.add(hex)
    this._leaveProbation(hex)
    const follower = this._followers.get(hex)
    if (follower) follower.dispute(proof.length)
    const row = (await this.view.getLog(hex)) || { applied: 0 }
    this.view.stageLog(hex, {
      applied: follower ? follower.applied : row.applied,
      disputed: true,
      invalid: false
    })
    this.view.stageDispute(hex, proof)
    await this.view.flush()
    this.emitter.emit('dispute', { seller: hex, length: proof.length })
    return true
  }

  // A log stopped: for good if its author broke a rule (a coded error), until the next start if
  // this peer failed locally (storage), which is no fault of the author's
  _oninvalid(hex, err) {
    if (this.isClosing()) return
    this._leaveProbation(hex)
    const follower = this._followers.get(hex)
    if (follower) {
      this._followers.delete(hex)
      follower.close().catch(safetyCatch)
    }
    if (err instanceof AuctionError) {
      this.invalid.add(hex)
      const applied = follower ? follower.applied : 0
      this.view.stageLog(hex, { applied, disputed: false, invalid: true })
      this.view.scheduleFlush()
    }
    this.emitter.emit('warning', err)
  }
}

module.exports = Logs
