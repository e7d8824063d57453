const ReadyResource = require('ready-resource')
const DHT = require('hyperdht')
const b4a = require('b4a')
const safetyCatch = require('safety-catch')

const AuctionError = require('./lib/errors')
const OwnLog = require('./lib/log')
const Sequencer = require('./lib/sequencer')
const Network = require('./lib/network')
const Applier = require('./lib/apply')
const Recovery = require('./lib/recovery')
const Logs = require('./lib/logs')
const News = require('./lib/news')
const Forks = require('./lib/forks')
const Directory = require('./lib/directory')
const Greeting = require('./lib/greeting')
const Bidder = require('./lib/bid')
const Payments = require('./lib/payments')
const Pictures = require('./lib/pictures')
const { createStore, openStorage, markFile } = require('./lib/storage')
const { METHODS, respond, handlers } = require('./lib/rpc')
const rules = require('./lib/rules')
const crypto = require('./lib/crypto')
const { parseAmount } = require('./lib/money')
const { parseId, parseKey, parseOpening } = require('./lib/args')

const DEFAULT_NETWORK = 'main'
const START_GREETING_TIMEOUT = 2000

// One peer of the auction network: its own log, the logs it follows, its view, its connections.
// This class wires the parts in lib/ together and is the public API; each mechanism lives in the
// part named for it.
class AuctionPeer extends ReadyResource {
  constructor(storage, opts = {}) {
    super()
    this.storage = storage
    this.network = opts.network || DEFAULT_NETWORK
    this.name = opts.name || ''
    this.keyPair = null
    this.dht = opts.dht || null
    this.store = opts.corestore || createStore(storage)
    this.view = this.log = this.net = this.sequencer = null
    // The parts, made at open (see lib/)
    this.logs = this.news = this.forks = this.greeting = this.directory = null
    this.recovery = this.payments = this.pictures = this._applier = this._bidder = null

    this._opts = opts
    this._autoDestroy = !opts.dht
    this._autoCloseStore = !opts.corestore
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
    const opts = this._opts
    const onwarning = (err) => this.emit('warning', err)
    const isClosing = () => this.closing
    const opened = await openStorage(this.store, this.storage, this.name, onwarning)
    this.view = opened.view
    this.keyPair = opened.keyPair
    this.name = opened.name

    this.log = new OwnLog(this.store, this.keyPair, {
      markFile: markFile(this.storage, opts),
      onwarning
    })
    await this.log.ready()
    // Another copy of this peer's storage signed a second history: this log can take no more
    this.log.core.on('conflict', (length) => {
      this.logs.disputeOwn(length, this.log.core.length, this.sequencer.openAuctions)
    })
    this.log.on('tail', () => this.recovery.ontail())
    this.sequencer = new Sequencer({
      log: this.log,
      view: this.view,
      publicKey: this.publicKey,
      onappended: (evt, idHex, current, next, place) => {
        this._applier.appended(evt, idHex, current, next, place.index, this.sequencer.openAuctions)
        this.news.spread(this.id, place.index + 1)
      }
    })

    if (this.dht === null) {
      const { bootstrap, host, port, firewalled } = opts
      this.dht = new DHT({ keyPair: this.keyPair, bootstrap, host, port, firewalled })
    }
    // Its options (requestTimeout, maintainInterval, lookupInterval, backoff, maxConnections)
    this.net = new Network({
      ...opts,
      dht: this.dht,
      keyPair: this.keyPair,
      store: this.store,
      topic: crypto.topic(this.network),
      capability: opts.secret && crypto.hash(b4a.from(opts.secret)),
      greet: (publicKey) => this.greeting.greet(publicKey),
      ondrop: (hex) => this.greeting.removePeer(hex),
      onreplicate: (hex, mux) => {
        this.log.core.replicate(mux)
        this.logs.onconnection(hex, mux)
        this.pictures.onconnection(mux)
      },
      ondisconnect: (hex) => this.logs.ondisconnect(hex),
      onerror: onwarning
    })
    this._wire(opts, isClosing)
    await this.pictures.ready()

    // Blocks of the own log that the view has not applied (a view lost or behind)
    this.logs.load(await this.view.listLogs())
    const { applied, open } = (await this.view.getLog(this.id)) || { applied: 0, open: 0 }
    this.sequencer.openAuctions = open
    await this.recovery.applyBlocks(applied)

    await this.payments.load()
    await this._applier.load()
    await this.sequencer.loadBlocked()

    respond(
      this.net,
      handlers(this, () => this._writable())
    )
    await this.net.ready()
    this.logs.start()
    this.directory.start()

    const saved = (await this.view.listPeers()).map((p) => p.publicKey)
    // A lost tail of the own log (the view or the mark says more was signed) is taken back from
    // the peers that hold it before the first append; known peers' greetings say how much
    const signed = Math.max(applied, this.log.marked)
    const recovering = saved.length > 0 || signed > this.log.core.length
    await this.net.start(saved)
    if (recovering) this.recovery.start(signed)
    // Known peers hear of this start before it is ready: connections they kept to a previous
    // run (killed, not closed) would otherwise hold their first requests until a timeout
    if (saved.length > 0) await this.net.greeted({ timeout: START_GREETING_TIMEOUT })
  }

  // The parts, each given what it needs; what most need in common first
  _wire(opts, isClosing) {
    const { net, view, log, id, store, keyPair, sequencer } = this
    const common = { net, view, log, id, emitter: this, isClosing }
    const timeout = { timeout: opts.bidTimeout } // a bid's wait for the seller's block
    const pictureOpts = { timeout: opts.pictureTimeout, maxHeldBytes: opts.maxHeldPictureBytes }
    const pictures = (this.pictures = new Pictures({ ...common, store, keyPair, ...pictureOpts }))
    // Its options: logEventRate, logEventBurst, probation, idleLog, maxLogs, maxStoredLogs
    const logs = (this.logs = new Logs({
      ...opts,
      ...common,
      store,
      servedPicture: (hex) => pictures.servedPicture(hex),
      apply: (author, hex, index, events, follower) =>
        this._applier.applyBlock(author, hex, index, events, false, follower),
      ongrow: (hex, length) => this.news.spread(hex, length)
    }))
    this.payments = new Payments({
      ...common,
      logs,
      sequencer,
      keyPair,
      chain: { rpc: opts.chainRpc, retry: opts.paymentCheckRetry },
      ...timeout,
      writable: () => this._writable(),
      getView: (idHex) => this._getView(idHex)
    })
    this._applier = new Applier({
      ...common,
      publicKey: keyPair.publicKey,
      describe: (v) => this._describe(v),
      sequencer,
      closeAuction: (idHex) => this.closeAuction(idHex),
      dues: this.payments.dues,
      endingSoon: opts.endingSoon
    })
    this.recovery = new Recovery({
      ...common,
      apply: (index, events) =>
        this._applier.applyBlock(keyPair.publicKey, id, index, events, true, sequencer),
      onapplied: () => sequencer.forget()
    })
    const onown = (length) => this.recovery.heard(length)
    const ondispute = (hex) => this.news.dispute(hex)
    this.forks = new Forks({ ...common, logs, ondispute })
    const withLogs = { ...common, logs, forks: this.forks }
    this.news = new News({ ...withLogs, onown })
    this.directory = new Directory(withLogs)
    this.greeting = new Greeting({ ...withLogs, directory: this.directory, name: this.name, onown })
    this._bidder = new Bidder({ ...withLogs, keyPair, applier: this._applier, ...timeout })
  }

  async _close() {
    const parts = [this.payments, this.news, this.directory, this._applier]
    for (const part of parts) if (part !== null) part.close()
    if (this.logs !== null) this.logs.stop()
    if (this.net !== null) {
      if (this.greeting !== null) await Promise.allSettled([this.greeting.sayBye()])
      await this.net.close()
    }
    if (this.logs !== null) await this.logs.close()
    if (this.pictures !== null) await this.pictures.close()
    if (this.log !== null) await this.log.close()
    if (this.view !== null) await this.view.close()
    if (this._autoDestroy && this.dht !== null) await this.dht.destroy()
    if (this._autoCloseStore) await this.store.close()
  }

  // opts: item, price, currency, endsAt or duration, terms and settlement (see lib/args.js), and
  // picture: { data, type? }, stored in the own pictures core before the opening is signed
  async openAuction(opts = {}) {
    await this._writable()
    const payload = parseOpening(opts)
    const { picture } = opts
    if (picture) {
      // Not stored for an opening that cannot be signed
      this.sequencer.roomToOpen()
      payload.picture = await this.pictures.put(picture.data, picture.type)
    }
    return this._describe(await this.sequencer.open(payload))
  }

  async placeBid(auctionId, amount) {
    await this._usable()
    const idHex = parseId(auctionId)
    const units = parseAmount(amount)
    return this._bidder.place(await this._getView(idHex), units)
  }

  async closeAuction(auctionId) {
    await this._writable()
    return rules.describeSale(this._describe(await this.sequencer.close(parseId(auctionId))))
  }

  // The buyer pays a sale with settlement terms: { txHash, signature } from any wallet (the
  // payer's EIP-191 signature of claimMessage()), or { seed } or { privateKey } for the built-in
  // wallet through chainRpc. The seller's node verifies the transfer and records it. Resolves
  // with the auction and confirmed: whether this peer holds that record within bidTimeout.
  async pay(auctionId, opts = {}) {
    await this._usable()
    const idHex = parseId(auctionId)
    const confirmed = await this.payments.pay(await this._getView(idHex), opts)
    return { ...(await this.getAuction(idHex)), confirmed }
  }

  // The seller offers an unpaid sale to the highest bidder left, at that bidder's own bid
  async offerSecondChance(auctionId) {
    await this._writable()
    const { view } = await this.sequencer.offer(parseId(auctionId))
    return this._describe(view)
  }

  // A bidder takes the second-chance offer made to it: it then owes its bid. Resolves with the
  // auction and confirmed: whether this peer holds the seller's record within bidTimeout.
  async acceptOffer(auctionId) {
    await this._usable()
    const idHex = parseId(auctionId)
    const confirmed = await this.payments.acceptOffer(await this._getView(idHex))
    return { ...(await this.getAuction(idHex)), confirmed }
  }

  // Ends an own auction with no sale, while no bid stands
  async cancelAuction(auctionId) {
    await this._writable()
    return rules.describeSale(this._describe(await this.sequencer.cancel(parseId(auctionId))))
  }

  // The seller takes no more bids from bidder (a public key, hex) on an own auction; its bids
  // accepted there no longer count, and the highest bid left by anyone else leads again
  async refuseBidder(auctionId, bidder) {
    await this._writable()
    const key = parseKey(bidder, 'A bidder')
    return this._describe(await this.sequencer.refuse(parseId(auctionId), key))
  }

  // The seller takes no bids from bidder on any of its auctions, signed into its log; on the open
  // ones the bidder is refused, so its bids there no longer count. blocked false lifts it.
  async blockBidder(bidder, { blocked = true } = {}) {
    await this._writable()
    return this.sequencer.blockEverywhere(parseKey(bidder, 'A bidder'), blocked)
  }

  // The bidders this seller blocks, keys in hex
  async blockedBidders() {
    if (!this.opened) await this.ready()
    return [...this.sequencer.blocked].sort()
  }

  // { type, data, hash (hex), size }, from storage or any peer that holds it (lib/pictures.js)
  async getPicture(auctionId) {
    await this._usable()
    return this.pictures.of(await this._getView(parseId(auctionId)))
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
    return this.net === null ? [] : this.net.peerTable.list()
  }

  // Public figures of this peer, for `status` and the info method
  async info() {
    if (!this.opened) await this.ready()
    return {
      publicKey: this.id,
      name: this.name,
      network: this.network,
      peers: this.net.peerTable.size,
      logs: this.logs.size + (this.log.core.length > 0 ? 1 : 0),
      length: this.log.core.length,
      blocks: this.log.core.length + this.logs.applied,
      disputed: [...this.logs.disputed],
      remoteBytes: this.logs.bytes
    }
  }

  // Counters for measurements (see Network's stats) and the remote logs held open
  stats() {
    const logsOpen = this.logs === null ? 0 : this.logs.open
    return { ...(this.net === null ? Network.NO_STATS : this.net.stats()), logsOpen }
  }

  // Hash over the logs applied (author, length, disputed, tree hash): same digest, same histories
  async digest() {
    if (!this.opened) await this.ready()
    return this.logs.digest(this.log.core)
  }

  // The proof a disputed seller left: the other signed history Hypercore received
  async dispute(seller) {
    if (!this.opened) await this.ready()
    parseKey(seller, 'A seller')
    return this.logs.proof(seller)
  }

  async _usable() {
    if (!this.opened) await this.ready()
    if (this.closing) throw AuctionError.PEER_CLOSED()
  }

  // Before an own append: this peer must not sign at a length it signed before
  async _writable() {
    await this._usable()
    const twice = 'This peer’s log has two signed histories: it takes no more events'
    if (this.logs.disputed.has(this.id)) throw AuctionError.DISPUTED(twice)
    await this.recovery.writable()
  }

  async _getView(idHex) {
    const view = await this.view.getAuction(idHex)
    if (view === null) throw AuctionError.AUCTION_NOT_FOUND(`No auction ${idHex}`)
    return view
  }

  _describe(view, bids = null) {
    const disputed = this.logs.disputed.has(b4a.toString(view.seller, 'hex'))
    return rules.describeAuction(view, { disputed, bids })
  }
}

AuctionPeer.METHODS = METHODS
AuctionPeer.AuctionError = AuctionError

module.exports = AuctionPeer
