const { performance } = require('perf_hooks')

// Turns for remote logs that are catching up (a peer back from offline, a spammer's burst):
// applying a log's blocks costs this process CPU, and hundreds of logs catching up at once kept
// the machine so busy at N = 1,000 that the transport's acks came late, requests timed out and
// connections were torn down. A log in line waits for a turn; an idle process gives up to
// MAX_TURNS at once, a busy one (its event loop was busy for more than BUSY of the last
// second) one at a time and at most one new one every BUSY_GAP.
const MAX_TURNS = 8
const BUSY = 0.8
const BUSY_GAP = 1000
const CHECK = 1000

class CatchUp {
  constructor(opts = {}) {
    this.maxTurns = opts.maxTurns || MAX_TURNS
    this.gap = opts.gap || BUSY_GAP
    // busy(): whether the process is busy now; by default from its event loop utilization
    this._busy = opts.busy || null
    this.active = 0
    // Turns given so far
    this.turns = 0
    this._waiting = []
    this._granted = 0
    this._timer = null
    this._elu = null
    this._checkedAt = 0
    this._wasBusy = false
  }

  get waiting() {
    return this._waiting.length
  }

  // Resolves when it is this log's turn; give() ends it
  take() {
    return new Promise((resolve) => {
      this._waiting.push(resolve)
      this._pump()
    })
  }

  give() {
    this.active--
    this._pump()
  }

  busy() {
    if (this._busy !== null) return this._busy()
    const now = Date.now()
    if (this._elu === null || now - this._checkedAt >= CHECK) {
      const elu = performance.eventLoopUtilization()
      if (this._elu !== null) {
        this._wasBusy = performance.eventLoopUtilization(elu, this._elu).utilization > BUSY
      }
      this._elu = elu
      this._checkedAt = now
    }
    return this._wasBusy
  }

  _pump() {
    while (this._waiting.length > 0) {
      const busy = this.busy()
      if (this.active >= (busy ? 1 : this.maxTurns)) return
      const wait = busy ? this._granted + this.gap - Date.now() : 0
      if (wait > 0) {
        if (this._timer === null) {
          this._timer = setTimeout(() => {
            this._timer = null
            this._pump()
          }, wait)
          this._timer.unref()
        }
        return
      }
      this.active++
      this.turns++
      this._granted = Date.now()
      this._waiting.shift()()
    }
  }
}

// One for the whole process: its peers share its CPU
CatchUp.shared = new CatchUp()

module.exports = CatchUp
