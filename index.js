const ReadyResource = require('ready-resource')
const Corestore = require('corestore')
const CoreStorage = require('hypercore-storage')
const Rache = require('rache')
const DHT = require('hyperdht')
const b4a = require('b4a')
const c = require('compact-encoding')
const safetyCatch = require('safety-catch')

const AuctionError = require('./lib/errors')
const View = require('./lib/view')
const OwnLog = require('./lib/log')
const Follower = require('./lib/follower')
const Sequencer = require('./lib/sequencer')
const EndTimers = require('./lib/timers')
const Network = require('./lib/network')
const { METHODS, respond } = require('./lib/rpc')
const m = require('./lib/messages')
const rules = require('./lib/rules')
const crypto = require('./lib/crypto')
const { parseAmount, formatAmount } = require('./lib/money')
const {
  STORAGE_VERSION,
  MAX_NAME_BYTES,
  MAX_HELLO_PEERS,
  MAX_NEWS,
  MAX_LOGS,
  MAX_OPEN_AUCTIONS,
  LOGS_PAGE
} = require('./lib/constants')

const DEFAULT_NETWORK = 'main'
// Storage of this version is read by rebuilding its view from the logs
const REBUILT_VERSION = 2
const DEFAULT_CURRENCY = 'USDt'
const BID_TIMEOUT = 5000
// A bid whose connection was lost before the answer is sent again on a new one, after 100 ms,
// then twice as long each time up to a second, while its time lasts
const BID_RETRY_WAIT = 100
const MAX_BID_RETRY_WAIT = 1000
// A bid is sent again only with at least this long left of its time
const MIN_BID_TIME = 500
// How long before its end an auction this peer takes part in is "ending soon"
const ENDING_SOON = 60 * 1000
// Auctions watched for that at once
const MAX_ENDING_SOON = 4096
const BYE_TIMEOUT = 1000
// A payment claim waits for the seller to see enough confirmations
const PAY_TIMEOUT = 120000
const CONFIRM_TIMEOUT = 90000
// News of new log lengths waits this long to go out together
const NEWS_DELAY = 2
const NEWS_INTERVAL = 250
const MAX_NEWS_TIMES = 4096
// Senders of news a log is fetched from at once
const NEWS_SOURCES = 2
// How long the first append after a start waits for known peers to say how much of the own
// log they hold, and for a lost tail to come back
const RECOVERY_TIMEOUT = 5000
const LOGS_PAGES = 64
const CACHE_ENTRIES = 16384
const WRITE_BUFFER = 4 * 1024 * 1024
const START_GREETING_TIMEOUT = 2000
// A remote log with no news this long is closed (an open log costs ~40 KiB); checked this often
const IDLE_LOG = 30000
const SWEEP_INTERVAL = 5000
// News can be lost (it goes one way, unanswered: a connection that drops it, a peer whose
// connection was still opening): this often a peer reads the logs directory of one connected
// peer at random and fetches what it lacks
const SYNC_INTERVAL = 20000
// Connections besides the author's on which a followed log is replicated
const RELAYS = 2
// Named logs not yet shown to hold anything: how many at once, for how long
const MAX_PROBATION = 256
const PROBATION = 15000

class AuctionPeer extends ReadyResource {
  constructor(storage, opts = {}) {
    super()

    this.storage = storage
    this.network = opts.network || DEFAULT_NETWORK
    this.name = opts.name || ''
    this.keyPair = null
    this.dht = opts.dht || null
    // Hyperbee and Hypercore cache decoded nodes in one cache per store: 65,536 entries by
    // default, about 1.5 KiB each, which is more than a peer of many logs can spare.
    // Not active: Corestore would replicate every log on every connection, and every peer would
    // tell every other of each new block; each log is attached where it is needed instead.
    // RocksDB's memtable is WRITE_BUFFER rather than Hypercore's 64 MiB: a peer writes little,
    // and the write-ahead log is preallocated at that size on disk, per peer
    this.store =
      opts.corestore ||
      new Corestore(new CoreStorage(storage, { writeBufferSize: WRITE_BUFFER }), {
        globalCache: new Rache({ maxSize: CACHE_ENTRIES }),
        active: false
      })
    this.view = null
    this.log = null
    this.net = null
    this.sequencer = null
    this.timers = new EndTimers((idHex) => this._onend(idHex))
    // Auctions this peer sells or bid on, until they are about to end
    this._endingSoon = new EndTimers((idHex) => {
      this._onendingsoon(idHex).catch((err) => this.emit('warning', err))
    })
    this._endingSoonLead = opts.endingSoon || ENDING_SOON

    this._autoDestroy = !opts.dht
    this._autoCloseStore = !opts.corestore
    this._dhtOpts = {
      bootstrap: opts.bootstrap,
      host: opts.host,
      port: opts.port,
      firewalled: opts.firewalled
    }
    this._secret = opts.secret || null
    this._requestTimeout = opts.requestTimeout
    this._bidTimeout = opts.bidTimeout || BID_TIMEOUT
    this._probationTime = opts.probation || PROBATION
    this._maintainInterval = opts.maintainInterval
    this._lookupInterval = opts.lookupInterval
    this._backoff = opts.backoff
    this._maxConnections = opts.maxConnections
    // This peer's own EVM endpoint: the seller verifies payments there, the built-in wallet pays
    this._chainRpc = opts.chainRpc || null
    this._claiming = new Set()
    // Own auctions with a payment claim being verified
    this._paying = new Set()
    this._dues = new EndTimers((idHex) => this._ondue(idHex))
    this._logEventRate = opts.logEventRate
    this._logEventBurst = opts.logEventBurst
    this._instance = crypto.randomNonce()
    this._instances = new Map()
    this._followers = new Map()
    // Remote logs held but closed while they have no news: { applied, open, length } by author
    this._dormant = new Map()
    this._idleLog = opts.idleLog || IDLE_LOG
    this._sweepTimer = null
    this._syncTimer = null
    this._syncing = false
    this._disputed = new Set()
    this._probation = new Map()
    this._slotWaiters = []
    // Logs that broke a rule: never followed again, whoever names them
    this._invalid = new Set()
    this._news = new Map()
    this._newsAt = new Map()
    this._newsTimer = null
    this._newsDue = 0
    this._paged = new Set()
    this._yours = 0
    this._recovery = null
    this._recovering = null
    this._tail = null
    this._tailError = null
  }

  get publicKey() {
    return this.keyPair && this.keyPair.publicKey
  }

  get id() {
    return this.keyPair && b4a.toString(this.keyPair.publicKey, 'hex')
  }

  async _open() {
    try {
      await this._openParts()
    } catch (err) {
      // ReadyResource does not close what a failed open left: the DHT would keep the process up
      await this._close().catch(safetyCatch)
      throw err
    }
  }

  async _openParts() {
    try {
      await this.store.ready()
    } catch (err) {
      // A new identity would silently split this peer from its own history
      throw AuctionError.STORAGE_UNREADABLE(`${this.storage}: ${err.message}`)
    }
    await checkNotVersion01(this.store)

    this.view = new View(this.store.get({ name: 'hyperauction/view' }))
    this.view.on('error', (err) => this.emit('warning', err))
    await this.view.ready()
    const version = await this.view.getMeta('version')
    if (version === null) {
      if (this.view.length > 0) throw AuctionError.STORAGE_VERSION('The view has no version')
      this.view.stageMeta('version', c.encode(c.uint, STORAGE_VERSION))
    } else if (c.decode(c.uint, version) === REBUILT_VERSION) {
      // 0.2.0 stored auctions without terms: the view is derived, so it is derived again
      await this.view.rebuild()
      this.view.stageMeta('version', c.encode(c.uint, STORAGE_VERSION))
    } else if (c.decode(c.uint, version) !== STORAGE_VERSION) {
      throw AuctionError.STORAGE_VERSION(
        `Storage version ${c.decode(c.uint, version)} is not ${STORAGE_VERSION}`
      )
    }

    this.keyPair = await this.store.createKeyPair('hyperauction/identity')

    if (this.name) this.view.stageMeta('name', b4a.from(this.name.slice(0, MAX_NAME_BYTES)))
    else this.name = b4a.toString((await this.view.getMeta('name')) || b4a.alloc(0))
    await this.view.flush()

    this.log = new OwnLog(this.store, this.keyPair)
    await this.log.ready()
    // Another copy of this peer's storage signed a second history: this log can take no more
    this.log.core.on('conflict', (length) => {
      this._disputed.add(this.id)
      this.view.stageLog(this.id, {
        applied: this.log.core.length,
        disputed: true,
        invalid: false,
        open: this.sequencer.openAuctions
      })
      this.view.scheduleFlush()
      this.emit('dispute', { seller: this.id, length })
    })
    this.log.on('tail', () => this._ontail())
    this.sequencer = new Sequencer({
      log: this.log,
      view: this.view,
      publicKey: this.publicKey,
      onappended: (evt, idHex, current, next, place) => {
        this._stage(evt, idHex, current, next, place.index, true)
        this.view.stageLog(this.id, {
          applied: place.index + 1,
          disputed: false,
          invalid: false,
          open: this.sequencer.openAuctions
        })
        this.view.scheduleFlush()
        this._notify(evt, current, next)
        this._spread(this.id, place.index + 1)
      }
    })

    // Blocks of the own log that the view has not applied (a view lost or behind)
    const own = await this.view.getLog(this.id)
    const applied = own === null ? 0 : own.applied
    if (own !== null && own.disputed) this._disputed.add(this.id)
    this.sequencer.openAuctions = own === null ? 0 : own.open
    await this._applyOwnBlocks(applied)

    for (const { id, dueAt } of await this.view.listDues()) this._dues.arm(id, dueAt)
    for (const { id, endsAt } of await this.view.listTimers()) {
      this.timers.arm(id, endsAt)
      this._involved(id, { endsAt, closed: false })
    }

    // Remote logs start closed: news, a greeting or a peer's directory opens those that grew
    for (const row of await this.view.listLogs()) {
      if (row.author === this.id) continue
      if (row.disputed) this._disputed.add(row.author)
      if (row.invalid) this._invalid.add(row.author)
      if (row.disputed || row.invalid) continue
      this._dormant.set(row.author, { applied: row.applied, open: row.open, length: row.applied })
    }

    if (this.dht === null) this.dht = new DHT({ keyPair: this.keyPair, ...this._dhtOpts })
    this.net = new Network({
      dht: this.dht,
      keyPair: this.keyPair,
      store: this.store,
      topic: crypto.topic(this.network),
      capability: this._secret && crypto.hash(b4a.from(this._secret)),
      requestTimeout: this._requestTimeout,
      maintainInterval: this._maintainInterval,
      lookupInterval: this._lookupInterval,
      backoff: this._backoff,
      maxConnections: this._maxConnections,
      greet: (publicKey) => this._greet(publicKey),
      ondrop: (hex) => this._removePeer(hex),
      onreplicate: (hex, mux) => this._onreplicate(hex, mux),
      ondisconnect: (hex) => this._ondisconnect(hex),
      onerror: (err) => this.emit('warning', err)
    })
    respond(this.net, this)
    await this.net.ready()
    this._sweepTimer = setInterval(() => this._sweep(), Math.min(SWEEP_INTERVAL, this._idleLog))
    this._sweepTimer.unref()
    this._syncTimer = setInterval(() => this._sync(), SYNC_INTERVAL)
    this._syncTimer.unref()

    const saved = (await this.view.listPeers()).map((p) => p.publicKey)
    // A lost tail of the own log is taken back from the peers that hold it before the first
    // append: the greetings of known peers say how much of it each holds
    const recovering = saved.length > 0 || applied > this.log.core.length
    await this.net.start(saved)
    if (recovering) this._recovery = this._recover(applied)
    // Known peers hear of this start before it is ready: connections they kept to a previous
    // run (killed, not closed) would otherwise hold their first requests until a timeout
    if (saved.length > 0) await this.net.greeted({ timeout: START_GREETING_TIMEOUT })
  }

  async _close() {
    this._dues.close()
    clearTimeout(this._newsTimer)
    clearInterval(this._sweepTimer)
    clearInterval(this._syncTimer)
    this.timers.close()
    this._endingSoon.close()
    for (const hex of [...this._probation.keys()]) this._leaveProbation(hex)
    if (this.net !== null) {
      await Promise.allSettled([this._sayBye()])
      await this.net.close()
    }
    for (const follower of this._followers.values()) await follower.close()
    if (this.log !== null) await this.log.close()
    if (this.view !== null) await this.view.close()
    if (this._autoDestroy && this.dht !== null) await this.dht.destroy()
    if (this._autoCloseStore) await this.store.close()
  }

  // Terms (all optional): reserve, increment ("5" or "2.5%"), softClose (ms), maxExtensions,
  // buyNow. Amounts are decimal strings.
  async openAuction(opts = {}) {
    await this._writable()

    const { item, price, currency = DEFAULT_CURRENCY, duration } = opts
    let { endsAt } = opts
    rules.checkItem(item)
    const startPrice = parseAmount(price)
    rules.checkCurrency(currency)
    const createdAt = Date.now()
    if (duration !== undefined && duration !== null) {
      if (!Number.isSafeInteger(duration) || duration <= 0) {
        throw AuctionError.INVALID_DURATION('Duration must be a positive number of milliseconds')
      }
      endsAt = createdAt + duration
    }
    rules.checkEndsAt(endsAt || 0, createdAt)
    const terms = rules.checkTerms(parseTerms(opts), startPrice, endsAt || 0)
    const settlement = opts.settlement ? parseSettlement(opts.settlement) : null

    const view = await this.sequencer.open({
      item,
      startPrice,
      currency,
      endsAt: endsAt || 0,
      createdAt,
      terms,
      settlement
    })
    return this._describe(view)
  }

  async placeBid(auctionId, amount) {
    if (!this.opened) await this.ready()
    this._checkOpen()

    const idHex = parseId(auctionId)
    const units = parseAmount(amount)
    const view = await this._getView(idHex)

    const bid = crypto.signBid(
      {
        auction: view.id,
        bidder: this.publicKey,
        amount: units,
        nonce: crypto.randomNonce(),
        createdAt: Date.now()
      },
      this.keyPair
    )

    // What this peer holds of the seller's log is a prefix of the seller's, so a bid it
    // finds too low or closed the seller would refuse too. Time is left to the seller's clock.
    rules.checkBid(view, bid, bid.createdAt)
    if (this._disputed.has(b4a.toString(view.seller, 'hex'))) {
      throw AuctionError.DISPUTED('This seller signed two histories; bidding is stopped')
    }

    // A connection lost before the answer is tried again, backing off, for as long as a bid may
    // take: the same signed bid, so the seller accepts it once at most (a retry of an accepted
    // bid gets that acceptance). A seller meeting a burst of new peers sheds arrivals at random
    // until they are a couple of seconds old, the bidder's among them.
    const started = Date.now()
    let reply
    for (let attempt = 0, lost = null; ; attempt++) {
      // Each send gets the time left of the bid's, and none is sent with too little left
      const left = this._bidTimeout - (Date.now() - started)
      if (lost !== null && (left < MIN_BID_TIME || this.closing)) throw sellerUnreachable(lost)
      try {
        const res = await this.net.request(view.seller, METHODS.bid, m.encode(m.bid, bid), {
          timeout: left
        })
        reply = m.decode(m.bidReply, res, 'bid reply')
        break
      } catch (err) {
        if (err.code === 'REQUEST_TIMEOUT') throw sellerUnreachable(err)
        if (err.code !== 'PEER_UNREACHABLE') throw err
        // The connection went away under the request: the next one is a new connection
        lost = err
        const wait = Math.min(BID_RETRY_WAIT * 2 ** attempt, MAX_BID_RETRY_WAIT)
        const after = this._bidTimeout - (Date.now() + wait - started)
        if (after < MIN_BID_TIME || this.closing) throw sellerUnreachable(err)
        this.net.disconnect(b4a.toString(view.seller, 'hex'))
        await new Promise((resolve) => setTimeout(resolve, wait))
      }
    }

    this._involved(idHex, view)
    const confirmed = await this._confirm(view.seller, idHex, bid, reply)
    return {
      auction: idHex,
      bidder: this.id,
      amount: formatAmount(units),
      position: reply.position + 1,
      acceptedAt: reply.acceptedAt,
      confirmed
    }
  }

  async closeAuction(auctionId) {
    await this._writable()
    const idHex = parseId(auctionId)
    const view = await this.sequencer.close(idHex)
    return describeSale(this._describe(view))
  }

  // The buyer pays a sale with settlement terms. Either with any wallet: { txHash, signature },
  // the paying address's EIP-191 signature of claimMessage(); or with the built-in wallet:
  // { seed } or { privateKey }, paying through this peer's chainRpc. The seller's node verifies
  // the transfer on its own endpoint and records it; resolves once this peer holds that record.
  async pay(auctionId, opts = {}) {
    if (!this.opened) await this.ready()
    this._checkOpen()
    const idHex = parseId(auctionId)
    const view = await this._getView(idHex)
    if (view.paid === null && view.lapsed.some((k) => b4a.equals(k, this.publicKey))) {
      throw AuctionError.DEADLINE_PASSED(
        'Your time to pay ran out; the seller may offer the item to another bidder'
      )
    }
    const buyer = rules.owing(view)
    if (!b4a.equals(buyer.bidder, this.publicKey)) {
      throw AuctionError.NOT_BUYER('This peer is not the buyer of this sale')
    }
    const progress = (step, data = {}) =>
      this.emit('payment-progress', { auction: idHex, step, ...data })
    const chain = require('./lib/settlement/chain')
    const wallet = { seed: opts.seed, index: opts.index || 0, privateKey: opts.privateKey }
    let { signature } = opts
    let txHash = opts.txHash
    if (txHash !== undefined) {
      txHash = '0x' + b4a.toString(parseHex(txHash, 32, 'A transaction hash'), 'hex')
    }
    try {
      if (txHash === undefined) {
        if (this._chainRpc === null) throw AuctionError.NO_CHAIN()
        const sent = await chain.pay({
          url: this._chainRpc,
          chainId: view.settlement.chainId,
          token: '0x' + b4a.toString(view.settlement.token, 'hex'),
          to: '0x' + b4a.toString(view.settlement.payTo, 'hex'),
          amount: buyer.amount,
          ...wallet,
          onprogress: (step, data) => progress(step, data)
        })
        txHash = sent.hash
        const message = chain.claimMessage({ auction: idHex, txHash, bidder: this.id })
        signature = await chain.signClaim({ ...wallet, message })
      } else if (signature === undefined) {
        const message = chain.claimMessage({ auction: idHex, txHash, bidder: this.id })
        throw AuctionError.SIGNATURE_NEEDED(
          `Sign this text with the paying address (personal_sign) and pass it as the signature: ${JSON.stringify(message)}`
        )
      }
    } catch (err) {
      throw codedSettlementError(err)
    }
    const claim = {
      auction: view.id,
      txHash: parseHex(txHash, 32, 'A transaction hash'),
      signature: parseHex(signature, null, 'A signature')
    }
    progress('claimed', { txHash })
    const res = await this.net.request(view.seller, METHODS.pay, m.encode(m.payClaim, claim), {
      timeout: PAY_TIMEOUT
    })
    const { blockNumber } = m.decode(m.payReply, res, 'payment reply')
    progress('verified', { txHash, blockNumber })
    await until(async () => (await this.view.getAuction(idHex)).paid !== null, this._bidTimeout)
    return this.getAuction(idHex)
  }

  // The seller offers an unpaid sale to the highest bidder left, at that bidder's own bid
  async offerSecondChance(auctionId) {
    await this._writable()
    return this._describe(await this.sequencer.offer(parseId(auctionId)))
  }

  // A bidder takes the second-chance offer made to it: it then owes its bid
  async acceptOffer(auctionId) {
    if (!this.opened) await this.ready()
    this._checkOpen()
    const idHex = parseId(auctionId)
    const view = await this._getView(idHex)
    if (view.offer === null || !b4a.equals(view.offer.bid.bidder, this.publicKey)) {
      throw AuctionError.NO_OFFER('No second-chance offer to this peer is pending here')
    }
    const signature = crypto.signAcceptance(view.id, view.offer.bid, this.keyPair)
    await this.net.request(
      view.seller,
      METHODS.accept,
      m.encode(m.acceptRequest, { auction: view.id, signature })
    )
    await until(async () => (await this.view.getAuction(idHex)).offer === null, this._bidTimeout)
    return this.getAuction(idHex)
  }

  // Ends an own auction with no sale, while no bid stands
  async cancelAuction(auctionId) {
    await this._writable()
    const view = await this.sequencer.cancel(parseId(auctionId))
    return describeSale(this._describe(view))
  }

  // The seller takes no more bids from bidder (a public key, hex) on an own auction; its bids
  // accepted there no longer count, and the highest bid left by anyone else leads again
  async refuseBidder(auctionId, bidder) {
    await this._writable()
    const idHex = parseId(auctionId)
    const view = await this.sequencer.refuse(idHex, parseKey(bidder, 'A bidder'))
    return this._describe(view)
  }

  // With lastBids, only that many of the latest bids (bidCount still counts them all)
  async getAuction(auctionId, { lastBids = Infinity } = {}) {
    if (!this.opened) await this.ready()
    const idHex = parseId(auctionId)
    const view = await this._getView(idHex)
    return this._describe(view, await this.view.getBids(idHex, { last: lastBids }))
  }

  // Every known auction, oldest first; with page: true, one page { auctions, cursor } of at
  // most limit, from the cursor the previous page returned
  async listAuctions({ bids = false, limit = Infinity, cursor = null, page = false } = {}) {
    if (!this.opened) await this.ready()
    const res = await this.view.listAuctions({ after: cursor, limit })
    const auctions = []
    for (const view of res.auctions) {
      const idHex = b4a.toString(view.id, 'hex')
      auctions.push(this._describe(view, bids ? await this.view.getBids(idHex) : null))
    }
    return page ? { auctions, cursor: res.cursor } : auctions
  }

  // Ids of known auctions that start with a hex prefix (at most limit)
  async findAuctions(prefix, limit = 2) {
    if (!this.opened) await this.ready()
    return this.view.findIds(prefix.toLowerCase(), limit)
  }

  peers() {
    if (this.net === null) return []
    return [...this.net.peerTable.peers.values()].map((info) => ({
      publicKey: info.hex,
      name: info.name,
      failures: info.failures,
      lastSeen: info.lastSeen
    }))
  }

  // Public figures of this peer, for `status` and the info method
  async info() {
    if (!this.opened) await this.ready()
    let blocks = this.log.core.length
    for (const follower of this._followers.values()) blocks += follower.applied
    for (const log of this._dormant.values()) blocks += log.applied
    return {
      publicKey: this.id,
      name: this.name,
      network: this.network,
      peers: this.net.peerTable.size,
      logs: this._followers.size + this._dormant.size + (this.log.core.length > 0 ? 1 : 0),
      length: this.log.core.length,
      blocks,
      disputed: [...this._disputed]
    }
  }

  // Counters for measurements: open connections, known peers, remote logs held open, RPC
  // requests sent, and UDP packets and bytes this peer's DHT node sent and received (its
  // connections included)
  stats() {
    const udx = this.dht && this.dht.udx
    let open = 0
    for (const follower of this._followers.values()) {
      if (follower.opened && !follower.closing) open++
    }
    return {
      connections: this.net === null ? 0 : this.net.connections,
      peers: this.net === null ? 0 : this.net.peerTable.size,
      logsOpen: open,
      requests: this.net === null ? 0 : this.net.requests,
      notices: this.net === null ? 0 : this.net.notices,
      closed: this.net === null ? {} : { ...this.net.closed },
      packetsSent: udx ? udx.packetsTransmitted : 0,
      bytesSent: udx ? udx.bytesTransmitted : 0,
      bytesReceived: udx ? udx.bytesReceived : 0
    }
  }

  // Hash over the logs this peer has applied, sorted by author: (author, length, disputed,
  // tree hash). Two peers with the same digest hold the same signed histories.
  async digest() {
    if (!this.opened) await this.ready()
    const parts = []
    const add = async (hex, core, length) => {
      if (length === 0) return
      // A disputed log counts apart: what was applied of it is not what its tree now says
      const disputed = this._disputed.has(hex)
      const tree = core.closed || disputed ? b4a.alloc(32) : await core.treeHash(length)
      const head = b4a.concat([b4a.from(hex, 'hex'), c.encode(c.uint, length)])
      parts.push([hex, b4a.concat([head, c.encode(c.bool, disputed), tree])])
    }
    await add(this.id, this.log.core, this.log.core.length)
    for (const [hex, follower] of this._followers) {
      await add(hex, follower.core, follower.applied)
    }
    for (const [hex, log] of this._dormant) {
      if (log.applied === 0) continue
      const core = this.store.get({ manifest: crypto.logManifest(b4a.from(hex, 'hex')) })
      try {
        await core.ready()
        await add(hex, core, log.applied)
      } finally {
        await core.close()
      }
    }
    parts.sort((a, b) => (a[0] < b[0] ? -1 : 1))
    const all = parts.map((p) => p[1])
    return b4a.toString(crypto.hash(all.length ? all : [b4a.alloc(0)]), 'hex')
  }

  // The proof a disputed seller left: the other signed history Hypercore received
  async dispute(seller) {
    if (!this.opened) await this.ready()
    parseKey(seller, 'A seller')
    const row = await this.view.getDispute(seller.toLowerCase())
    if (row === null) return null
    return {
      seller,
      length: row.length,
      fork: row.fork,
      signature: b4a.toString(row.signature, 'hex'),
      treeHash: b4a.toString(row.treeHash, 'hex'),
      detectedAt: row.detectedAt
    }
  }

  _checkOpen() {
    if (this.closing) throw AuctionError.PEER_CLOSED()
  }

  // Before an own append: this peer must not sign at a length it signed before
  async _writable() {
    if (!this.opened) await this.ready()
    this._checkOpen()
    if (this._disputed.has(this.id)) {
      throw AuctionError.DISPUTED(
        'This peer’s log has two signed histories: it takes no more events'
      )
    }
    while (this._tail !== null) await this._tail
    if (this._tailError !== null) {
      // Blocks of the own log are held but not applied: judging without them could place an
      // event where the log already has one
      this._ontail()
      await this._tail
      if (this._tailError !== null) {
        throw AuctionError.LOG_RECOVERING(
          `Blocks of this peer's log that came back are not applied yet: ${this._tailError.message}`
        )
      }
    }
    if (this._recovering === null) return
    let timer
    const timeout = new Promise((resolve) => {
      timer = setTimeout(resolve, RECOVERY_TIMEOUT)
    })
    await Promise.race([this._recovery, timeout])
    clearTimeout(timer)
    const r = this._recovering
    if (r === null) return
    throw AuctionError.LOG_RECOVERING(
      r.applied > this.log.core.length
        ? `This peer signed ${r.applied} blocks of its log, storage holds ${this.log.core.length}: waiting for a peer that holds the rest`
        : 'Waiting for known peers to say how much of this peer’s log they hold'
    )
  }

  // Takes back blocks of the own log that peers hold beyond local storage. Until the log is
  // at least as long as the view says it was, appends are refused; every hello that reports
  // more of the log tries again.
  _recover(applied) {
    let resolve
    const recovery = new Promise((res) => {
      resolve = res
    })
    this._recovering = { applied, resolve, running: null }
    this._tryRecover()
    return recovery
  }

  _tryRecover() {
    const r = this._recovering
    if (r === null || r.running !== null) return
    r.running = this._recoverOnce(r)
      .catch((err) => this.emit('warning', err))
      .finally(() => {
        r.running = null
      })
  }

  async _recoverOnce(r) {
    await this.net.greeted({ timeout: RECOVERY_TIMEOUT })
    const length = Math.max(r.applied, this._yours)
    if (length > this.log.core.length) {
      await this.log.recover(length, RECOVERY_TIMEOUT)
      this._ontail()
      if (this._tail !== null) await this._tail
    }
    if (this.log.core.length < r.applied || this.closing) return
    this._recovering = null
    this._recovery = null
    r.resolve()
  }

  // Blocks of the own log came back by replication: apply them before anything is judged again
  _ontail() {
    if (this._tail !== null) return
    this._tailError = null
    this._tail = (async () => {
      const before = (await this.view.getLog(this.id)) || { applied: 0 }
      let applied = before.applied
      while (applied < this.log.core.length && !this.closing) {
        await this._applyOwnBlocks(applied)
        applied = (await this.view.getLog(this.id)).applied
      }
      this.sequencer.forget()
      if (applied > before.applied) {
        this.emit('recovered', { blocks: applied - before.applied, length: applied })
      }
    })()
      .catch((err) => {
        this._tailError = err
        this.emit('warning', err)
      })
      .finally(() => {
        this._tail = null
      })
  }

  // A block not held locally (a tail still coming back) is waited for, not forever
  async _applyOwnBlocks(from) {
    for (let index = from; index < this.log.core.length; index++) {
      const block = await this.log.core.get(index, { timeout: RECOVERY_TIMEOUT })
      const events = m.decode(m.block, block, 'own log block')
      await this._applyBlock(this.publicKey, this.id, index, events, true)
    }
  }

  async _getView(idHex) {
    const view = await this.view.getAuction(idHex)
    if (view === null) throw AuctionError.AUCTION_NOT_FOUND(`No auction ${idHex}`)
    return view
  }

  _describe(view, bids = null) {
    const disputed = this._disputed.has(b4a.toString(view.seller, 'hex'))
    return rules.describeAuction(view, { disputed, bids })
  }

  // Applies one block of a log to the view: all its events or, if one breaks a rule, none
  async _applyBlock(author, authorHex, index, events, own) {
    // Who counts the author's open auctions: the sequencer for the own log, else the follower
    const counter = own ? this.sequencer : this._followers.get(authorHex)
    let open = counter ? counter.openAuctions : 0
    const touched = new Map()
    const applied = []
    // Bids of this block, not staged until the whole block is applied
    const pending = new Map()
    for (let offset = 0; offset < events.length; offset++) {
      const evt = events[offset]
      const idHex = b4a.toString(rules.eventAuction(evt, author, index, offset), 'hex')
      // An opening's id is its own place in the log, and a block is applied once (its auctions
      // and the log's applied length are written in one batch): the auction cannot exist yet
      let current = null
      if (touched.has(idHex)) current = touched.get(idHex)
      else if (evt.type !== m.EVENT_OPENED) current = await this.view.getAuction(idHex)
      const ctx = {}
      if (rules.needsLeader(current, evt)) {
        const refused = [...current.refused, evt.payload.bidder]
        const row = await this.view.latestBid(
          idHex,
          current.bidCount,
          (r) => refused.every((key) => !b4a.equals(key, r.bid.bidder)),
          (position) => pending.get(idHex + '/' + position) || null
        )
        ctx.leader = row === null ? null : rules.leaderOf(row)
      }
      const next = rules.applyEvent(current, evt, author, index, offset, ctx)
      open += Sequencer.openDelta(evt)
      if (open > MAX_OPEN_AUCTIONS) {
        throw AuctionError.TOO_MANY_AUCTIONS(
          `The log opens more than ${MAX_OPEN_AUCTIONS} auctions that are open at once`
        )
      }
      if (next.bid !== null) {
        await this.view.loadBids(idHex, next.bid.position)
        pending.set(idHex + '/' + next.bid.position, next.bid)
      }
      touched.set(idHex, next.view)
      applied.push({ evt, idHex, current, next })
    }
    for (const { evt, idHex, current, next } of applied) {
      this._stage(evt, idHex, current, next, index, own)
    }
    if (counter) counter.openAuctions = open
    this.view.stageLog(authorHex, { applied: index + 1, disputed: false, invalid: false, open })
    if (this.view.full) await this.view.flush()
    else this.view.scheduleFlush()
    for (const { evt, current, next } of applied) this._notify(evt, current, next)
  }

  _stage(evt, idHex, current, next, index, own) {
    this.view.stageAuction(next.view, current === null)
    if (next.bid !== null) this.view.stageBid(idHex, next.bid, own)
    if (!own) return
    if (evt.type === m.EVENT_SETTLED) {
      this.view.stageTx(b4a.toString(evt.payload.txHash, 'hex'), idHex)
    }
    const dueAt = next.view.paid === null ? next.view.dueAt || 0 : 0
    if (dueAt !== (current === null ? 0 : current.paid === null ? current.dueAt || 0 : 0)) {
      // A sale to be paid by dueAt: at that time, unpaid, the seller's node records the lapse
      this.view.stageDue(idHex, dueAt === 0 ? null : dueAt)
      if (dueAt === 0) this._dues.disarm(idHex)
      else this._dues.arm(idHex, dueAt)
    }
    const endsAt = next.view.closed ? 0 : next.view.endsAt
    if (endsAt === (current === null || current.closed ? 0 : current.endsAt)) return
    // Opened, moved by a soft close or a buy-now bid, or ended: the seller's timer follows
    this.view.stageTimer(idHex, endsAt === 0 ? null : endsAt)
    if (endsAt === 0) this.timers.disarm(idHex)
    else this.timers.arm(idHex, endsAt)
  }

  // Every applied event passes here: the public shape of the auction is built only for events
  // someone listens to
  _notify(evt, current, next) {
    let described = null
    const auction = () => described || (described = this._describe(next.view))
    const tell = (name, data) => {
      if (this.listenerCount(name) > 0) this.emit(name, data())
    }
    const idHex = b4a.toString(next.view.id, 'hex')
    const key = (k) => b4a.toString(k, 'hex')
    if (evt.type === m.EVENT_OPENED) {
      if (b4a.equals(next.view.seller, this.publicKey)) this._involved(idHex, next.view)
      tell('auction-opened', auction)
    } else if (evt.type === m.EVENT_BID_ACCEPTED) {
      const b = next.bid
      const bid = () => ({
        bidder: key(b.bid.bidder),
        amount: formatAmount(b.bid.amount),
        position: b.position + 1,
        acceptedAt: b.acceptedAt
      })
      tell('bid-accepted', () => ({ auction: auction(), bid: bid() }))
      const before = current.highestBid
      if (
        before !== null &&
        b4a.equals(before.bidder, this.publicKey) &&
        !b4a.equals(b.bid.bidder, this.publicKey)
      ) {
        tell('outbid', () => ({
          auction: auction(),
          bid: bid(),
          previous: formatAmount(before.amount)
        }))
      }
      if (next.extended) {
        tell('auction-extended', () => ({
          auction: auction(),
          endsAt: next.view.endsAt,
          extensions: next.view.extensions
        }))
      }
      if (this._endingSoon.has(idHex)) this._involved(idHex, next.view)
    } else if (evt.type === m.EVENT_REFUSED) {
      tell('bidder-refused', () => ({ auction: auction(), bidder: key(evt.payload.bidder) }))
    } else if (evt.type === m.EVENT_SETTLED) {
      tell('auction-paid', () => ({ auction: auction(), payment: auction().payment }))
    } else if (evt.type === m.EVENT_LAPSED) {
      tell('payment-lapsed', () => ({ auction: auction(), buyer: key(evt.payload.buyer) }))
    } else if (evt.type === m.EVENT_OFFERED) {
      tell('second-chance', () => ({ auction: auction(), offer: auction().payment.offer }))
    } else if (evt.type === m.EVENT_OFFER_ACCEPTED) {
      tell('offer-accepted', () => ({ auction: auction(), buyer: auction().payment.buyer }))
    } else {
      this._endingSoon.disarm(idHex)
      tell('auction-closed', () => describeSale(auction()))
    }
  }

  // This peer sells or bid on an auction: it hears when it is about to end
  _involved(idHex, view) {
    const at = view.endsAt - this._endingSoonLead
    if (view.endsAt === 0 || view.closed || at <= Date.now()) return
    if (this._endingSoon.size >= MAX_ENDING_SOON && !this._endingSoon.has(idHex)) return
    this._endingSoon.arm(idHex, at)
  }

  async _onendingsoon(idHex) {
    const view = await this.view.getAuction(idHex)
    if (view === null || view.closed || this.closing) return
    this.emit('ending-soon', { auction: this._describe(view), endsAt: view.endsAt })
  }

  _onend(idHex) {
    if (this.closing) return
    // A late bid on its way into the log moved the end: the timer is armed again when it lands
    const state = this.sequencer.state(idHex)
    if (state !== null && state.endsAt > Date.now()) return
    this.closeAuction(idHex).catch((err) => {
      if (err.code === 'AUCTION_CLOSED') return
      // Retried at the next start if the log cannot take it now
      this.emit('warning', err)
    })
  }

  // A new connection replicates the own log, the log of its remote, and the logs whose author
  // is not connected and that have fewer than RELAYS connections to replicate on
  _onreplicate(hex, mux) {
    this.log.core.replicate(mux)
    // The log of a connected author stays open: Hypercore brings its news
    if (this._dormant.has(hex)) this._follow(b4a.from(hex, 'hex'), null, null)
    for (const [author, follower] of this._followers) {
      if (!follower.opened) continue
      if (author === hex) follower.attach(mux)
      else if (follower.attached < RELAYS && !this.net.connected(author)) follower.attach(mux)
    }
  }

  // The author is gone: what this peer missed of its log can still come from other holders
  _ondisconnect(hex) {
    const follower = this._followers.get(hex)
    if (!follower || !follower.opened) return
    for (const mux of this.net.randomMuxers(RELAYS, hex)) follower.attach(mux)
  }

  // A remote log: followed while this peer holds it, bounded in number. It is replicated with
  // its author; while the author is not connected, with the peer that named it (source) and a
  // few others at random. Fetching from other followers while the author is there would only
  // race them for blocks they do not have yet.
  // length: how long a peer says the log is; a dormant log wakes only if that is news.
  _follow(author, row = null, source = null, length = Infinity) {
    const hex = b4a.toString(author, 'hex')
    if (hex === this.id || this._followers.has(hex)) return
    if (this._disputed.has(hex) || this._invalid.has(hex)) return
    const dormant = this._dormant.get(hex)
    if (dormant !== undefined) {
      if (dormant.length >= length) return
      row = dormant
    }
    // A log only named (by its author or a peer) is on probation until a signed length shows it
    // is not empty: anyone can name keys by the thousand, and they must not take the slots. Its
    // own author, connected and speaking for one log only, goes past the probation cap.
    const byAuthor = source !== null && b4a.equals(source, author)
    if (row === null && !byAuthor && this._probation.size >= MAX_PROBATION) return
    if (this._followers.size - this._probation.size >= MAX_LOGS) {
      this.emit(
        'warning',
        AuctionError.TOO_MANY_LOGS(`Not following ${hex}: ${MAX_LOGS} logs held`)
      )
      return
    }
    const follower = new Follower(this.store, author, {
      applied: row === null ? 0 : row.applied,
      rate: this._logEventRate,
      burst: this._logEventBurst,
      onblock: (index, events) => this._onremoteblock(author, hex, index, events),
      onconflict: (conflict) => {
        this._onconflict(hex, conflict).catch((err) => this.emit('warning', err))
      },
      oninvalid: (err) => this._oninvalid(hex, err),
      ongrow: (length) => this._spread(hex, length)
    })
    follower.openAuctions = row === null ? 0 : row.open
    // Woken from its dormant row only once it surely has a slot: a lost row would make this
    // peer apply the log from its start again
    this._dormant.delete(hex)
    this._followers.set(hex, follower)
    if (row === null) this._probe(hex, follower)
    follower
      .ready()
      .then(() => {
        if (this.net === null) return
        // The author, else the peer that named the log: each more connection is a channel to
        // open on both sides and a copy of every block's news. Random others only when
        // neither is connected.
        let muxers = this.net.muxers(hex)
        if (muxers.length === 0 && source !== null) {
          muxers = this.net.muxers(b4a.toString(source, 'hex'))
        }
        if (muxers.length === 0) muxers = this.net.randomMuxers(RELAYS, hex)
        for (const mux of muxers) follower.attach(mux)
      })
      .catch((err) => this._oninvalid(hex, err))
  }

  _onremoteblock(author, hex, index, events) {
    this._admit(hex)
    return this._applyBlock(author, hex, index, events, false)
  }

  _probationSlot() {
    return new Promise((resolve) => this._slotWaiters.push(resolve))
  }

  _leaveProbation(hex) {
    const timer = this._probation.get(hex)
    if (timer === undefined) return false
    clearTimeout(timer)
    this._probation.delete(hex)
    const waiters = this._slotWaiters
    this._slotWaiters = []
    for (const resolve of waiters) resolve()
    return true
  }

  _probe(hex, follower) {
    const timer = setTimeout(() => {
      if (!this._probation.has(hex)) return
      if (follower.length > 0) return this._admit(hex)
      // Nothing signed came: forget the log, it may be named again later
      this._leaveProbation(hex)
      if (this._followers.get(hex) === follower) this._followers.delete(hex)
      follower.close().catch(safetyCatch)
    }, this._probationTime)
    timer.unref()
    this._probation.set(hex, timer)
  }

  // A log that showed signed data: it takes a slot and is remembered
  _admit(hex) {
    if (!this._leaveProbation(hex)) return
    this.view.stageLog(hex, { applied: 0, disputed: false, invalid: false })
  }

  // A bid counts once this peer holds the seller's signed block with it: a seller that later
  // loses its tail takes it back from here. True once held; false if the block has not arrived
  // within bidTimeout; DISPUTED if the seller's signed log holds something else there.
  async _confirm(seller, idHex, bid, reply) {
    const hex = b4a.toString(seller, 'hex')
    this._follow(seller, null, seller, reply.index + 1)
    const follower = this._followers.get(hex)
    if (!follower || !(await follower.waitFor(reply.index, this._bidTimeout))) {
      this.emit(
        'warning',
        AuctionError.SELLER_UNREACHABLE(
          `The seller's block ${reply.index} with the accepted bid has not arrived yet`
        )
      )
      return false
    }
    const row = await this.view.getBid(idHex, reply.position)
    if (row === null || !b4a.equals(row.bid.signature, bid.signature)) {
      throw AuctionError.DISPUTED(
        `The seller acknowledged this bid at ${reply.index}/${reply.offset}, but its signed log holds something else there`
      )
    }
    return true
  }

  async _onconflict(hex, { length, fork, proof }) {
    this._disputed.add(hex)
    this._leaveProbation(hex)
    const follower = this._followers.get(hex)
    const row = (await this.view.getLog(hex)) || { applied: 0 }
    this.view.stageLog(hex, {
      applied: follower ? follower.applied : row.applied,
      disputed: true,
      invalid: false
    })
    const upgrade = proof && proof.upgrade
    this.view.stageDispute(hex, {
      length,
      fork,
      signature: (upgrade && upgrade.signature) || b4a.alloc(0),
      treeHash: upgrade ? crypto.treeHash(upgrade.nodes) : b4a.alloc(0),
      detectedAt: Date.now()
    })
    await this.view.flush()
    this.emit('dispute', { seller: hex, length })
  }

  // A log stopped: for good if its author broke a rule (a coded error), until the next start if
  // this peer failed locally (storage), which is no fault of the author's
  _oninvalid(hex, err) {
    if (this.closing) return
    this._leaveProbation(hex)
    const follower = this._followers.get(hex)
    if (follower) {
      this._followers.delete(hex)
      follower.close().catch(safetyCatch)
    }
    if (err instanceof AuctionError) {
      this._invalid.add(hex)
      const applied = follower ? follower.applied : 0
      this.view.stageLog(hex, { applied, disputed: false, invalid: true })
      this.view.scheduleFlush()
    }
    this.emit('warning', err)
  }

  // Tells the connected peers how long the own log is now
  _announce() {
    this._spread(this.id, this.log.core.length)
  }

  // News of a log that grew, to the connected peers Hypercore would not tell by itself: those
  // that do not replicate that log with this peer right now. Gathered for NEWS_DELAY ms.
  _spread(hex, length) {
    if (this.net === null || this.closing) return
    if ((this._news.get(hex) || 0) < length) this._news.set(hex, length)
    // The own log's news does not wait behind a remote log's interval
    if (this._newsTimer !== null && hex === this.id && this._newsDue > Date.now() + NEWS_DELAY) {
      clearTimeout(this._newsTimer)
      this._newsTimer = null
    }
    if (this._newsTimer === null) this._scheduleNews(NEWS_DELAY)
  }

  _scheduleNews(ms) {
    this._newsDue = Date.now() + ms
    this._newsTimer = setTimeout(() => this._flushNews(), ms)
  }

  _flushNews() {
    this._newsTimer = null
    if (this.closing) return
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
    if (wait !== Infinity) this._scheduleNews(wait)
    if (this._newsAt.size > MAX_NEWS_TIMES) this._newsAt.clear()
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
        const follower = hex === this.id ? null : this._followers.get(hex)
        const core = hex === this.id ? this.log.core : follower && follower.core
        if (core && core.opened && replicatesWith(core, peerHex)) continue
        if (follower && follower.heardFrom(peerHex) >= length) continue
        logs.push({ author: b4a.from(hex, 'hex'), length })
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
  _onnews(remote, logs, stream) {
    const remoteHex = b4a.toString(remote, 'hex')
    for (const { author, length } of logs) {
      const hex = b4a.toString(author, 'hex')
      if (length === 0) continue
      if (hex === this.id) {
        if (length > this._yours) this._yours = length
        if (this._recovering !== null && length > this.log.core.length) this._tryRecover()
        continue
      }
      let follower = this._followers.get(hex)
      if (!follower) {
        this._follow(author, null, remote, length)
        follower = this._followers.get(hex)
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

  async _greet(publicKey) {
    const hex = b4a.toString(publicKey, 'hex')
    let hello
    try {
      const req = m.encode(m.hello, this._hello(publicKey))
      const reply = await this.net.request(publicKey, METHODS.hello, req, { greeting: true })
      hello = m.decode(m.hello, reply, 'hello reply')
    } catch (err) {
      if (this.net.fail(hex, err)) this._removePeer(hex)
      throw err
    }
    this._meet(publicKey, hello)
    // Answered in time: proven, and greeted again after a restart
    this.net.succeed(hex)
    const info = this.net.peerTable.get(hex)
    if (info !== null) {
      this.view.stagePeer(hex, info.name)
      this.view.scheduleFlush()
    }
  }

  _hello(remote) {
    // Peer exchange passes on proven peers only: a Sybil's keys are not spread by honest peers
    const peers = this.net.peerTable.provenKeys()
    shuffle(peers)
    return {
      name: this.name,
      length: this.log.core.length,
      yours: this._heldLength(b4a.toString(remote, 'hex')),
      instance: this._instance,
      peers: peers.slice(0, MAX_HELLO_PEERS)
    }
  }

  _onhello(remote, hello, stream) {
    const hex = b4a.toString(remote, 'hex')
    const instance = this._instances.get(hex)
    // The remote started again: connections to its previous run would only time out
    if (instance !== undefined && !b4a.equals(instance, hello.instance)) {
      this.net.disconnect(hex, stream)
    }
    // The keys a peer passes on, and its directory, count only once it has proved itself:
    // else each Sybil's hello would name the others, and every honest peer would spend its
    // greetings on them. The greeting back brings them, from a peer that answered in time.
    this._meet(remote, hello, this.net.proven(hex))
    // A peer that came to this one is proven by answering a greeting back, on that connection
    if (this.net.peerTable.has(hex)) {
      const proving = this.net.prove(remote)
      if (proving !== null) proving.catch(safetyCatch)
    }
  }

  _meet(publicKey, hello, exchange = true) {
    const hex = b4a.toString(publicKey, 'hex')
    this._instances.set(hex, hello.instance)
    const name = hello.name.slice(0, MAX_NAME_BYTES)
    const info = this.net.peerTable.add(publicKey, name, Date.now())
    if (info !== null) this.emit('peer-add', { publicKey: hex, name: info.name })
    if (hello.yours > this._yours) this._yours = hello.yours
    if (this._recovering !== null && hello.yours > this.log.core.length) this._tryRecover()
    if (hello.length > 0) this._follow(publicKey, null, publicKey, hello.length)
    // What it knows of others (peers, its logs directory) is asked only of a peer that proved
    // itself: a Sybil's hello costs a greeting back, not a directory read
    if (!exchange) return
    for (const key of hello.peers.slice(0, MAX_HELLO_PEERS)) this.net.discovered(key)
    if (!this._paged.has(hex)) {
      this._paged.add(hex)
      // A directory not read to the end is read again at the next greeting
      this._pageLogs(publicKey).catch((err) => {
        safetyCatch(err)
        this._paged.delete(hex)
      })
    }
  }

  // The logs a peer holds: how a late joiner finds sellers that are offline or not met
  async _pageLogs(publicKey) {
    let after = null
    for (let page = 0; page < LOGS_PAGES && !this.closing; page++) {
      const reply = await this.net.request(
        publicKey,
        METHODS.logs,
        m.encode(m.logsRequest, { after })
      )
      const res = m.decode(m.logsResponse, reply, 'logs reply')
      if (res.logs.length > LOGS_PAGE) throw AuctionError.BAD_REQUEST('Too many logs in one page')
      for (const { author, length } of res.logs) {
        if (length === 0) continue
        // Named logs wait for a probation slot rather than be skipped
        while (this._probation.size >= MAX_PROBATION && !this.closing) await this._probationSlot()
        this._follow(author, null, publicKey, length)
        // A log followed but behind what this peer holds: fetch it from this peer too
        const follower = this._followers.get(b4a.toString(author, 'hex'))
        if (follower && follower.opened && follower.held < length) {
          for (const mux of this.net.muxers(b4a.toString(publicKey, 'hex'))) follower.attach(mux)
        }
      }
      if (!res.more || res.logs.length === 0) break
      after = res.logs[res.logs.length - 1].author
    }
  }

  async _logsPage(after, limit) {
    const rows = await this.view.listLogs({
      after: after === null ? null : b4a.toString(after, 'hex'),
      limit
    })
    const logs = []
    for (const row of rows) {
      const length = row.author === this.id ? this.log.core.length : this._heldLength(row.author)
      if (length > 0) logs.push({ author: b4a.from(row.author, 'hex'), length })
    }
    return { logs, more: rows.length === limit }
  }

  // Blocks held from the start: a length known without its blocks is not passed on
  _heldLength(hex) {
    const follower = this._followers.get(hex)
    if (follower) return follower.held
    const dormant = this._dormant.get(hex)
    return dormant ? dormant.length : 0
  }

  _sync() {
    if (this.closing || this._syncing) return
    const keys = this.net.connectedKeys()
    if (keys.length === 0) return
    const hex = keys[Math.floor(Math.random() * keys.length)]
    this._syncing = true
    this._pageLogs(b4a.from(hex, 'hex'))
      .catch(safetyCatch)
      .finally(() => {
        this._syncing = false
      })
  }

  // Remote logs caught up and without news for idleLog ms, whose author is not connected, are
  // closed; news, a greeting or a bid opens them again where they stopped
  _sweep() {
    if (this.closing) return
    const now = Date.now()
    for (const [hex, follower] of this._followers) {
      if (!follower.opened || this._probation.has(hex) || this.net.connected(hex)) continue
      if (!follower.idle(now, this._idleLog)) continue
      this._followers.delete(hex)
      this._dormant.set(hex, {
        applied: follower.applied,
        open: follower.openAuctions,
        length: follower.length
      })
      follower.close().catch(safetyCatch)
    }
  }

  _onbid(bid, remote) {
    return this._writable().then(() => this.sequencer.bid(bid, remote))
  }

  // A buyer's payment claim: verified on this peer's own endpoint only, never on what the buyer
  // sends besides the transaction hash, then recorded in the own log
  async _onpay(claim, remote) {
    await this._writable()
    if (this._chainRpc === null) throw AuctionError.NO_CHAIN('The seller verifies no payments')
    const idHex = b4a.toString(claim.auction, 'hex')
    const view = await this._getView(idHex)
    if (!b4a.equals(view.seller, this.publicKey)) throw AuctionError.NOT_SELLER()
    const buyer = rules.owing(view)
    if (!b4a.equals(buyer.bidder, remote)) throw AuctionError.NOT_BUYER()
    if (Date.now() > view.dueAt) throw AuctionError.DEADLINE_PASSED()
    const txHex = b4a.toString(claim.txHash, 'hex')
    if (this._claiming.has(txHex) || (await this.view.getTx(txHex)) !== null) {
      throw AuctionError.TX_USED()
    }
    this._claiming.add(txHex)
    this._paying.add(idHex)
    try {
      const chain = require('./lib/settlement/chain')
      const s = view.settlement
      let paid
      try {
        paid = await chain.verifyPayment({
          url: this._chainRpc,
          chainId: s.chainId,
          token: '0x' + b4a.toString(s.token, 'hex'),
          payTo: '0x' + b4a.toString(s.payTo, 'hex'),
          amount: buyer.amount,
          txHash: '0x' + txHex,
          confirmations: s.confirmations,
          timeout: CONFIRM_TIMEOUT,
          // The sale, or the second chance taken: an older transfer paid something else
          notBefore: view.dueAt - s.payWithin
        })
        const message = chain.claimMessage({
          auction: idHex,
          txHash: '0x' + txHex,
          bidder: b4a.toString(remote, 'hex')
        })
        chain.verifyClaimSignature({
          message,
          signature: '0x' + b4a.toString(claim.signature, 'hex'),
          from: paid.from
        })
      } catch (err) {
        throw codedSettlementError(err)
      }
      const settled = await this.sequencer.settle(idHex, {
        buyer: buyer.bidder,
        txHash: claim.txHash,
        blockNumber: paid.blockNumber,
        payer: b4a.from(paid.from.slice(2), 'hex')
      })
      return { blockNumber: settled.paid.blockNumber }
    } finally {
      this._claiming.delete(txHex)
      this._paying.delete(idHex)
    }
  }

  async _onaccept(auction, signature, remote) {
    await this._writable()
    const idHex = b4a.toString(auction, 'hex')
    await this.sequencer.acceptOffer(idHex, remote, signature)
  }

  // The buyer's time ran out: recorded; the seller may then make a second-chance offer
  _ondue(idHex) {
    if (this.closing) return
    // A claim that arrived in time and is being verified decides first
    if (this._paying.has(idHex)) {
      this._dues.arm(idHex, Date.now() + 1000)
      return
    }
    this._writable()
      .then(() => this.sequencer.lapse(idHex))
      .catch((err) => {
        if (['ALREADY_PAID', 'NOT_SOLD'].includes(err.code)) return
        this.emit('warning', err)
      })
  }

  _onbye(remote) {
    this._removePeer(b4a.toString(remote, 'hex'))
  }

  // A peer that left, kept failing or was pushed out of the bounded table: forgotten, also on
  // disk (evicted, it is already out of the table)
  _removePeer(hex) {
    const info = this.net.peerTable.remove(hex)
    this.view.stagePeer(hex, null)
    this.view.scheduleFlush()
    if (info !== null) this.emit('peer-remove', { publicKey: hex, name: info.name })
  }

  async _sayBye() {
    await Promise.allSettled(
      this.net.connectedKeys().map((hex) =>
        this.net.request(b4a.from(hex, 'hex'), METHODS.bye, b4a.alloc(0), {
          timeout: BYE_TIMEOUT
        })
      )
    )
  }
}

AuctionPeer.METHODS = METHODS
AuctionPeer.AuctionError = AuctionError

// Version 0.1 kept everything in one Hyperbee on the core named 'hyperauction'
async function checkNotVersion01(store) {
  const keyPair = await store.createKeyPair('hyperauction')
  const discoveryKey = crypto.discoveryKey(crypto.logKey(keyPair.publicKey))
  if (await store.storage.hasCore(discoveryKey)) {
    throw AuctionError.STORAGE_VERSION(
      'This folder holds hyperauction 0.1 storage, which 0.2 cannot read: use a new folder'
    )
  }
}

function parseId(id) {
  if (b4a.isBuffer(id) && id.byteLength === 16) return b4a.toString(id, 'hex')
  if (typeof id !== 'string' || !/^[0-9a-f]{32}$/i.test(id)) {
    throw AuctionError.INVALID_ID('An auction id is 32 hex characters')
  }
  return id.toLowerCase()
}

// The settlement module's coded errors travel as AuctionErrors of the same code
function codedSettlementError(err) {
  if (err instanceof AuctionError) return err
  if (err && typeof err.code === 'string' && typeof AuctionError[err.code] === 'function') {
    return AuctionError[err.code](String(err.message).replace(err.code + ': ', ''))
  }
  return AuctionError.PAYMENT_REFUSED(err && err.message)
}

function parseHex(value, bytes, what) {
  const hex = typeof value === 'string' ? value.replace(/^0x/i, '') : ''
  if (!/^([0-9a-f]{2})+$/i.test(hex) || (bytes !== null && hex.length !== bytes * 2)) {
    throw AuctionError.INVALID_ARGUMENT(`${what} is ${bytes ? bytes + ' bytes of' : ''} hex`)
  }
  return b4a.from(hex, 'hex')
}

function parseSettlement(s) {
  const address = (value, what) => parseHex(value, 20, what)
  return rules.checkSettlement({
    chainId: s.chainId,
    token: address(s.token, 'The token address'),
    payTo: address(s.payTo, 'The address to pay'),
    payWithin: s.payWithin,
    confirmations: s.confirmations === undefined ? 1 : s.confirmations
  })
}

async function until(fn, timeout) {
  const deadline = Date.now() + timeout
  while (Date.now() < deadline) {
    if (await fn()) return true
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return false
}

function parseKey(hex, what) {
  if (typeof hex !== 'string' || !/^[0-9a-f]{64}$/i.test(hex)) {
    throw AuctionError.INVALID_ARGUMENT(`${what} is a 64 hex character public key`)
  }
  return b4a.from(hex, 'hex')
}

// Terms from decimal strings: the increment is an amount or a percentage like "2.5%"
function parseTerms(opts) {
  const amount = (value, name) => {
    if (value === undefined || value === null) return 0n
    try {
      return parseAmount(String(value))
    } catch (err) {
      throw AuctionError.INVALID_AMOUNT(`The ${name}: ${err.message.replace(err.code + ': ', '')}`)
    }
  }
  const terms = { ...m.NO_TERMS }
  terms.reserve = amount(opts.reserve, 'reserve')
  terms.buyNow = amount(opts.buyNow, 'buy-now price')
  const increment =
    opts.increment === undefined || opts.increment === null ? null : String(opts.increment)
  if (increment !== null && increment.endsWith('%')) {
    const rate = /^([0-9]{1,3})(\.[0-9]{1,2})?%$/.exec(increment)
    if (rate === null) {
      throw AuctionError.INVALID_TERMS(
        `"${increment.slice(0, 16)}" is not a percentage like 5% or 2.5%`
      )
    }
    terms.incrementRate = Number(rate[1]) * 100 + Number((rate[2] || '.').slice(1).padEnd(2, '0'))
  } else if (increment !== null) {
    terms.increment = amount(increment, 'increment')
  }
  for (const name of ['softClose', 'maxExtensions']) {
    const value = opts[name]
    if (value === undefined || value === null) continue
    if (!Number.isSafeInteger(value) || value < 0) {
      throw AuctionError.INVALID_TERMS(`${name} must be a whole number, 0 or more`)
    }
    terms[name] = value
  }
  return terms
}

function describeSale(auction) {
  return {
    auction,
    outcome: auction.outcome,
    winner: auction.winner,
    bidCount: auction.bidCount,
    closedAt: auction.closedAt
  }
}

function sellerUnreachable(cause) {
  const err = AuctionError.SELLER_UNREACHABLE(
    'The seller’s peer could not be reached; try again when it is online'
  )
  err.cause = cause
  return err
}

// Hypercore tells a peer of new blocks by itself while the core replicates with it
function replicatesWith(core, hex) {
  for (const peer of core.peers) {
    // A peer that only serves the log (its copy opened by Corestore on request, no follower
    // reading it) is told as any other
    if (!peer.remoteDownloading) continue
    if (peer.remotePublicKey && b4a.toString(peer.remotePublicKey, 'hex') === hex) return true
  }
  return false
}

function shuffle(list) {
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    const tmp = list[i]
    list[i] = list[j]
    list[j] = tmp
  }
}

module.exports = AuctionPeer
