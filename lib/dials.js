const lag = require('./lag')

// Dials for greetings. Making a connection (a DHT lookup, then a handshake at both ends) is the
// costliest thing a peer does, and a busy process that keeps dialing starves the connections it
// has: at N = 1,000 on 2 cores, greetings timed out, were dialed again, and the start tipped
// into a storm of failed dials. While the process is busy (lib/lag: its event loop was busy for
// more than 80% of the last second) at most MAX_BUSY greetings are making a new connection at
// once, shared by all its peers (a greeting gives its dial back once its connection is open);
// the keys held back stay candidates. An idle process is not held back. Requests to a given key
// (a bid to a seller) never ask.
const MAX_BUSY = 8

class Dials {
  constructor(opts = {}) {
    this.maxBusy = opts.maxBusy || MAX_BUSY
    // busy(): whether the process is busy now
    this.busy = opts.busy || (() => lag.busy())
    this.active = 0
    // Dials held back so far
    this.held = 0
  }

  // Whether a dial would be let through now
  get open() {
    return this.active < this.maxBusy || !this.busy()
  }

  // A function that gives the dial back (once its connection is open, or its greeting ended),
  // or null when the process is busy with enough of them
  take() {
    if (!this.open) {
      this.held++
      return null
    }
    this.active++
    let given = false
    return () => {
      if (given) return
      given = true
      this.active--
    }
  }
}

// One for the whole process: its peers share its CPU
Dials.shared = new Dials()

module.exports = Dials
