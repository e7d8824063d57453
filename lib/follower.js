const b4a = require('b4a')
const ReadyResource = require('ready-resource')
const safetyCatch = require('safety-catch')
const AuctionError = require('./errors')
const {
  settle,
  detachReplication,
  closeChannels,
  remoteHas,
  peerMux,
  onVerifiedBlock,
  verifyingBlock,
  readBlocks,
  allowPush,
  limitBlocks,
  batchMissingNodes,
  latestBlock
} = require('./compat')
const CatchUp = require('./catch-up')
const m = require('./messages')
const { logManifest } = require('./crypto')
const {
  MAX_REMOTE_BLOCK,
  MAX_LOG_BYTES,
  MAX_LOG_BLOCKS,
  DOWNLOAD_BYTES,
  DOWNLOAD_BLOCKS,
  LOG_EVENT_RATE,
  LOG_EVENT_BURST
} = require('./constants')

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
// A seek for the end of a download's byte budget waits this long for the tree nodes it needs
const SEEK_TIMEOUT = 5000
// Blocks are applied from the bytes that arrived, kept in memory until then: at most this many
// bytes, and only blocks at most KEEP_AHEAD past a block still missing. The others are read back
// from storage, at most READ_BATCH in one batch.
const MAX_KEPT_BYTES = 64 * 1024
const KEEP_AHEAD = 256
const READ_BATCH = 64
// A block being verified is waited for this long at most before it is read back
const ARRIVAL_TIMEOUT = 100
// A window this long or longer also asks for its first blocks in order (Hypercore asks for a
// window's blocks in random order; in order across a whole window costs it more CPU)
const HEAD_BLOCKS = 16
// Blocks are taken pushed unasked for this long after the last request that expects one
const PUSH_LINGER = 5000

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
    // Blocks held next in line to apply, by index: as replication brought them, or read back;
    // none below _consumed
    this._kept = new Map()
    this._keptBytes = 0
    this._consumed = 0
    // The next block to apply, being verified: { index, resolve } until its bytes arrive
    this._arriving = null
    this._unlisten = null
    // Downloads under way, each a window within DOWNLOAD_BYTES and DOWNLOAD_BLOCKS: where the
    // last one ends (block, and byte offset if known), and the block past which the next is
    // asked for
    this._ranges = new Set()
    this._rangeEnd = 0
    this._rangeEndBytes = 0
    this._rangeHalf = 0
    this._planning = false
    this._windows = 0
    // Blocks held in a row from the start and their bytes, as far as known; the sizes of blocks
    // downloaded past them
    this._mark = [0, 0]
    this._sizes = new Map()
    this._ondownloadSize = (index, byteLength) => this._ondownload(index, byteLength)
    // Why the log is refused, once it is: it fails when the blocks held before are applied
    this._refusal = null
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
    this._pushTimer = null
    // Whether the log is live (few blocks behind, or a bid waits on it), and whether a longer
    // length now comes with the last block (_syncLatest)
    this._live = false
    this._latest = false
    this.openAuctions = 0
    this._spread = 0
    // When the log last grew here (a longer signed length, or blocks): only growth keeps a log
    // open, not a peer's word that it has more
    this.grown = Date.now()
    // This peer takes part in one of the log's auctions (it bid): the log is closed last
    this.watched = false
    this.ongrow = opts.ongrow || noop
    this._onappend = () => {
      this.grown = Date.now()
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

  // Caught up, nobody waiting, not grown for ms
  idle(now, ms) {
    return (
      now - this.grown >= ms &&
      this._running === null &&
      this._waiters.length === 0 &&
      this.failed === null &&
      this.applied >= this.length
    )
  }

  hear(hex, length) {
    if ((this._heard.get(hex) || 0) < length) this._heard.set(hex, length)
    // Bounded by what connected peers send; the oldest word goes first
    if (this._heard.size > MAX_HEARD) this._heard.delete(this._heard.keys().next().value)
  }

  heardFrom(hex) {
    return this._heard.get(hex) || 0
  }

  // Bytes of the log as its signed length says (this peer holds them, or is fetching them)
  get bytes() {
    return this.core.opened ? this.core.byteLength : 0
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
    // First: the sizes of the blocks downloaded are known before they are paced
    this.core.on('download', this._ondownloadSize)
    this.core.on('append', this._onappend)
    this.core.on('download', this._onappend)
    this.core.on('conflict', (length, fork, proof) => this._onconflict(length, fork, proof))
    // Peers never truncate their logs, so a signed fork is proof that the author rewrote one:
    // whoever sees it, also a new replica that only ever saw the new fork
    this.core.on('truncate', (ancestors, fork) => this._onconflict(ancestors, fork, null))
    await this.core.ready()
    // A block larger than any this follower applies is not even stored: a push comes unasked
    limitBlocks(this.core, MAX_REMOTE_BLOCK)
    batchMissingNodes(this.core)
    this._unlisten = onVerifiedBlock(this.core, (index, block) => this._onverified(index, block))
    if (this.core.fork > 0) return this._onconflict(this.core.length, this.core.fork, null)
    this._pace()
    this.kick()
  }

  async _close() {
    this._wake()
    this._stopPushes()
    if (this._sleep !== null) {
      clearTimeout(this._sleep.timer)
      this._sleep.resolve()
    }
    if (this._arriving !== null) this._arriving.resolve()
    this._stopDownloads()
    // At once, not after the loop: until then a remote's ask for the log is still answered by
    // its open core, past the cap on logs served (Logs)
    closeChannels(this.core)
    while (this._running !== null) await this._running
    this._stopCatchingUp()
    if (this._unlisten !== null) this._unlisten()
    this._kept.clear()
    await settle(this.core)
    await this.core.close()
  }

  // A request to the author is on its way whose answer names a block of its log: the author
  // may push that block ahead of the answer, on the same connection (Hypercore's push mode,
  // which every peer replicating the log hears of). Pushes are taken for PUSH_LINGER after the
  // last such request; a pushed block is verified like any other.
  expectPush() {
    if (this.closing || !this.core.opened || this.failed !== null || this._refusal !== null) return
    if (this._pushTimer === null) allowPush(this.core, true)
    else clearTimeout(this._pushTimer)
    this._pushTimer = setTimeout(() => {
      this._pushTimer = null
      if (this.closing) return
      allowPush(this.core, false)
      this._syncLatest()
    }, PUSH_LINGER)
    if (this._pushTimer.unref) this._pushTimer.unref()
    this._syncLatest()
  }

  // Takes no more pushes; the last block then comes with a longer length again, if the log is
  // still followed live
  _stopPushes() {
    if (this._pushTimer !== null) {
      clearTimeout(this._pushTimer)
      this._pushTimer = null
      if (this.core.opened) allowPush(this.core, false)
    }
    this._syncLatest()
  }

  // A longer signed length comes with the log's last block, in one request and one verify (as a
  // bare replica's live download gets it), rather than the length first and the block in a
  // second round trip: 1.2-1.3x a bare replica's CPU per block instead of 1.5x. Only while the
  // log is live or in its catch-up turn, and followed; not while the author may push that block
  // (expectPush), which would then come twice.
  _syncLatest() {
    const on =
      this.core.opened &&
      !this.closing &&
      this.failed === null &&
      this._refusal === null &&
      this._pushTimer === null &&
      (this._turn || this._live)
    if (on === this._latest) return
    this._latest = on
    latestBlock(this.core, on).catch(safetyCatch)
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
    if (this._refusal !== null && this.applied >= this.core.contiguousLength) {
      this._fail(this._refusal)
      return
    }
    this._running = this._loop()
      .catch((err) => this._fail(err))
      .finally(() => {
        this._running = null
        if (this._turn && this.applied >= this.length) this._leave()
        if (this._refusal !== null) this.kick()
      })
  }

  // The log is refused: nothing more of it is downloaded, and it fails once the blocks held
  // before are applied (as a block that breaks a rule stops it there)
  _refuse(err) {
    if (this._refusal !== null) return
    this._refusal = err
    this._stopPushes()
    this._stopDownloads()
    this.kick()
  }

  // What the signed tree says of the log, before any of its blocks is downloaded: how many
  // blocks and bytes it holds, and whether the blocks past those held can each be within
  // MAX_REMOTE_BLOCK. A log that fails is refused, none of those blocks asked for.
  _sized() {
    const core = this.core
    const [index, bytes] = this._held()
    let err = null
    if (core.length > MAX_LOG_BLOCKS) {
      err = AuctionError.LOG_TOO_LARGE(`The log has more than ${MAX_LOG_BLOCKS} blocks`)
    } else if (core.byteLength > MAX_LOG_BYTES) {
      err = AuctionError.LOG_TOO_LARGE(`The log is larger than ${MAX_LOG_BYTES} bytes`)
    } else if (core.byteLength - bytes > (core.length - index) * MAX_REMOTE_BLOCK) {
      err = AuctionError.INVALID_EVENT(
        `A block of the log is larger than ${MAX_REMOTE_BLOCK} bytes`
      )
    }
    if (err === null) return true
    this._refuse(err)
    return false
  }

  // [blocks, bytes] held in a row from the start, as far as their sizes are known: Hypercore
  // gives no byte length of the blocks held, so this follower adds up those it downloads
  _held() {
    const core = this.core
    if (core.contiguousLength === core.length && this._mark[0] !== core.length) {
      this._mark = [core.length, core.byteLength]
      this._sizes.clear()
    }
    if (this._mark[0] > core.length) this._mark = [0, 0]
    while (this._mark[0] < core.contiguousLength) {
      const size = this._sizes.get(this._mark[0])
      if (size === undefined) break
      this._sizes.delete(this._mark[0])
      this._mark = [this._mark[0] + 1, this._mark[1] + size]
    }
    return this._mark
  }

  _ondownload(index, byteLength) {
    if (index >= this._mark[0]) this._sizes.set(index, byteLength)
  }

  // Asks for the next blocks within a byte budget. The signed tree says how many bytes the
  // blocks still to fetch hold: if they fit in DOWNLOAD_BYTES and DOWNLOAD_BLOCKS, all of them;
  // else a window that ends where Hypercore's seek finds the budget's last byte (it fetches
  // tree nodes, no block), asked for once the window before it is half done. A block that
  // alone exceeds the budget is refused before it is downloaded.
  _download() {
    const core = this.core
    if (this._planning) return
    const [held, heldBytes] = this._held()
    let start = this._rangeEnd
    let bytes = this._rangeEndBytes
    if (start <= held) {
      start = held
      bytes = heldBytes
    }
    if (start >= core.length) return
    const fits = bytes !== null && core.byteLength - bytes <= DOWNLOAD_BYTES
    if (fits && core.length - start <= DOWNLOAD_BLOCKS) {
      this._window(start, core.length, core.byteLength)
      return
    }
    // The window under way is not half done, or where it ends in bytes is not known yet
    if (start > held && (bytes === null || core.contiguousLength < this._rangeHalf)) return
    if (start < core.contiguousLength) {
      // Blocks held from before this follower: their sizes are read from storage once
      const end = core.contiguousLength
      this._plan(this._readBytes(start, end), (read) => {
        if (read !== null && this._mark[0] === start) {
          this._mark = [end, this._mark[1] + read]
          for (const index of this._sizes.keys()) if (index < end) this._sizes.delete(index)
        }
        this._download()
      })
      return
    }
    if (fits) {
      this._window(start, start + DOWNLOAD_BLOCKS, null)
      return
    }
    const target = bytes + DOWNLOAD_BYTES
    this._plan(core.seek(target, { timeout: SEEK_TIMEOUT }), ([index, offset]) => {
      if (index === start) {
        this._refuse(
          AuctionError.INVALID_EVENT(`Block ${start} is larger than ${MAX_REMOTE_BLOCK} bytes`)
        )
        return
      }
      const end = Math.min(index, start + DOWNLOAD_BLOCKS)
      this._window(start, end, end === index ? target - offset : null)
    })
  }

  // Bytes of blocks start to end - 1 held here, read in batches; null if one is not held
  async _readBytes(start, end) {
    let bytes = 0
    for (let i = start; i < end && !this.closing; i += DOWNLOAD_BLOCKS) {
      for (const block of await readBlocks(this.core, i, Math.min(end, i + DOWNLOAD_BLOCKS))) {
        if (block === null) return null
        bytes += block.byteLength
      }
    }
    return bytes
  }

  // Waits for what the next window needs; nothing else is asked meanwhile. Not answered in
  // time (nobody served the tree nodes), it is asked again at the next growth or turn.
  _plan(promise, then) {
    const windows = this._windows
    this._planning = true
    promise.then(
      (value) => {
        this._planning = false
        if (windows !== this._windows || this.closing || this.failed !== null) return
        then(value)
      },
      (err) => {
        this._planning = false
        safetyCatch(err)
      }
    )
  }

  _window(start, end, endBytes) {
    // Hypercore asks for a window's blocks in random order, so the next block to apply may come
    // among the last: its first blocks are also asked for in order, as a small range of their own
    if (end - start > HEAD_BLOCKS && start <= this.applied) {
      this._range({ start, end: start + HEAD_BLOCKS, linear: true })
    }
    this._range({ start, end })
    this._rangeHalf = start + Math.ceil((end - start) / 2)
    this._rangeEnd = end
    this._rangeEndBytes = endBytes
  }

  _range(opts) {
    const range = this.core.download(opts)
    const done = () => this._ranges.delete(range)
    range.done().then(done, (err) => {
      done()
      safetyCatch(err)
    })
    this._ranges.add(range)
  }

  _stopDownloads() {
    for (const range of this._ranges) range.destroy()
    this._ranges.clear()
    this._rangeEnd = 0
    this._rangeEndBytes = 0
    this._rangeHalf = 0
    // What is being planned is for a window no longer wanted
    this._windows++
  }

  // Live: downloads every block as it comes. Catching up: downloads only in its turn, which
  // ends once it has applied all it knows of, or after TURN.
  _pace() {
    if (this.closing || this.failed !== null || this._refusal !== null) return
    if (!this.core.opened || !this._sized()) return
    const behind = this.length - Math.max(this.applied, this.core.contiguousLength)
    this._live = behind <= LIVE_BLOCKS || this._waiters.length > 0
    this._syncLatest()
    if (this._turn || this._live) return this._download()
    if (this._unqueue !== null) return
    this._stopDownloads()
    // A turn may be granted at once, before take() returns: nothing is left to take out then
    let granted = false
    const unqueue = this._catchUp.take(() => {
      granted = true
      this._begin()
    })
    if (!granted) this._unqueue = unqueue
  }

  _begin() {
    this._unqueue = null
    this._turn = true
    if (this.closing || this.failed !== null) return this._leave()
    this._syncLatest()
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
    this._syncLatest()
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
        const buf = await this._block(index)
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

  // Replication verified and stored a block: the follower applies it from these bytes rather
  // than read it back
  _onverified(index, block) {
    if (index >= this.core.contiguousLength + KEEP_AHEAD) return
    // A copy: the bytes arrived in a larger buffer, which the block would keep in memory
    this._keep(index, block.byteLength === block.buffer.byteLength ? block : b4a.from(block))
    if (this._arriving !== null && this._arriving.index === index) this._arriving.resolve()
  }

  _keep(index, block) {
    if (index < Math.max(this.applied, this._consumed) || this._kept.has(index)) return
    if (this.failed !== null) return
    if (this._keptBytes + block.byteLength > MAX_KEPT_BYTES) return
    this._kept.set(index, block)
    this._keptBytes += block.byteLength
  }

  // The bytes of block index, the next to apply: as they arrived, else read back. A copy that
  // arrives after they were read back (Hypercore counts the block held before it hands this
  // follower its bytes) is not kept.
  async _block(index) {
    const block = this._take(index) || (await this._read(index))
    this._take(index)
    this._consumed = index + 1
    return block
  }

  // Resolves once the bytes of block index arrive, or after ARRIVAL_TIMEOUT
  _arrival(index) {
    return new Promise((resolve) => {
      const arriving = { index, resolve: null }
      const timer = setTimeout(() => arriving.resolve(), ARRIVAL_TIMEOUT)
      arriving.resolve = () => {
        clearTimeout(timer)
        if (this._arriving === arriving) this._arriving = null
        resolve()
      }
      this._arriving = arriving
    })
  }

  // The block's bytes if kept, else null
  _take(index) {
    const block = this._kept.get(index)
    if (block === undefined) return null
    this._kept.delete(index)
    this._keptBytes -= block.byteLength
    return block
  }

  // Reads the block from storage, in one batch with the next ones held, as many as fit in
  // MAX_KEPT_BYTES at the log's mean block size (Hypercore's get reads one a batch)
  async _read(index) {
    if (verifyingBlock(this.core, index)) {
      await this._arrival(index)
      const kept = this._take(index)
      if (kept !== null || this.closing) return kept
    }
    const core = this.core
    const mean = core.byteLength / Math.max(1, core.length)
    const count = Math.max(1, Math.min(READ_BATCH, Math.floor(MAX_KEPT_BYTES / mean)))
    const blocks = await readBlocks(core, index, Math.min(core.contiguousLength, index + count))
    for (let i = 1; i < blocks.length; i++) {
      if (blocks[i] !== null) this._keep(index + i, blocks[i])
    }
    return blocks[0]
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
    this._stopPushes()
    this._stopDownloads()
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
    this._stopPushes()
    this._stopCatchingUp()
    this._wake()
    return true
  }
}

function noop() {}

module.exports = Follower
