const ReadyResource = require('ready-resource')
const safetyCatch = require('safety-catch')

const LOOKUP_INTERVAL = 15 * 1000
const ANNOUNCE_INTERVAL = 5 * 60 * 1000
const UNANNOUNCE_TIMEOUT = 2000

// Announces this peer on the network's topic and reports every key found there.
// A lookup returns a bounded subset of peers; peer exchange in hello finds the rest.
class Discovery extends ReadyResource {
  constructor(dht, topic, keyPair, opts = {}) {
    super()
    this.dht = dht
    this.topic = topic
    this.keyPair = keyPair
    this.onpeer = opts.onpeer || noop
    // Periodic lookups only while the owner wants more peers: a lookup is dozens of DHT messages
    this.wanted = opts.wanted || (() => true)
    this.lookupInterval = opts.lookupInterval || LOOKUP_INTERVAL
    this.announceInterval = opts.announceInterval || ANNOUNCE_INTERVAL
    this._lookupTimer = null
    this._announceTimer = null
  }

  async _open() {
    // An announce is a lookup too: its replies carry the peers already on the topic
    await this._query(this.dht.announce(this.topic, this.keyPair))
    this._lookupTimer = setInterval(() => {
      if (this.wanted()) this.refresh()
    }, this.lookupInterval)
    this._announceTimer = setInterval(() => this._reannounce(), this.announceInterval)
    this._lookupTimer.unref()
    this._announceTimer.unref()
  }

  async _close() {
    clearInterval(this._lookupTimer)
    clearInterval(this._announceTimer)
    if (this.dht.destroyed) return
    let timer = null
    const timeout = new Promise((resolve) => {
      timer = setTimeout(resolve, UNANNOUNCE_TIMEOUT)
    })
    const unannounce = this.dht.unannounce(this.topic, this.keyPair).catch(safetyCatch)
    await Promise.race([unannounce, timeout])
    clearTimeout(timer)
  }

  // A DHT destroyed under the peer (its owner's, or a test's) throws on a new query
  refresh() {
    if (this.closing || this.dht.destroyed) return
    this._query(this.dht.lookup(this.topic)).catch(safetyCatch)
  }

  _reannounce() {
    if (this.closing || this.dht.destroyed) return
    this._query(this.dht.announce(this.topic, this.keyPair)).catch(safetyCatch)
  }

  async _query(query) {
    for await (const data of query) {
      if (this.closing) break
      for (const peer of data.peers) this.onpeer(peer.publicKey)
    }
  }
}

function noop() {}

module.exports = Discovery
