const b4a = require('b4a')
const AuctionError = require('./errors')
const View = require('./view')

// The read-only methods anyone connected may call (auctions, auction, info) answer with bytes
// built from the view: a small request can ask for a large answer. Each answer is at most
// MAX_REPLY bytes, a page of auctions is built a few at a time and cut where it fits (its cursor
// then names the last auction in it), pages are served again from a cache while the view has
// not changed, at most MAX_BUILDS pages are built at once, and all keys together may take
// READ_RATE bytes a second past a burst: beyond any of these they get BUSY. Bids, payments and
// the peers' own methods are not counted.
const MAX_REPLY = 64 * 1024
const READ_RATE = 1024 * 1024
const READ_BURST = 1024 * 1024
const MAX_BUILDS = 2
// Auctions described at a time while a page is built
const CHUNK = 10
// The page's bytes besides its auctions: '{"auctions":[],"cursor":""}' (27) and the longest
// cursor (16 digits, '/', 32 hex)
const WRAPPER = 27 + 49
const CACHED_PAGES = 64

class Reads {
  // auctions({ limit, cursor, page: true }) -> { auctions, cursor }; changes() -> a number that
  // moves whenever the view does
  constructor({ auctions, changes, rate = READ_RATE, burst = READ_BURST }) {
    this._auctions = auctions
    this._changes = changes
    this.rate = rate
    this.burst = burst
    this._tokens = burst
    this._filled = Date.now()
    this._pages = new Map()
    this._changesSeen = -1
    this._building = 0
  }

  // Takes the room of a full answer from the budget the keys share, or throws BUSY: what
  // spend() does not use is given back. Taken before the work, so that many requests at once
  // cannot all start.
  check() {
    const now = Date.now()
    this._tokens = Math.min(this.burst, this._tokens + ((now - this._filled) * this.rate) / 1000)
    this._filled = now
    if (this._tokens < MAX_REPLY) throw busy()
    this._tokens -= MAX_REPLY
  }

  // The read-only answer of these bytes goes out after a check(): counted, and never more than
  // MAX_REPLY
  spend(bytes) {
    this._tokens += MAX_REPLY - bytes.byteLength
    if (bytes.byteLength > MAX_REPLY) {
      throw AuctionError.INTERNAL(`A read-only answer of ${bytes.byteLength} bytes`)
    }
    return bytes
  }

  // A check() whose answer does not go out
  refund() {
    this._tokens += MAX_REPLY
  }

  // One page of auctions as JSON bytes { auctions, cursor }: at most limit, and cut where the
  // next auction would not fit in MAX_REPLY
  async page(limit, cursor) {
    const key = limit + '/' + cursor
    const changes = this._changes()
    if (changes !== this._changesSeen) {
      this._pages.clear()
      this._changesSeen = changes
    }
    let bytes = this._pages.get(key)
    if (bytes !== undefined) {
      this.check()
      return this.spend(bytes)
    }
    if (this._building >= MAX_BUILDS) throw busy()
    this.check()
    this._building++
    try {
      bytes = await this._build(limit, cursor)
    } catch (err) {
      this.refund()
      throw err
    } finally {
      this._building--
    }
    // Cached only if the view did not change while it was built, and only an answer that may go
    if (this._changes() === changes && bytes.byteLength <= MAX_REPLY) {
      this._pages.set(key, bytes)
      if (this._pages.size > CACHED_PAGES) this._pages.delete(this._pages.keys().next().value)
    }
    return this.spend(bytes)
  }

  async _build(limit, cursor) {
    const parts = []
    let size = WRAPPER
    let next = cursor
    while (parts.length < limit) {
      const chunk = await this._auctions({
        limit: Math.min(CHUNK, limit - parts.length),
        cursor: next,
        page: true
      })
      for (const auction of chunk.auctions) {
        const json = JSON.stringify(auction)
        // Bytes, not characters: an item may be in any script
        size += b4a.byteLength(json) + 1
        if (size > MAX_REPLY) return finish(parts, next)
        parts.push(json)
        next = View.cursor(auction.createdAt, auction.id)
      }
      if (chunk.cursor === null) return finish(parts, null)
      next = chunk.cursor
    }
    return finish(parts, next)
  }
}

function busy() {
  return AuctionError.BUSY('Read-only requests take more than this peer serves: try later')
}

function finish(parts, cursor) {
  return b4a.from(`{"auctions":[${parts.join(',')}],"cursor":${JSON.stringify(cursor)}}`)
}

Reads.MAX_REPLY = MAX_REPLY

module.exports = Reads
