const ReadyResource = require('ready-resource')
const DHT = require('hyperdht')
const RPC = require('@hyperswarm/rpc')
const b4a = require('b4a')
const c = require('compact-encoding')
const crypto = require('hypercore-crypto')
const safetyCatch = require('safety-catch')

const AuctionError = require('./lib/errors')
const AuctionStore = require('./lib/store')
const PeerTable = require('./lib/peer-table')
const Transport = require('./lib/transport')
const Discovery = require('./lib/discovery')
const m = require('./lib/messages')
const core = require('./lib/auction-core')
const signing = require('./lib/signing')
const { parseAmount, formatAmount } = require('./lib/money')
const {
  PROTOCOL,
  MAX_NAME_BYTES,
  MAX_HELLO_PEERS,
  MAX_SYNC_HEADS,
  SYNC_PAGE_EVENTS,
  SYNC_PAGE_BYTES,
  MAX_PENDING_PER_AUTHOR,
  MAX_PENDING_AUTHORS,
  MAX_GREETINGS,
  MAX_TIMER
} = require('./lib/constants')

const DEFAULT_NETWORK = 'main'
const DEFAULT_CURRENCY = 'USDt'
const REQUEST_TIMEOUT = 3000
const BID_TIMEOUT = 5000
const PUSH_CONCURRENCY = 16
const SYNC_INTERVAL = 3000
const SYNC_MAX_PAGES = 64
const HELLO_BACKOFF = 1000
const HELLO_ATTEMPTS = 6
const HELLO_RETRIES_PER_TICK = 8
const BYE_TIMEOUT = 1000

const METHODS = {
  hello: PROTOCOL + '/hello',
  event: PROTOCOL + '/event',
  sync: PROTOCOL + '/sync',
  bid: PROTOCOL + '/bid',
  bye: PROTOCOL + '/bye',
  info: PROTOCOL + '/info',
  auctions: PROTOCOL + '/auctions',
  auction: PROTOCOL + '/auction'
}

class AuctionPeer extends ReadyResource {
  constructor(storage, opts = {}) {
    super()

    this.storage = storage
    this.network = opts.network || DEFAULT_NETWORK
    this.name = opts.name || ''
    this.keyPair = null
    this.dht = opts.dht || null
    this.store = new AuctionStore(storage, { corestore: opts.corestore })
    this.transport = null
    this.discovery = null
    this.peerTable = new PeerTable(opts.backoff)

    this.views = new Map()
    this.heads = new Map()

    this._autoDestroy = !opts.dht
    this._dhtOpts = {
      bootstrap: opts.bootstrap,
      host: opts.host,
      port: opts.port,
      firewalled: opts.firewalled
    }
    this._secret = opts.secret || null
    this._requestTimeout = opts.requestTimeout || REQUEST_TIMEOUT
    this._bidTimeout = opts.bidTimeout || BID_TIMEOUT
    this._syncInterval = opts.syncInterval || SYNC_INTERVAL
    this._lookupInterval = opts.lookupInterval
    this._faults = opts.faults || null
    this._pending = new Map()
    this._blocked = new Set()
    this._pulling = new Map()
    this._greeting = new Map()
    this._helloFailures = new Map()
    this._timers = new Map()
    this._syncTimer = null
  }

  get publicKey() {
    return this.keyPair && this.keyPair.publicKey
  }

  get id() {
    return this.keyPair && b4a.toString(this.keyPair.publicKey, 'hex')
  }

  async _open() {
    await this.store.ready()

    let seed = await this.store.getMeta('seed')
    if (seed === null) {
      seed = crypto.randomBytes(32)
      await this.store.putMeta('seed', seed)
    }
    this.keyPair = crypto.keyPair(seed)

    if (this.name) await this.store.putMeta('name', b4a.from(this.name.slice(0, MAX_NAME_BYTES)))
    else this.name = b4a.toString((await this.store.getMeta('name')) || b4a.alloc(0))

    this.heads = await this.store.loadHeads()
    this.views = await this.store.loadAuctions()

    if (this.dht === null) this.dht = new DHT({ keyPair: this.keyPair, ...this._dhtOpts })

    this.transport = new Transport(new RPC({ dht: this.dht, keyPair: this.keyPair }), {
      keyPair: this.keyPair,
      capability: this._secret && crypto.hash(b4a.from(this._secret)),
      requestTimeout: this._requestTimeout,
      onerror: (err) => this.emit('warning', err)
    })
    this.transport.respond(METHODS.hello, (req, remote) => this._onhello(req, remote))
    this.transport.respond(METHODS.event, (req, remote) => this._onevent(req, remote))
    this.transport.respond(METHODS.sync, (req) => this._onsync(req))
    this.transport.respond(METHODS.bid, (req, remote) => this._onbid(req, remote))
    this.transport.respond(METHODS.bye, (req, remote) => this._onbye(remote))
    this.transport.respond(METHODS.info, () => this._oninfo())
    this.transport.respond(METHODS.auctions, () => this._onauctions())
    this.transport.respond(METHODS.auction, (req) => this._onauction(req))
    await this.transport.listen()

    for (const view of this.views.values()) this._armTimer(view)

    for (const { publicKey } of await this.store.loadPeers()) this._discovered(publicKey)

    this.discovery = new Discovery(this.dht, signing.topic(this.network), this.keyPair, {
      onpeer: (publicKey) => this._discovered(publicKey),
      lookupInterval: this._lookupInterval
    })
    await this.discovery.ready()

    this._syncTimer = setInterval(() => this._antiEntropy(), this._syncInterval)
    this._syncTimer.unref()
  }

  async _close() {
    clearInterval(this._syncTimer)
    for (const timer of this._timers.values()) clearTimeout(timer)
    this._timers.clear()

    if (this.discovery !== null) {
      await Promise.allSettled([this.discovery.close(), this._sayBye()])
    }
    if (this.transport !== null) await this.transport.close()
    if (this._autoDestroy && this.dht !== null) await this.dht.destroy()
    await this.store.close()
  }

  async openAuction({ item, price, currency = DEFAULT_CURRENCY, duration, endsAt } = {}) {
    if (!this.opened) await this.ready()
    this._checkOpen()

    core.checkItem(item)
    const startPrice = parseAmount(price)
    core.checkCurrency(currency)
    const createdAt = Date.now()
    if (duration !== undefined && duration !== null) {
      if (!Number.isSafeInteger(duration) || duration <= 0) {
        throw AuctionError.INVALID_DURATION('Duration must be a positive number of milliseconds')
      }
      endsAt = createdAt + duration
    }
    core.checkEndsAt(endsAt || 0, createdAt)

    const { view, buf, flushed } = this._append(m.EVENT_OPENED, (seq) => ({
      id: signing.auctionId(this.publicKey, seq),
      item,
      startPrice,
      currency,
      endsAt: endsAt || 0,
      createdAt
    }))
    await flushed
    this._armTimer(view)
    this._broadcast(buf, null).catch(safetyCatch)
    return core.describeAuction(view)
  }

  async placeBid(auctionId, amount) {
    if (!this.opened) await this.ready()
    this._checkOpen()

    const id = parseId(auctionId)
    const units = parseAmount(amount)
    const view = this._getView(id)

    const bid = signing.signBid(
      {
        auction: id,
        bidder: this.publicKey,
        amount: units,
        nonce: signing.randomNonce(),
        createdAt: Date.now()
      },
      this.keyPair
    )

    // What this peer holds of the seller's log is a prefix of the seller's, so a bid it
    // finds too low or closed the seller would refuse too. Time is left to the seller's clock.
    core.checkBid(view, bid, 0)

    let reply
    try {
      reply = await this.transport.request(view.seller, METHODS.bid, m.encode(m.bid, bid), {
        timeout: this._bidTimeout
      })
    } catch (err) {
      if (err.code === 'REQUEST_TIMEOUT' || err.code === 'PEER_UNREACHABLE') {
        throw AuctionError.SELLER_UNREACHABLE(`The seller did not answer: ${err.message}`)
      }
      throw err
    }

    const evt = m.decode(m.event, reply, 'bid reply')
    const p = evt.payload
    const valid =
      evt.type === m.EVENT_BID_ACCEPTED &&
      b4a.equals(evt.author, view.seller) &&
      b4a.equals(p.bid.auction, id) &&
      b4a.equals(p.bid.bidder, this.publicKey) &&
      p.bid.amount === units
    if (!valid) throw AuctionError.INVALID_EVENT('The seller answered with another event')

    // The seller's write is the durable one; this peer's copy is flushed in the background
    // and every read of storage waits for it
    this._ingest(reply, view.seller).flushed.catch(safetyCatch)

    return {
      auction: b4a.toString(id, 'hex'),
      bidder: this.id,
      amount: formatAmount(units),
      position: p.position,
      acceptedAt: p.acceptedAt
    }
  }

  async closeAuction(auctionId) {
    if (!this.opened) await this.ready()
    this._checkOpen()

    const id = parseId(auctionId)

    // Reading the winning bid waits on storage; if a bid lands meanwhile, read again
    let view = null
    let winningBid = null
    while (view === null || this.views.get(b4a.toString(id, 'hex')) !== view) {
      view = this._getView(id)
      if (!b4a.equals(view.seller, this.publicKey)) {
        throw AuctionError.NOT_SELLER('Only the seller can close an auction')
      }
      if (view.closed) throw AuctionError.AUCTION_CLOSED('Auction is already closed')
      winningBid = view.highestBid === null ? null : await this._readOwnBid(view.highestBid.seq)
    }

    const closed = this._append(m.EVENT_CLOSED, () => ({
      auction: id,
      winningBid,
      bidCount: view.bidCount,
      closedAt: Date.now()
    }))
    await closed.flushed
    this._disarmTimer(b4a.toString(id, 'hex'))
    this._broadcast(closed.buf, null).catch(safetyCatch)
    return describeSale(closed.view)
  }

  async getAuction(auctionId) {
    if (!this.opened) await this.ready()
    const id = parseId(auctionId)
    const view = this._getView(id)
    await this.store.flushed()
    return core.describeAuction(view, await this.store.getBids(b4a.toString(id, 'hex')))
  }

  async listAuctions({ bids = false } = {}) {
    if (!this.opened) await this.ready()
    if (!bids) return [...this.views.values()].sort(byCreation).map((v) => core.describeAuction(v))
    await this.store.flushed()
    const out = []
    for (const view of [...this.views.values()].sort(byCreation)) {
      out.push(core.describeAuction(view, await this.store.getBids(b4a.toString(view.id, 'hex'))))
    }
    return out
  }

  peers() {
    return [...this.peerTable.peers.values()].map((info) => ({
      publicKey: info.hex,
      name: info.name,
      failures: info.failures,
      lastSeen: info.lastSeen
    }))
  }

  // Hash over the sorted (author, seq, event hash) set: equal digests, equal histories
  async digest() {
    if (!this.opened) await this.ready()
    await this.store.flushed()
    const hashes = []
    for await (const { key, value } of this.store.createEventStream()) {
      hashes.push(b4a.from(key), signing.eventHash(value))
    }
    return b4a.toString(crypto.hash(hashes.length ? hashes : [b4a.alloc(0)]), 'hex')
  }

  // Pulls from every known peer now, instead of waiting for anti-entropy
  async syncNow() {
    const peers = this.peerTable.available(Date.now())
    await Promise.allSettled(peers.map((info) => this._pull(info.publicKey)))
  }

  _checkOpen() {
    if (this.closing) throw AuctionError.PEER_CLOSED()
  }

  _getView(id) {
    const view = this.views.get(b4a.toString(id, 'hex'))
    if (!view) throw AuctionError.AUCTION_NOT_FOUND(`No auction ${b4a.toString(id, 'hex')}`)
    return view
  }

  async _readOwnBid(seq) {
    await this.store.flushed()
    const buf = await this.store.getEvent(this.id, seq)
    return m.decode(m.event, buf, 'stored event').payload.bid
  }

  // Creates, signs and applies one of this peer's own events
  _append(type, makePayload) {
    const seq = this.heads.get(this.id) || 0
    const evt = signing.signEvent(
      { type, author: this.publicKey, seq, payload: makePayload(seq) },
      this.keyPair
    )
    const buf = m.encode(m.event, evt)
    return { evt, buf, ...this._apply(evt, buf) }
  }

  // Takes an event from the network. Verified events are applied in their author's order;
  // one that runs ahead is held until the gap is pulled. Returns { status, flushed }.
  _ingest(buf, from) {
    return this._ingestEvent(m.decode(m.event, buf, 'event'), buf, from)
  }

  _ingestEvent(evt, buf, from) {
    const author = b4a.toString(evt.author, 'hex')

    const length = this.heads.get(author) || 0
    if (evt.seq < length) return { status: 'duplicate', flushed: Promise.resolve() }
    if (this._blocked.has(author)) {
      throw AuctionError.INVALID_EVENT('This author has published an invalid event')
    }

    checkSignatures(evt)

    if (evt.seq > length) {
      this._hold(author, evt, buf)
      if (from) this._pull(from).catch(safetyCatch)
      return { status: 'held', flushed: Promise.resolve() }
    }

    let last
    try {
      last = this._apply(evt, buf)
    } catch (err) {
      this._blocked.add(author)
      this._pending.delete(author)
      throw err
    }
    let flushed = last.flushed
    const held = this._pending.get(author)
    if (held) flushed = this._drain(author, held, flushed)
    return { status: 'applied', flushed }
  }

  // Bounded, since anyone can make keys: what is not held is pulled again later
  _hold(author, evt, buf) {
    let held = this._pending.get(author)
    if (!held) {
      if (this._pending.size >= MAX_PENDING_AUTHORS) return
      held = new Map()
      this._pending.set(author, held)
    }
    if (held.size < MAX_PENDING_PER_AUTHOR) held.set(evt.seq, { evt, buf })
  }

  _drain(author, held, flushed) {
    for (;;) {
      const seq = this.heads.get(author)
      for (const s of held.keys()) if (s < seq) held.delete(s)
      const next = held.get(seq)
      if (!next) break
      held.delete(seq)
      try {
        flushed = this._apply(next.evt, next.buf).flushed
      } catch (err) {
        safetyCatch(err)
        this._blocked.add(author)
        break
      }
    }
    if (held.size === 0 || this._blocked.has(author)) this._pending.delete(author)
    return flushed
  }

  // The one place state changes: pure rules, memory, then one grouped write.
  // Notifications are emitted once the write is flushed, in log order.
  _apply(evt, buf) {
    const author = b4a.toString(evt.author, 'hex')
    const p = evt.payload
    const id =
      evt.type === m.EVENT_OPENED
        ? p.id
        : evt.type === m.EVENT_BID_ACCEPTED
          ? p.bid.auction
          : p.auction
    const idHex = b4a.toString(id, 'hex')

    const next = core.applyEvent(this.views.get(idHex) || null, evt)

    this.views.set(idHex, next.view)
    this.heads.set(author, evt.seq + 1)

    const ops = [
      { key: AuctionStore.eventKey(author, evt.seq), value: buf },
      { key: AuctionStore.headKey(author), value: c.encode(c.uint, evt.seq + 1) },
      { key: AuctionStore.auctionKey(idHex), value: m.encode(m.auctionView, next.view) }
    ]
    if (next.bid !== null) {
      ops.push({
        key: AuctionStore.bidKey(idHex, next.bid.position),
        value: m.encode(m.bidAccepted, next.bid)
      })
    }

    const flushed = this.store.write(ops)
    flushed.then(() => this._notify(evt, next), noop)
    return { view: next.view, flushed }
  }

  _notify(evt, next) {
    const auction = core.describeAuction(next.view)
    if (evt.type === m.EVENT_OPENED) {
      this.emit('auction-opened', auction)
    } else if (evt.type === m.EVENT_BID_ACCEPTED) {
      const b = next.bid
      this.emit('bid-accepted', {
        auction,
        bid: {
          bidder: b4a.toString(b.bid.bidder, 'hex'),
          amount: formatAmount(b.bid.amount),
          position: b.position,
          acceptedAt: b.acceptedAt
        }
      })
    } else {
      this.emit('auction-closed', describeSale(next.view))
    }
  }

  _armTimer(view) {
    if (view.closed || view.endsAt === 0 || !b4a.equals(view.seller, this.publicKey)) return
    const idHex = b4a.toString(view.id, 'hex')
    this._disarmTimer(idHex)
    const delay = view.endsAt - Date.now()
    const timer = setTimeout(
      () => {
        this._timers.delete(idHex)
        if (this.closing) return
        if (Date.now() < view.endsAt) return this._armTimer(view)
        this.closeAuction(view.id).catch((err) => {
          if (err.code !== 'AUCTION_CLOSED') this.emit('warning', err)
        })
      },
      Math.max(0, Math.min(delay, MAX_TIMER))
    )
    timer.unref()
    this._timers.set(idHex, timer)
  }

  _disarmTimer(idHex) {
    const timer = this._timers.get(idHex)
    if (timer) clearTimeout(timer)
    this._timers.delete(idHex)
  }

  // Push: the author sends an event to every peer not backed off, a few at a time.
  // Failures are not retried here; anti-entropy pulls fill the gaps.
  async _broadcast(buf, except) {
    const peers = this.peerTable.available(Date.now()).filter((info) => info.hex !== except)
    const dropRate = (this._faults && this._faults.dropPush) || 0

    let next = 0
    const worker = async () => {
      while (next < peers.length && !this.closing) {
        const info = peers[next++]
        if (dropRate > 0 && Math.random() < dropRate) continue
        try {
          await this.transport.request(info.publicKey, METHODS.event, buf)
          this.peerTable.succeed(info.hex, Date.now())
        } catch (err) {
          this._onrequestError(info.hex, err)
        }
      }
    }
    const workers = []
    for (let i = 0; i < Math.min(PUSH_CONCURRENCY, peers.length); i++) workers.push(worker())
    await Promise.all(workers)
  }

  _onrequestError(hex, err) {
    // A coded answer means the peer is alive; only silence and lost connections count
    if (err.code !== 'REQUEST_TIMEOUT' && err.code !== 'PEER_UNREACHABLE') return
    if (!this.peerTable.fail(hex, Date.now())) return
    this._removePeer(hex)
  }

  _removePeer(hex) {
    const info = this.peerTable.remove(hex)
    if (info === null) return
    this.store.write([{ key: AuctionStore.peerKey(hex), value: null }]).catch(safetyCatch)
    this.emit('peer-remove', { publicKey: hex, name: info.name })
  }

  // Pull: ask a peer for everything beyond this peer's heads, page by page
  _pull(publicKey) {
    const hex = b4a.toString(publicKey, 'hex')
    let pulling = this._pulling.get(hex)
    if (pulling) {
      pulling.again = true
      return pulling.promise
    }
    pulling = { again: false, promise: null }
    pulling.promise = this._pullLoop(publicKey, hex, pulling).finally(() => {
      this._pulling.delete(hex)
    })
    this._pulling.set(hex, pulling)
    return pulling.promise
  }

  // Pages are pipelined: the next page is asked for, with the heads this page leads to,
  // before this one is verified and applied. An event that then fails is asked for again later.
  async _pullLoop(publicKey, hex, pulling) {
    let flushed = null
    const heads = new Map(this.heads)
    let next = this._requestPage(publicKey, heads)
    for (let page = 0; next !== null && !this.closing; page++) {
      pulling.again = false
      let res
      try {
        res = await next
        this.peerTable.succeed(hex, Date.now())
      } catch (err) {
        this._onrequestError(hex, err)
        break
      }

      const events = []
      for (const buf of res.events) {
        try {
          const evt = m.decode(m.event, buf, 'event')
          const author = b4a.toString(evt.author, 'hex')
          if (evt.seq === (heads.get(author) || 0)) heads.set(author, evt.seq + 1)
          events.push({ evt, buf })
        } catch (err) {
          this.emit('warning', err)
        }
      }

      const last = page + 1 >= SYNC_MAX_PAGES
      next = res.more && !last ? this._requestPage(publicKey, heads) : null
      if (next !== null) next.catch(noop)

      for (const { evt, buf } of events) {
        try {
          const r = this._ingestEvent(evt, buf, null)
          if (r.status !== 'duplicate') flushed = r.flushed
        } catch (err) {
          safetyCatch(err)
          this.emit('warning', err)
        }
      }

      // Someone saw a gap while this pull ran: one more page from the heads as they are now
      if (next === null && pulling.again && !last) {
        for (const [author, length] of this.heads) heads.set(author, length)
        next = this._requestPage(publicKey, heads)
      }
    }
    if (flushed !== null) await flushed
  }

  async _requestPage(publicKey, heads) {
    const list = []
    for (const [author, length] of heads) {
      if (list.length === MAX_SYNC_HEADS) break
      list.push({ author: b4a.from(author, 'hex'), length })
    }
    const reply = await this.transport.request(
      publicKey,
      METHODS.sync,
      m.encode(m.syncRequest, { heads: list })
    )
    return m.decode(m.syncResponse, reply, 'sync reply')
  }

  _antiEntropy() {
    if (this.closing) return
    const now = Date.now()
    const info = this.peerTable.random(now)
    if (info !== null) this._pull(info.publicKey).catch(safetyCatch)

    let retries = 0
    for (const failed of this._helloFailures.values()) {
      if (retries === HELLO_RETRIES_PER_TICK) break
      if (failed.retryAt > now) continue
      retries++
      this._discovered(failed.publicKey)
    }
  }

  // A key found by lookup, peer exchange or an incoming request: greet it once
  _discovered(publicKey) {
    const hex = b4a.toString(publicKey, 'hex')
    if (hex === this.id || this.peerTable.has(hex) || this._greeting.has(hex)) return
    // A peer could name thousands of dead keys; lookups and peer exchange bring skipped ones again
    if (this.closing || this._greeting.size >= MAX_GREETINGS) return
    const failed = this._helloFailures.get(hex)
    if (failed !== undefined && failed.retryAt > Date.now()) return

    const greeting = this._hello(publicKey, hex)
      .catch(safetyCatch)
      .finally(() => this._greeting.delete(hex))
    this._greeting.set(hex, greeting)
  }

  async _hello(publicKey, hex) {
    let res
    try {
      const reply = await this.transport.request(publicKey, METHODS.hello, this._encodeHello())
      res = m.decode(m.hello, reply, 'hello reply')
    } catch (err) {
      // Greetings fail under load too (a storm of new connections): retry soon, then back off,
      // then forget the key until discovery brings it again
      const failures = (this._helloFailures.get(hex) || { failures: 0 }).failures + 1
      if (failures >= HELLO_ATTEMPTS) this._helloFailures.delete(hex)
      else {
        const retryAt = Date.now() + HELLO_BACKOFF * 2 ** (failures - 1)
        this._helloFailures.set(hex, { publicKey, failures, retryAt })
      }
      return
    }
    this._helloFailures.delete(hex)
    this._meet(publicKey, res)
    await this._pull(publicKey)
  }

  _encodeHello() {
    const peers = this.peerTable.keys()
    shuffle(peers)
    return m.encode(m.hello, {
      name: this.name,
      peers: peers.slice(0, MAX_HELLO_PEERS)
    })
  }

  _meet(publicKey, hello) {
    const name = hello.name.slice(0, MAX_NAME_BYTES)
    const info = this.peerTable.add(publicKey, name, Date.now())
    if (info !== null) {
      this.store
        .write([{ key: AuctionStore.peerKey(info.hex), value: b4a.from(name) }])
        .catch(safetyCatch)
      this.emit('peer-add', { publicKey: info.hex, name: info.name })
    }
    for (const key of hello.peers.slice(0, MAX_HELLO_PEERS)) this._discovered(key)
  }

  _onhello(req, remote) {
    const hello = m.decode(m.hello, req, 'hello')
    if (hello.peers.length > MAX_HELLO_PEERS) throw AuctionError.BAD_REQUEST('Too many peers')
    const known = this.peerTable.has(b4a.toString(remote, 'hex'))
    this._meet(remote, hello)
    if (!known) this._pull(remote).catch(safetyCatch)
    return this._encodeHello()
  }

  async _onevent(req, remote) {
    this._discovered(remote)
    const { flushed } = this._ingest(req, remote)
    await flushed
  }

  async _onsync(req) {
    const { heads } = m.decode(m.syncRequest, req, 'sync request')
    if (heads.length > MAX_SYNC_HEADS) throw AuctionError.BAD_REQUEST('Too many heads')
    const theirs = new Map()
    for (const h of heads) theirs.set(b4a.toString(h.author, 'hex'), h.length)

    const events = []
    let bytes = 0
    let more = false
    for (const [author, length] of this.heads) {
      const from = theirs.get(author) || 0
      if (from >= length) continue
      if (events.length >= SYNC_PAGE_EVENTS || bytes >= SYNC_PAGE_BYTES) {
        more = true
        break
      }
      const got = await this.store.getEvents(
        author,
        from,
        SYNC_PAGE_EVENTS - events.length,
        SYNC_PAGE_BYTES - bytes
      )
      for (const buf of got) {
        events.push(buf)
        bytes += buf.byteLength
      }
      if (from + got.length < length) more = true
    }
    return m.encode(m.syncResponse, { events, more })
  }

  async _onbid(req, remote) {
    const bid = m.decode(m.bid, req, 'bid')
    if (!b4a.equals(bid.bidder, remote)) {
      throw AuctionError.BIDDER_MISMATCH('A bid must be sent by its own bidder')
    }
    if (!signing.verifyBid(bid)) throw AuctionError.INVALID_SIGNATURE('Bid signature is invalid')

    const view = this.views.get(b4a.toString(bid.auction, 'hex'))
    if (!view || !b4a.equals(view.seller, this.publicKey)) {
      throw AuctionError.AUCTION_NOT_FOUND('This peer sells no such auction')
    }

    // A retry of the bid that is already the highest gets its acceptance again
    const h = view.highestBid
    if (h !== null && b4a.equals(h.bidder, bid.bidder) && h.amount === bid.amount) {
      await this.store.flushed()
      return this.store.getEvent(this.id, h.seq)
    }

    core.checkBid(view, bid, Date.now())
    const accepted = this._append(m.EVENT_BID_ACCEPTED, () => ({
      bid,
      position: view.bidCount,
      acceptedAt: Date.now()
    }))
    await accepted.flushed
    this._broadcast(accepted.buf, b4a.toString(remote, 'hex')).catch(safetyCatch)
    return accepted.buf
  }

  _onbye(remote) {
    this._removePeer(b4a.toString(remote, 'hex'))
  }

  async _sayBye() {
    const peers = this.peerTable.available(Date.now())
    await Promise.allSettled(
      peers.map((info) =>
        this.transport.request(info.publicKey, METHODS.bye, b4a.alloc(0), { timeout: BYE_TIMEOUT })
      )
    )
  }

  _oninfo() {
    return c.encode(c.json, {
      publicKey: this.id,
      name: this.name,
      network: this.network,
      auctions: this.views.size,
      peers: this.peerTable.size
    })
  }

  _onauctions() {
    const list = [...this.views.values()].sort(byCreation).map((v) => core.describeAuction(v))
    return c.encode(c.json, list)
  }

  async _onauction(req) {
    let query
    try {
      query = c.decode(c.json, req)
    } catch {
      throw AuctionError.BAD_REQUEST('Expected JSON { "id": "<auction id hex>" }')
    }
    if (query === null || typeof query !== 'object') {
      throw AuctionError.BAD_REQUEST('Expected JSON { "id": "<auction id hex>" }')
    }
    return c.encode(c.json, await this.getAuction(query.id))
  }
}

AuctionPeer.METHODS = METHODS
AuctionPeer.AuctionError = AuctionError

function checkSignatures(evt) {
  if (!signing.verifyEvent(evt)) throw AuctionError.INVALID_SIGNATURE('Event signature is invalid')
  const p = evt.payload
  const bid =
    evt.type === m.EVENT_BID_ACCEPTED ? p.bid : evt.type === m.EVENT_CLOSED ? p.winningBid : null
  if (bid !== null && !signing.verifyBid(bid)) {
    throw AuctionError.INVALID_SIGNATURE('Bid signature inside the event is invalid')
  }
}

function parseId(id) {
  if (b4a.isBuffer(id) && id.byteLength === 16) return id
  if (typeof id !== 'string' || !/^[0-9a-f]{32}$/i.test(id)) {
    throw AuctionError.INVALID_ID('An auction id is 32 hex characters')
  }
  return b4a.from(id, 'hex')
}

function describeSale(view) {
  const auction = core.describeAuction(view)
  return {
    auction,
    winner: auction.winner,
    bidCount: view.bidCount,
    closedAt: view.closedAt
  }
}

function byCreation(a, b) {
  return a.createdAt - b.createdAt || b4a.compare(a.id, b.id)
}

function shuffle(list) {
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    const tmp = list[i]
    list[i] = list[j]
    list[j] = tmp
  }
}

function noop() {}

module.exports = AuctionPeer
