const b4a = require('b4a')
const safetyCatch = require('safety-catch')
const AuctionError = require('./errors')
const m = require('./messages')
const { METHODS } = require('./rpc')
const { LOGS_PAGE } = require('./constants')

const LOGS_PAGES = 64
// News can be lost (it goes one way, unanswered: a connection that drops it, a peer whose
// connection was still opening): this often a peer reads the logs directory of one connected
// peer at random and fetches what it lacks
const SYNC_INTERVAL = 20000

// The logs directory: the logs a peer holds and how far, read in pages. It is how a late joiner
// finds sellers that are offline or not met, and how news that was lost is made up for.
class Directory {
  constructor(opts) {
    this.net = opts.net
    this.id = opts.id
    this.log = opts.log
    this.view = opts.view
    this.logs = opts.logs
    this.forks = opts.forks
    this.isClosing = opts.isClosing
    // Peers whose directory was read since they were met
    this._read = new Set()
    this._syncTimer = null
    this._syncing = false
  }

  start() {
    this._syncTimer = setInterval(() => this.sync(), SYNC_INTERVAL)
    this._syncTimer.unref()
  }

  close() {
    clearInterval(this._syncTimer)
  }

  // Reads a peer's directory once; one not read to the end is read again at the next greeting
  readOnce(publicKey) {
    const hex = b4a.toString(publicKey, 'hex')
    if (this._read.has(hex)) return
    this._read.add(hex)
    this.read(publicKey).catch((err) => {
      safetyCatch(err)
      this._read.delete(hex)
    })
  }

  // Reads a peer's directory and follows what it holds further than this peer
  async read(publicKey) {
    let after = null
    for (let page = 0; page < LOGS_PAGES && !this.isClosing(); page++) {
      const reply = await this.net.request(
        publicKey,
        METHODS.logs,
        m.encode(m.logsRequest, { after })
      )
      const res = m.decode(m.logsResponse, reply, 'logs reply')
      if (res.logs.length > LOGS_PAGE) throw AuctionError.BAD_REQUEST('Too many logs in one page')
      for (const { author, length, tree, disputed } of res.logs) {
        this.forks.heard(author, length, tree, disputed, publicKey)
        if (length === 0 || disputed) continue
        await this.logs.probationSlot()
        this.logs.follow(author, null, publicKey, length)
        // A log followed but behind what this peer holds: fetch it from this peer too
        const follower = this.logs.get(b4a.toString(author, 'hex'))
        if (follower && follower.opened && follower.held < length) {
          for (const mux of this.net.muxers(b4a.toString(publicKey, 'hex'))) follower.attach(mux)
        }
      }
      if (!res.more || res.logs.length === 0) break
      after = res.logs[res.logs.length - 1].author
    }
  }

  // One page of this peer's directory, after an author key (or from the start)
  async page(after, limit) {
    const rows = await this.view.listLogs({
      after: after === null ? null : b4a.toString(after, 'hex'),
      limit
    })
    const logs = []
    for (const row of rows) {
      const length = row.author === this.id ? this.log.core.length : this.logs.held(row.author)
      // A disputed log is listed for its proof, held or not
      const entry = this.forks.entry(row.author, length)
      if (length > 0 || entry.disputed) {
        logs.push({ author: b4a.from(row.author, 'hex'), length, ...entry })
      }
    }
    return { logs, more: rows.length === limit }
  }

  // Reads the directory of one connected peer at random
  sync() {
    if (this.isClosing() || this._syncing) return
    const keys = this.net.connectedKeys()
    if (keys.length === 0) return
    const hex = keys[Math.floor(Math.random() * keys.length)]
    this._syncing = true
    this.read(b4a.from(hex, 'hex'))
      .catch(safetyCatch)
      .finally(() => {
        this._syncing = false
      })
  }
}

module.exports = Directory
