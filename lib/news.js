const b4a = require('b4a')
const m = require('./messages')
const { remoteDownloading, peerKey } = require('./compat')
const { METHODS } = require('./rpc')
const { MAX_NEWS } = require('./constants')

// News of new log lengths waits this long to go out together
const NEWS_DELAY = 2
const NEWS_INTERVAL = 250
const MAX_NEWS_TIMES = 4096
// Senders of news a log is fetched from at once
const NEWS_SOURCES = 2

// News: a one-way notice (author, length) to the connected peers that Hypercore would not tell
// of a log's new blocks by itself, and what this peer does with the news it hears.
class News {
  constructor(opts) {
    this.net = opts.net
    this.id = opts.id
    this.log = opts.log
    this.logs = opts.logs
    // onown(length): a peer holds the own log this far
    this.onown = opts.onown
    this.isClosing = opts.isClosing
    // forks: what this peer says with a log (its tree hash, disputed or not)
    this.forks = opts.forks
    this._news = new Map()
    // Logs found disputed here, told to every peer once
    this._disputes = new Set()
    this._newsAt = new Map()
    this._timer = null
    this._due = 0
  }

  close() {
    clearTimeout(this._timer)
  }

  // Tells the connected peers how long the own log is now (also a test hook: news that no
  // append caused)
  announce() {
    this.spread(this.id, this.log.core.length)
  }

  // News of a log that grew, to the connected peers Hypercore would not tell by itself: those
  // that do not replicate that log with this peer right now. Gathered for NEWS_DELAY ms.
  spread(hex, length) {
    if (this.isClosing()) return
    if ((this._news.get(hex) || 0) < length) this._news.set(hex, length)
    // The own log's news does not wait behind a remote log's interval
    if (this._timer !== null && hex === this.id && this._due > Date.now() + NEWS_DELAY) {
      clearTimeout(this._timer)
      this._timer = null
    }
    if (this._timer === null) this._schedule(NEWS_DELAY)
  }

  // The author of a log signed two histories: every connected peer hears of it, also those that
  // replicate the log with this one (Hypercore does not tell them)
  dispute(hex) {
    if (this.isClosing()) return
    this._disputes.add(hex)
    if (this._timer === null) this._schedule(NEWS_DELAY)
  }

  _schedule(ms) {
    this._due = Date.now() + ms
    this._timer = setTimeout(() => this._flush(), ms)
  }

  _flush() {
    this._timer = null
    if (this.isClosing()) return
    // A remote log's news goes out at most every NEWS_INTERVAL: peers that fetch it from this
    // one are told of later blocks by Hypercore itself; the news is for those that do not yet
    const now = Date.now()
    const news = new Map()
    let wait = Infinity
    for (const [hex, length] of this._news) {
      const last = hex === this.id ? 0 : this._newsAt.get(hex) || 0
      if (now - last >= NEWS_INTERVAL) {
        news.set(hex, length)
        if (hex !== this.id) this._newsAt.set(hex, now)
        this._news.delete(hex)
      } else {
        wait = Math.min(wait, last + NEWS_INTERVAL - now)
      }
    }
    if (wait !== Infinity) this._schedule(wait)
    if (this._newsAt.size > MAX_NEWS_TIMES) this._newsAt.clear()
    const disputes = [...this._disputes]
    this._disputes.clear()
    // Each log's entry (with its tree hash) is made once, whoever it goes to
    const entries = new Map()
    const entry = (hex, length) => {
      let e = entries.get(hex)
      if (e === undefined) {
        e = { author: b4a.from(hex, 'hex'), length, ...this.forks.entry(hex, length) }
        entries.set(hex, e)
      }
      return e
    }
    // News goes to every connected peer that does not know yet: a flood, which crosses each
    // connection about once (whoever hears first tells the other, who then does not tell back)
    // and so costs about half the connections per peer, and reaches every peer the mesh
    // reaches. A random subset of connections cost nearly as much and missed a few peers per
    // event at N = 1,000: those whose neighbours all had many connections.
    for (const peerHex of this.net.connectedKeys()) {
      // Not to keys that have not answered a greeting in time: a Sybil holding a connection
      // gets nothing, and no news marks its connection used and keeps it from being evicted
      if (!this.net.proven(peerHex)) continue
      const logs = []
      for (const [hex, length] of news) {
        // An author knows its own log
        if (hex === peerHex) continue
        // Hypercore tells the peers that replicate the log with this one of each new block.
        // Any other may hold the log closed, or only serve it: it is told.
        const follower = hex === this.id ? null : this.logs.get(hex)
        const core = hex === this.id ? this.log.core : follower && follower.core
        if (core && core.opened && replicatesWith(core, peerHex)) continue
        if (follower && follower.heardFrom(peerHex) >= length) continue
        logs.push(entry(hex, length))
      }
      for (const hex of disputes) {
        if (hex !== peerHex && !news.has(hex)) logs.push(entry(hex, this.logs.held(hex)))
      }
      for (let i = 0; i < logs.length; i += MAX_NEWS) {
        const req = m.encode(m.news, { logs: logs.slice(i, i + MAX_NEWS) })
        // One way, on an open connection only: a peer still connecting gets the next news, or
        // the block from Hypercore, or the sync
        this.net.notify(peerHex, METHODS.news, req)
      }
    }
  }

  // News from a connected peer: it holds these logs this far. A log this peer does not follow
  // yet is followed (on probation); one it holds less of is fetched from that peer, among others.
  onnews(remote, logs, stream) {
    const remoteHex = b4a.toString(remote, 'hex')
    for (const { author, length, tree, disputed } of logs) {
      const hex = b4a.toString(author, 'hex')
      this.forks.heard(author, length, tree, disputed, remote)
      if (length === 0 || disputed) continue
      if (hex === this.id) {
        this.onown(length)
        continue
      }
      let follower = this.logs.get(hex)
      if (!follower) {
        this.logs.follow(author, null, remote, length)
        follower = this.logs.get(hex)
        if (!follower) continue
      }
      follower.hear(remoteHex, length)
      if (!stream.userData) continue
      // Fetched from a few of the peers that tell of it, not from all: each is a channel
      if (follower.length < length && follower.attached < NEWS_SOURCES) {
        follower.attach(stream.userData)
      } else if (follower.stranded(length)) {
        // Nobody to fetch the next block from: the length came from a connection that closed
        // before the block did, and the peers asked then refused, not holding the log yet, or
        // lack the block too
        follower.attach(stream.userData)
      }
    }
  }
}

// Hypercore tells a peer of new blocks by itself while the core replicates with it
function replicatesWith(core, hex) {
  for (const peer of core.peers) {
    // A peer that only serves the log (its copy opened by Corestore on request, no follower
    // reading it) is told as any other
    if (!remoteDownloading(peer)) continue
    const key = peerKey(peer)
    if (key && b4a.toString(key, 'hex') === hex) return true
  }
  return false
}

module.exports = News
