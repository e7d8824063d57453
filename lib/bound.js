// Connections kept at once; a quarter of them this peer chooses (outgoing), the rest come to it
const MAX_CONNECTIONS = 32
// An eighth of them is kept free for arrivals (a bid to this seller): this peer's own choices
// and the peers it protects leave it
const RESERVE_SHARE = 8
// A proven peer connected this long is not evicted for a newcomer, as many of them as fit (see
// evict)
const PROTECT_AFTER = 10000
// A new connection is left alone this long before it may be evicted
const ARRIVAL = 2000

// A peer's connections by key, and the bound on them: who is evicted past it, and whether there
// is room for one more of the peer's own choosing. A connection is an object with hex, outgoing,
// since and used (times), and dropped once it is on its way out; a key may have several (both
// sides dialed), the newest last. Also counts the requests from each key under way, which keep
// the key from being evicted.
class Bound {
  constructor(opts = {}) {
    this.maxConnections = opts.maxConnections || MAX_CONNECTIONS
    this.targetOutgoing = Math.ceil(this.maxConnections / 4)
    // Never so large that this peer could not make its own connections
    this.reserve = Math.min(
      Math.ceil(this.maxConnections / RESERVE_SHARE),
      this.maxConnections - this.targetOutgoing
    )
    // proven(hex): the key answered a greeting of this peer's in time
    this.proven = opts.proven || (() => false)
    // onevict(hex): the key chosen to go; closes its connections
    this.onevict = opts.onevict || noop
    // ondisconnect(conn): conn was the last connection to its key
    this.ondisconnect = opts.ondisconnect || noop
    this.closed = false
    this._connections = new Map()
    this._inflight = new Map()
    this._timer = null
  }

  // Keys with a connection, even one on its way out
  get size() {
    return this._connections.size
  }

  // Keys with a connection open or being made, and not on its way out
  get connections() {
    let n = 0
    for (const list of this._connections.values()) if (list.some((c) => !c.dropped)) n++
    return n
  }

  // Keys this peer connected to itself
  get outgoing() {
    let n = 0
    for (const list of this._connections.values()) if (list.some((c) => c.outgoing)) n++
    return n
  }

  // The connections to a key, the newest last, or undefined
  get(hex) {
    return this._connections.get(hex)
  }

  keys() {
    return this._connections.keys()
  }

  // [hex, connections] for each key
  [Symbol.iterator]() {
    return this._connections[Symbol.iterator]()
  }

  add(conn) {
    let list = this._connections.get(conn.hex)
    if (!list) {
      list = []
      this._connections.set(conn.hex, list)
    }
    list.push(conn)
  }

  // A connection closed
  remove(conn) {
    const list = this._connections.get(conn.hex)
    if (!list) return
    const i = list.indexOf(conn)
    if (i !== -1) list.splice(i, 1)
    if (list.length > 0) return
    this._connections.delete(conn.hex)
    this.ondisconnect(conn)
  }

  // Room for one more connection of this peer's choosing, outside the arrivals' reserve, with
  // greetings of new keys under way counted as connections of its own
  room(greetings = 0) {
    return (
      this.outgoing + greetings < this.targetOutgoing &&
      this.connections + greetings < this.maxConnections - this.reserve
    )
  }

  // Requests from a key under way
  inflight(hex) {
    return this._inflight.get(hex) || 0
  }

  beginRequest(hex) {
    this._inflight.set(hex, this.inflight(hex) + 1)
  }

  endRequest(hex) {
    const n = this._inflight.get(hex) - 1
    if (n === 0) this._inflight.delete(hex)
    else this._inflight.set(hex, n)
  }

  // Past the bound less the reserve, one peer that only came to this one goes, chosen at random
  // among those not protected, keys that never proved themselves first. Protected: a proven peer
  // connected for PROTECT_AFTER, the longest connected first, as many as fit beside this peer's
  // own connections in the bound less the reserve. So a flood of new keys can only take the
  // slots of other newcomers, and the reserve stays free for arrivals. A key that has a request
  // to this peer under way stays too, but does not take a protected peer's place. A connection
  // younger than ARRIVAL is not chosen, so that the request it came for (a bid to this seller)
  // gets through; it is looked at again once it is that old. When every unprotected one past
  // ARRIVAL carried a request lately, the newest of them goes anyway, before it can become
  // protected. So the bound is passed only when more than the reserve arrive within ARRIVAL
  // (bidders rushing to one seller), and only until they are that old, or by keys with a request
  // to this peer under way (a payment claim waits for confirmations) and by this peer's own
  // requests to a seller. Past twice the bound one of the arrivals goes at once, chosen at
  // random among those without a request under way: the newest would always be the bidder that
  // just came, again at each retry, while a burst of arrivals lasts (32 peers meeting one seller
  // in a second); the newest of all only when each carries one. Returns the key evicted, if any.
  evict() {
    const now = Date.now()
    const room = this.maxConnections - this.reserve
    let live = 0
    // Keys this peer connected to itself
    let mine = 0
    const came = []
    for (const [hex, list] of this._connections) {
      // Already on its way out
      if (list.every((c) => c.dropped)) continue
      live++
      if (list.some((c) => c.outgoing)) {
        mine++
        continue
      }
      let since = Infinity
      let used = 0
      for (const c of list) {
        since = Math.min(since, c.since)
        used = Math.max(used, c.used)
      }
      came.push({ hex, since, used, proven: this.proven(hex) })
    }
    if (live <= room) return null
    came.sort((a, b) => a.since - b.since)
    let protect = room - mine
    // Settled and unused lately: the unproven ones, then proven ones past the protected
    const open = [[], []]
    let settled = null
    let young = Infinity
    // Neither protected nor carrying a request: the pick past twice the bound
    const loose = []
    for (const c of came) {
      if (c.proven && now - c.since >= PROTECT_AFTER && protect > 0) {
        protect--
        continue
      }
      if (this._inflight.has(c.hex)) continue
      loose.push(c.hex)
      if (now - c.since < ARRIVAL) {
        young = Math.min(young, c.since)
        continue
      }
      // Oldest first: the last one seen is the newest
      settled = c
      // Nor one that just carried a request either way
      if (now - c.used >= ARRIVAL) open[c.proven ? 1 : 0].push(c.hex)
    }
    const some = open[0].length > 0 ? open[0] : open[1]
    let hex = null
    if (some.length > 0) hex = some[Math.floor(Math.random() * some.length)]
    else if (settled !== null) hex = settled.hex
    else if (live > 2 * this.maxConnections && came.length > 0) {
      hex =
        loose.length > 0
          ? loose[Math.floor(Math.random() * loose.length)]
          : came[came.length - 1].hex
    }
    if (hex !== null) this.onevict(hex)
    else if (young !== Infinity) this._evictLater(young + ARRIVAL - now)
    return hex
  }

  // Evicts until the bound holds or nobody may go
  evictAll() {
    for (let i = this._connections.size; i > 0 && this.evict() !== null; i--);
  }

  // Past the bound with only arrivals to choose from: looked at again once the first of them
  // may go, and not at the next maintenance only
  _evictLater(ms) {
    if (this._timer !== null || this.closed) return
    this._timer = setTimeout(() => {
      this._timer = null
      if (this.closed) return
      this.evictAll()
    }, ms + 1)
    this._timer.unref()
  }

  // No more evictions later; the connections are the owner's to close
  close() {
    this.closed = true
    clearTimeout(this._timer)
  }
}

function noop() {}

Bound.PROTECT_AFTER = PROTECT_AFTER

module.exports = Bound
