const { MAX_TIMER } = require('./constants')

// End-of-auction timers of the own timed auctions; onend(idHex) runs at or after endsAt
class EndTimers {
  constructor(onend) {
    this.onend = onend
    this._timers = new Map()
    this.closed = false
  }

  arm(idHex, endsAt) {
    if (this.closed) return
    this.disarm(idHex)
    const timer = setTimeout(
      () => {
        this._timers.delete(idHex)
        if (this.closed) return
        if (Date.now() < endsAt) return this.arm(idHex, endsAt)
        this.onend(idHex)
      },
      Math.max(0, Math.min(endsAt - Date.now(), MAX_TIMER))
    )
    timer.unref()
    this._timers.set(idHex, timer)
  }

  has(idHex) {
    return this._timers.has(idHex)
  }

  get size() {
    return this._timers.size
  }

  disarm(idHex) {
    const timer = this._timers.get(idHex)
    if (timer) clearTimeout(timer)
    this._timers.delete(idHex)
  }

  close() {
    this.closed = true
    for (const timer of this._timers.values()) clearTimeout(timer)
    this._timers.clear()
  }
}

module.exports = EndTimers
