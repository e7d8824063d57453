const Corestore = require('corestore')
const b4a = require('b4a')
const AuctionPeer = require('../..')
const m = require('../../lib/messages')
const { MAX_NEWS } = require('../../lib/constants')
const { Author } = require('./events')
const { rawNode, emptyHello, RAW } = require('./index')

const METHODS = AuctionPeer.METHODS

// A hostile relay: a bare RPC node with a Corestore of its own (none of a peer's bounds) that
// holds logs of its making. It connects to a victim, answers its greetings and its directory
// requests with every log it holds, serves any of them on request, and names them in news.
class Relay {
  constructor(t, testnet) {
    this.t = t
    this.node = rawNode(t, testnet)
    this.store = null
    // { author, length } of every log it holds
    this.logs = []
    this.client = null
  }

  async ready() {
    this.store = new Corestore(await this.t.tmp(), { active: false })
    this.t.teardown(() => this.store.close(), { order: 1 })
  }

  // A log of the given blocks (buffers), signed by author (a new one by default)
  async add(blocks, author = new Author()) {
    const core = this.store.get({ keyPair: author.keyPair })
    await core.append(blocks)
    this.logs.push({ author: author.publicKey, length: core.length })
    await core.close()
    return author
  }

  // n logs of one opening each
  async junk(n) {
    for (let i = 0; i < n; i++) {
      const author = new Author()
      await this.add([Author.block(author.open('Junk#' + i, '1'))])
    }
  }

  async connect(victim) {
    const client = this.node.rpc.connect(victim.publicKey)
    this.client = client
    this.t.teardown(() => client.destroy(), { order: 0 })
    const hello = emptyHello('relay')
    client.rpc.respond(METHODS.hello, RAW, () => hello)
    client.rpc.respond(METHODS.logs, RAW, (req) => this._page(req))
    this.store.replicate(client.stream)
    await client.request(METHODS.hello, hello, RAW)
  }

  // News of these logs (all it holds), MAX_NEWS to a message, one way as a peer sends it
  name(list = this.logs) {
    // Closed at teardown (or by the victim): a timer may still call
    if (this.client.closed) return
    for (let i = 0; i < list.length; i += MAX_NEWS) {
      const logs = list.slice(i, i + MAX_NEWS).map(entry)
      this.client.event(METHODS.news, m.encode(m.news, { logs }), RAW)
    }
  }

  _page(req) {
    const { after } = m.decode(m.logsRequest, req)
    const from = after === null ? 0 : this.logs.findIndex((l) => b4a.equals(l.author, after)) + 1
    const logs = this.logs.slice(from, from + 1024).map(entry)
    return m.encode(m.logsResponse, { logs, more: from + 1024 < this.logs.length })
  }
}

function entry({ author, length }) {
  return { author, length, tree: null, disputed: false }
}

async function createRelay(t, testnet) {
  const relay = new Relay(t, testnet)
  await relay.ready()
  return relay
}

module.exports = { createRelay }
