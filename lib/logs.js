const b4a = require('b4a')
const c = require('compact-encoding')
const safetyCatch = require('safety-catch')
const AuctionError = require('./errors')
const Follower = require('./follower')
const { signedTree, guardRemoteOpens } = require('./compat')
const crypto = require('./crypto')
const m = require('./messages')
const { MAX_LOGS, MAX_STORED_LOGS, MAX_SERVED_LOGS } = require('./constants')

// A remote log that has not grown this long is closed (an open log costs ~70 KiB); checked this
// often
const IDLE_LOG = 30000
const SWEEP_INTERVAL = 5000
// A log that grew this recently is not closed to make room for a log someone else named
const KEEP_NEW = 5000
// Storage freed by clearing logs comes back once RocksDB compacts it: this long after a clear,
// at most once per COMPACT_INTERVAL
const COMPACT_DELAY = 1000
const COMPACT_INTERVAL = 10000
// Hypercore's channel, one per log on a connection
const CHANNEL = 'hypercore/alpha'
// A log let open for a remote's ask counts against the connection's cap until its channel has
// closed, or for this long if no channel came of it
const SERVED_GRACE = 5000
// An ask whose core has not opened in this long no longer counts
const SERVED_OPEN_TIMEOUT = 60000
// Connections besides the author's on which a followed log is replicated
const RELAYS = 2
// Named logs not yet shown to hold anything: how many at once, for how long
const MAX_PROBATION = 256
const PROBATION = 15000

// The remote logs this peer holds: followed (open, a Follower each) while they grow, dormant
// (closed, a row in the view) while they do not; both bounded in number, the least useful going
// first. A log only named is on probation until it shows signed data. Logs whose author broke a
// rule (invalid) or signed two histories (disputed) are never followed again. A log dropped
// (invalid, forgotten, or named and empty) leaves nothing in storage.
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
    this.maxLogs = opts.maxLogs || MAX_LOGS
    this.maxStoredLogs = opts.maxStoredLogs || MAX_STORED_LOGS
    // servedPicture(id): whether a pictures core may be opened for a remote: 'own', 'held' (one
    // more core served, within the cap below) or null (lib/pictures.js)
    this.servedPicture = opts.servedPicture || (() => null)
    // Authors whose logs hold two signed histories, the own included
    this.disputed = new Set()
    // Logs that broke a rule: never followed again, whoever names them
    this.invalid = new Set()
    this._followers = new Map()
    // Remote logs held but closed while they do not grow: { applied, open, length, tree, bytes,
    // grown, watched } by author (bytes null until measured)
    this._dormant = new Map()
    this._probation = new Map()
    this._slotWaiters = []
    this._sweepTimer = null
    // Authors of the logs followed or stored, by their logs' discovery keys (hex)
    this._authors = new Map()
    this._ownDiscoveryKey = discoveryHex(this.id)
    this._publicKey = b4a.from(this.id, 'hex')
    // Logs whose storage is being cleared, and logs not followed let open for a remote's ask,
    // by connection
    this._clearing = new Map()
    this._serving = new Map()
    this._compactTimer = null
    this._compacted = 0
    this._compacting = null
    this._measuring = null
    guardRemoteOpens(this.store, (mux, discoveryKey, open) =>
      this._onremote(mux, discoveryKey, open)
    )
  }

  // The view's rows of the logs held, at start: remote logs start closed, and news, a greeting
  // or a peer's directory opens those that grew
  load(rows) {
    for (const row of rows) {
      if (row.disputed) this.disputed.add(row.author)
      if (row.author === this.id) continue
      if (row.invalid) this.invalid.add(row.author)
      if (row.invalid) continue
      this._authors.set(discoveryHex(row.author), row.author)
      if (row.disputed) continue
      this._dormant.set(row.author, {
        applied: row.applied,
        open: row.open,
        length: row.applied,
        tree: null,
        bytes: null,
        grown: 0,
        watched: false
      })
    }
  }

  start() {
    const interval = Math.min(SWEEP_INTERVAL, this.idleTime)
    this._sweepTimer = setInterval(() => this.sweep(), interval)
    this._sweepTimer.unref()
    this._trimStored()
    this._measuring = this._measure().catch(safetyCatch)
  }

  // Its timers, first thing at close
  stop() {
    clearInterval(this._sweepTimer)
    clearTimeout(this._compactTimer)
    for (const hex of [...this._probation.keys()]) this._leaveProbation(hex)
  }

  async close() {
    this.stop()
    for (const follower of this._followers.values()) await follower.close()
    // Storage being cleared or measured is done with before the store closes
    await this._measuring
    while (this._clearing.size > 0) await Promise.all(this._clearing.values())
    await this._compacting
  }

  // The follower of an open log, or undefined
  get(hex) {
    return this._followers.get(hex)
  }

  // Logs whose storage is being cleared
  get clearing() {
    return this._clearing.size
  }

  // Remote logs held, followed or dormant (not those only named, on probation)
  get size() {
    return this._followers.size - this._probation.size + this._dormant.size
  }

  // Bytes of the remote logs held, as their signed lengths say (a dormant log's as it was put
  // away; those put away before this start are read in the background)
  get bytes() {
    let bytes = 0
    for (const follower of this._followers.values()) bytes += follower.bytes
    for (const log of this._dormant.values()) bytes += log.bytes || 0
    return bytes
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
  // (or if the log cannot be followed): the author is asked for it. This peer takes part in
  // the author's auctions: its log is closed and forgotten last.
  waitFor(author, index, timeout) {
    const dormant = this._dormant.get(b4a.toString(author, 'hex'))
    if (dormant !== undefined) dormant.watched = true
    if (dormant !== undefined && dormant.applied > index) return Promise.resolve(true)
    this.follow(author, null, author, index + 1)
    const follower = this._followers.get(b4a.toString(author, 'hex'))
    if (!follower) return Promise.resolve(false)
    follower.watched = true
    return follower.waitFor(index, timeout)
  }

  // A request to author is on its way whose answer names a block of its log (a bid): that
  // block may come pushed ahead of the answer
  expectPush(author) {
    const follower = this._followers.get(b4a.toString(author, 'hex'))
    if (follower) follower.expectPush()
  }

  // A new connection replicates the log of its remote, and the logs whose author is not
  // connected and that have fewer than RELAYS connections to replicate on
  onconnection(hex, mux) {
    // The log of a connected author stays open: Hypercore brings its news
    if (this._dormant.has(hex)) this.follow(b4a.from(hex, 'hex'), null, b4a.from(hex, 'hex'))
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
    // Its storage is being cleared: named again later, it is fetched from its start
    if (this._clearing.has(hex)) return
    const dormant = this._dormant.get(hex)
    if (dormant !== undefined) {
      if (dormant.length >= length) return
      row = dormant
    }
    // A log only named (by its author or a peer) is on probation until a signed length shows it
    // is not empty: anyone can name keys by the thousand, and they must not take the slots. Its
    // own author, connected and speaking for one log only, goes past the probation cap, and is
    // never refused for want of a slot.
    const byAuthor = source !== null && b4a.equals(source, author)
    if (row === null && !byAuthor && this._probation.size >= MAX_PROBATION) return
    // Logs on probation count: the bound is on logs open
    if (this._followers.size >= this.maxLogs) {
      if (!this._makeRoom(byAuthor && this.net.connected(hex))) {
        this.emitter.emit(
          'warning',
          AuctionError.TOO_MANY_LOGS(`Not following ${hex}: ${this.maxLogs} logs followed`)
        )
        return
      }
    }
    const follower = new Follower(this.store, author, {
      applied: row === null ? 0 : row.applied,
      rate: this.rate,
      burst: this.burst,
      onblock: (index, events) => {
        // The own log never writes a block without events: one is junk that costs storage
        if (events.length === 0) {
          throw AuctionError.INVALID_EVENT(`Block ${index} holds no events`)
        }
        this._admit(hex)
        if (!follower.watched && this._involves(events)) follower.watched = true
        return this.apply(author, hex, index, events, follower)
      },
      onconflict: (conflict) => {
        this._onconflict(hex, conflict).catch((err) => this.emitter.emit('warning', err))
      },
      oninvalid: (err) => this._oninvalid(hex, err),
      ongrow: (length) => this.ongrow(hex, length)
    })
    follower.openAuctions = row === null ? 0 : row.open
    if (row !== null && row.watched) follower.watched = true
    // Woken from its dormant row only once it surely has a slot: a lost row would make this
    // peer apply the log from its start again
    this._dormant.delete(hex)
    this._followers.set(hex, follower)
    this._authors.set(discoveryHex(hex), hex)
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

  // Remote logs caught up and not grown for idleLog ms, whose author is not connected, are
  // closed; news, a greeting or a bid opens them again where they stopped. Stored logs past
  // the bound are forgotten.
  sweep() {
    if (this.isClosing()) return
    const now = Date.now()
    for (const [hex, follower] of this._followers) {
      if (!follower.opened || this._probation.has(hex) || this.net.connected(hex)) continue
      if (!follower.idle(now, this.idleTime)) continue
      this._rest(hex, follower)
    }
    this._trimStored()
  }

  // Closes a followed log and keeps it dormant, its storage kept
  _rest(hex, follower) {
    this._followers.delete(hex)
    const tree = follower.core.opened ? signedTree(follower.core) : null
    this._dormant.set(hex, {
      applied: follower.applied,
      open: follower.openAuctions,
      length: follower.length,
      // Its tree hash at that length, for the entries this peer gives of it (lib/forks.js)
      tree: tree && tree.length === follower.length ? tree.treeHash : null,
      bytes: follower.bytes,
      grown: follower.grown,
      watched: follower.watched
    })
    follower.close().catch(safetyCatch)
  }

  // Past maxLogs, the least useful followed log is closed (dormant, its storage kept): only one
  // caught up with nothing under way (its applied length is final), never one whose author is
  // connected or one on probation; one this peer bid in last; else the one that grew longest
  // ago. For a log a peer named (not force: its connected author's), only one that has not grown
  // for KEEP_NEW. False if none can go.
  _makeRoom(force) {
    const now = Date.now()
    let least = null
    let leastHex = null
    for (const [hex, follower] of this._followers) {
      if (!follower.opened || !follower.idle(now, 0) || this._probation.has(hex)) continue
      if (this.net.connected(hex)) continue
      if (!force && (follower.watched || now - follower.grown < KEEP_NEW)) continue
      if (least === null || lessUseful(follower, least)) {
        least = follower
        leastHex = hex
      }
    }
    if (least === null) return false
    this._rest(leastHex, least)
    return true
  }

  // Past maxStoredLogs, the least useful dormant logs are forgotten (their storage cleared):
  // one this peer bid in last, else the one that grew longest ago. A disputed log keeps its
  // storage.
  _trimStored() {
    while (this.size > this.maxStoredLogs) {
      let least = null
      let leastHex = null
      for (const [hex, log] of this._dormant) {
        if (this.disputed.has(hex)) continue
        if (least === null || lessUseful(log, least)) {
          least = log
          leastHex = hex
        }
      }
      if (least === null) return
      this._dormant.delete(leastHex)
      this.view.dropLog(leastHex)
      this.view.scheduleFlush()
      this._clear(leastHex, null)
    }
  }

  // Clears what the store holds of a log (blocks, tree, header), once its follower (if any) is
  // closed. Named again, the log is fetched from its start; RocksDB frees the disk once it
  // compacts.
  _clear(hex, follower) {
    this._authors.delete(discoveryHex(hex))
    const clearing = (async () => {
      if (follower !== null) await follower.close()
      const core = this.store.get({ manifest: crypto.logManifest(b4a.from(hex, 'hex')) })
      await core.ready()
      await core.purge()
    })()
    const done = clearing
      .catch((err) => {
        if (!this.isClosing()) this.emitter.emit('warning', err)
      })
      .finally(() => {
        this._clearing.delete(hex)
        this._compactSoon()
      })
    this._clearing.set(hex, done)
  }

  _compactSoon() {
    if (this._compactTimer !== null || this.isClosing()) return
    const wait = Math.max(COMPACT_DELAY, this._compacted + COMPACT_INTERVAL - Date.now())
    this._compactTimer = setTimeout(() => {
      this._compactTimer = null
      if (this.isClosing() || this._compacting !== null) return
      this._compacted = Date.now()
      this._compacting = this.store.storage
        .compact()
        .catch(safetyCatch)
        .finally(() => {
          this._compacting = null
        })
    }, wait)
    this._compactTimer.unref()
  }

  // The bytes held of the dormant logs of a previous run, one log at a time
  async _measure() {
    for (const [hex, log] of this._dormant) {
      if (this.isClosing()) return
      if (log.bytes !== null || this._clearing.has(hex)) continue
      const manifest = crypto.logManifest(b4a.from(hex, 'hex'))
      const core = this.store.get({ manifest, createIfMissing: false })
      try {
        await core.ready()
        log.bytes = core.byteLength
      } catch (err) {
        safetyCatch(err)
      } finally {
        await core.close()
      }
    }
  }

  // A remote asks for the channel of a log, and the store would open any core it holds. The own
  // log and the followed ones are open anyway, and the own pictures core is one core; any other
  // remote log held (dormant, disputed) or pictures core held is opened for at most
  // MAX_SERVED_LOGS at once per connection, so that a peer asking for every stored log reopens
  // only a few; nothing else is. A refused channel is closed on the remote's
  // side.
  _onremote(mux, discoveryKey, open) {
    const id = b4a.toString(discoveryKey, 'hex')
    if (id === this._ownDiscoveryKey) return open()
    const picture = this.servedPicture(id)
    if (picture === 'own') return open()
    // Not a remote log or pictures core held here (the view, say): never served
    const author = this._authors.get(id)
    if ((author === undefined && picture === null) || this.isClosing()) return
    if (author !== undefined && this._followers.has(author)) return open()
    // Logs let open on this connection, by discovery key: each counts from the ask until its
    // channel has closed, or did not come within SERVED_GRACE of the core's opening (Hypercore
    // makes the channel a while after the core has opened, and opening may take long on a busy
    // process: a clock started at the ask let more through under load)
    let admitted = this._serving.get(mux)
    if (admitted === undefined) {
      admitted = new Map()
      this._serving.set(mux, admitted)
      mux.stream.once('close', () => this._serving.delete(mux))
    }
    if (admitted.size >= MAX_SERVED_LOGS) {
      const now = Date.now()
      const live = new Set()
      for (const channel of mux) {
        if (channel.protocol === CHANNEL && !channel.closed && channel.id !== null) {
          live.add(b4a.toString(channel.id, 'hex'))
        }
      }
      for (const [served, ask] of admitted) {
        if (live.has(served)) continue
        // Opened and no channel within the grace, or never opened at all (a store that hangs)
        const since = ask.opened === 0 ? ask.asked + SERVED_OPEN_TIMEOUT : ask.opened
        if (now - since > SERVED_GRACE) admitted.delete(served)
      }
      if (admitted.size >= MAX_SERVED_LOGS) return
    }
    const ask = { asked: Date.now(), opened: 0 }
    admitted.set(id, ask)
    const opening = Promise.resolve(open())
    const opened = () => {
      ask.opened = Date.now()
    }
    opening.then(opened, opened)
    return opening
  }

  // A block of a remote log holds a bid of this peer's
  _involves(events) {
    for (const evt of events) {
      if (evt.type !== m.EVENT_BID_ACCEPTED) continue
      if (b4a.equals(evt.payload.bid.bidder, this._publicKey)) return true
    }
    return false
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
      // Nothing signed came: forget the log (and the header its store made for it), it may be
      // named again later
      this._leaveProbation(hex)
      if (this._followers.get(hex) !== follower) return
      this._followers.delete(hex)
      this._clear(hex, follower)
    }, this.probationTime)
    timer.unref()
    this._probation.set(hex, timer)
  }

  // A log that showed signed data: it takes a slot and is remembered, within the bounds
  _admit(hex) {
    if (!this._leaveProbation(hex)) return
    this.view.stageLog(hex, { applied: 0, disputed: false, invalid: false })
    this._trimStored()
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
    if (follower) this._followers.delete(hex)
    if (err instanceof AuctionError) {
      this.invalid.add(hex)
      const applied = follower ? follower.applied : 0
      this.view.stageLog(hex, { applied, disputed: false, invalid: true })
      this.view.scheduleFlush()
      // Nothing of an invalid log is kept: it is never followed again
      this._clear(hex, follower || null)
    } else if (follower) {
      follower.close().catch(safetyCatch)
    }
    this.emitter.emit('warning', err)
  }
}

// Watched last, then by when it last grew
function lessUseful(a, b) {
  if (a.watched !== b.watched) return !a.watched
  return a.grown < b.grown
}

function discoveryHex(hex) {
  return b4a.toString(crypto.discoveryKey(crypto.logKey(b4a.from(hex, 'hex'))), 'hex')
}

module.exports = Logs
