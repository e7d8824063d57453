const lag = require('./lag')

// Turns for remote logs that are catching up (a peer back from offline, a spammer's burst):
// applying a log's blocks costs this process CPU, and hundreds of logs catching up at once kept
// the machine so busy at N = 1,000 that the transport's acks came late, requests timed out and
// connections were torn down. A log in line waits for a turn; an idle process gives up to
// MAX_TURNS at once, a busy one (lib/lag: its event loop was busy for more than 80% of the last
// second) one at a time and at most one new one every BUSY_GAP.
const MAX_TURNS = 8
const BUSY_GAP = 1000

class CatchUp {
  constructor(opts = {}) {
    this.maxTurns = opts.maxTurns || MAX_TURNS
    this.gap = opts.gap || BUSY_GAP
    // busy(): whether the process is busy now
    this.busy = opts.busy || (() => lag.busy())
    this.active = 0
    // Turns given so far
    this.turns = 0
    this._waiting = []
    this._granted = 0
    this._timer = null
  }

  get waiting() {
    return this._waiting.length
  }

  // Calls ongranted() when it is this log's turn, maybe at once; give() ends the turn. Returns
  // a function that takes the log out of the line, if it is still waiting.
  take(ongranted) {
    const entry = { ongranted }
    this._waiting.push(entry)
    this._pump()
    return () => {
      const i = this._waiting.indexOf(entry)
      if (i !== -1) this._waiting.splice(i, 1)
    }
  }

  give() {
    this.active--
    this._pump()
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
      this._waiting.shift().ongranted()
    }
  }
}

// One for the whole process: its peers share its CPU
CatchUp.shared = new CatchUp()

module.exports = CatchUp
