const b4a = require('b4a')

const BACKOFF_MIN = 1000
const BACKOFF_MAX = 60 * 1000
const DROP_AFTER_FAILURES = 5
const MAX_SIZE = 128

// Known peers with their failure backoff. A peer that keeps failing is dropped;
// discovery may bring it back later. Bounded: a full table makes room by forgetting the peer
// seen longest ago among those evictable(hex) allows, unproven ones first. A peer is proven once
// it answered a greeting of this peer's in time.
class PeerTable {
  constructor(opts = {}) {
    this.peers = new Map()
    this.maxSize = opts.maxSize || MAX_SIZE
    this.evictable = opts.evictable || (() => true)
    this.onevict = opts.onevict || (() => {})
    this.backoffMin = opts.backoffMin || BACKOFF_MIN
    this.backoffMax = opts.backoffMax || BACKOFF_MAX
    this.dropAfter = opts.dropAfter || DROP_AFTER_FAILURES
  }

  get size() {
    return this.peers.size
  }

  // The known peers as the public API shows them
  list() {
    return [...this.peers.values()].map((info) => ({
      publicKey: info.hex,
      name: info.name,
      failures: info.failures,
      lastSeen: info.lastSeen
    }))
  }

  has(hex) {
    return this.peers.has(hex)
  }

  get(hex) {
    return this.peers.get(hex) || null
  }

  // Returns the new entry, or null if the peer was known (its name is refreshed)
  add(publicKey, name, now) {
    const hex = b4a.toString(publicKey, 'hex')
    const known = this.peers.get(hex)
    if (known) {
      if (name) known.name = name
      return null
    }
    if (this.peers.size >= this.maxSize && !this._makeRoom()) return null
    const info = {
      publicKey,
      hex,
      name: name || '',
      failures: 0,
      retryAt: 0,
      lastSeen: now,
      droppedAt: 0,
      proven: false
    }
    this.peers.set(hex, info)
    return info
  }

  _makeRoom() {
    let victim = null
    for (const info of this.peers.values()) {
      if (!this.evictable(info.hex)) continue
      if (
        victim === null ||
        victim.proven > info.proven ||
        (victim.proven === info.proven && info.lastSeen < victim.lastSeen)
      ) {
        victim = info
      }
    }
    if (victim === null) return false
    this.peers.delete(victim.hex)
    this.onevict(victim)
    return true
  }

  remove(hex) {
    const info = this.peers.get(hex) || null
    this.peers.delete(hex)
    return info
  }

  // Peers not backed off at time now
  available(now) {
    const out = []
    for (const info of this.peers.values()) if (info.retryAt <= now) out.push(info)
    return out
  }

  random(now) {
    const list = this.available(now)
    return list.length === 0 ? null : list[Math.floor(Math.random() * list.length)]
  }

  succeed(hex, now) {
    const info = this.peers.get(hex)
    if (!info) return
    info.failures = 0
    info.retryAt = 0
    info.lastSeen = now
    info.proven = true
  }

  // Returns true when the peer failed often enough in a row to be dropped
  fail(hex, now) {
    const info = this.peers.get(hex)
    if (!info) return false
    info.failures++
    const backoff = Math.min(this.backoffMax, this.backoffMin * 2 ** (info.failures - 1))
    info.retryAt = now + backoff
    return info.failures >= this.dropAfter
  }

  // Keys that answered a greeting in time: the only ones worth passing on to other peers
  provenKeys() {
    return [...this.peers.values()].filter((info) => info.proven).map((info) => info.publicKey)
  }
}

module.exports = PeerTable
