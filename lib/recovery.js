const AuctionError = require('./errors')
const m = require('./messages')

// How long the first append after a start waits for known peers to say how much of the own
// log they hold, and for a lost tail to come back
const RECOVERY_TIMEOUT = 5000

// The own log's tail: blocks this peer signed that its storage lost, taken back from the peers
// that hold them before this peer signs again, and blocks that came back by replication, applied
// to the view before anything is judged again. A peer never signs a block at a length it already
// signed.
class Recovery {
  constructor(opts) {
    this.log = opts.log
    this.view = opts.view
    this.net = opts.net
    this.id = opts.id
    // apply(index, events) applies a block of the own log to the view
    this.apply = opts.apply
    // The sequencer forgets what it held in memory once a tail is applied under it
    this.onapplied = opts.onapplied
    this.emitter = opts.emitter
    this.isClosing = opts.isClosing
    this.timeout = RECOVERY_TIMEOUT
    // The most any peer said it holds of the own log
    this._yours = 0
    this._recovery = null
    this._recovering = null
    this._tail = null
    this._tailError = null
  }

  // A peer holds the own log this far (hello, news)
  heard(length) {
    if (length > this._yours) this._yours = length
    if (this._recovering !== null && length > this.log.core.length) this._try()
  }

  // Takes back blocks of the own log that peers hold beyond local storage. Until the log is at
  // least as long as the view says it was (applied), appends are refused; every hello that
  // reports more of the log tries again.
  start(applied) {
    this._recovery = new Promise((resolve) => {
      this._recovering = { applied, resolve, running: null }
    })
    this._try()
  }

  // Before an own append: waits for a tail coming back, not forever
  async writable() {
    while (this._tail !== null) await this._tail
    if (this._tailError !== null) {
      // Blocks of the own log are held but not applied: judging without them could place an
      // event where the log already has one
      this.ontail()
      await this._tail
      if (this._tailError !== null) {
        throw AuctionError.LOG_RECOVERING(
          `Blocks of this peer's log that came back are not applied yet: ${this._tailError.message}`
        )
      }
    }
    if (this._recovering === null) return
    let timer
    const timeout = new Promise((resolve) => {
      timer = setTimeout(resolve, this.timeout)
    })
    await Promise.race([this._recovery, timeout])
    clearTimeout(timer)
    const r = this._recovering
    if (r === null) return
    throw AuctionError.LOG_RECOVERING(
      r.applied > this.log.core.length
        ? `This peer signed ${r.applied} blocks of its log, storage holds ${this.log.core.length}: waiting for a peer that holds the rest (signing again would fork the log, and every peer that holds those blocks would show this seller disputed; to start over, use a new storage folder, a new identity)`
        : 'Waiting for known peers to say how much of this peer’s log they hold'
    )
  }

  _try() {
    const r = this._recovering
    if (r === null || r.running !== null) return
    r.running = this._recoverOnce(r)
      .catch((err) => this.emitter.emit('warning', err))
      .finally(() => {
        r.running = null
      })
  }

  async _recoverOnce(r) {
    await this.net.greeted({ timeout: this.timeout })
    const length = Math.max(r.applied, this._yours)
    if (length > this.log.core.length) {
      await this.log.recover(length, this.timeout)
      this.ontail()
      if (this._tail !== null) await this._tail
    }
    if (this.log.core.length < r.applied || this.isClosing()) return
    this._recovering = null
    this._recovery = null
    r.resolve()
  }

  // Blocks of the own log came back by replication: apply them before anything is judged again
  ontail() {
    if (this._tail !== null) return
    this._tailError = null
    this._tail = this._applyTail()
      .catch((err) => {
        this._tailError = err
        this.emitter.emit('warning', err)
      })
      .finally(() => {
        this._tail = null
      })
  }

  async _applyTail() {
    const before = (await this.view.getLog(this.id)) || { applied: 0 }
    let applied = before.applied
    while (applied < this.log.core.length && !this.isClosing()) {
      await this.applyBlocks(applied)
      applied = (await this.view.getLog(this.id)).applied
    }
    this.onapplied()
    if (applied > before.applied) {
      this.emitter.emit('recovered', { blocks: applied - before.applied, length: applied })
    }
  }

  // Applies the own log's blocks from index from on. A block not held locally (a tail still
  // coming back) is waited for, not forever.
  async applyBlocks(from) {
    for (let index = from; index < this.log.core.length; index++) {
      const block = await this.log.core.get(index, { timeout: this.timeout })
      const events = m.decode(m.block, block, 'own log block')
      await this.apply(index, events)
    }
  }
}

module.exports = Recovery
