const ReadyResource = require('ready-resource')
const RPC = require('@hyperswarm/rpc')
const b4a = require('b4a')
const c = require('compact-encoding')
const safetyCatch = require('safety-catch')
const AuctionError = require('./errors')
const { clientStream } = require('./compat')
const PeerTable = require('./peer-table')
const Discovery = require('./discovery')
const Dials = require('./dials')
const Bound = require('./bound')
const lag = require('./lag')
const { MAX_PAYLOAD, MAX_GREETINGS } = require('./constants')

const RAW = { requestEncoding: c.raw, responseEncoding: c.raw }
const FRAMED = { requestEncoding: c.optionalBuffer, responseEncoding: c.optionalBuffer }
const ANSWERED = new Set(['UNKNOWN_METHOD', 'REQUEST_ERROR', 'DECODE_ERROR', 'ENCODE_ERROR'])
const MAX_INFLIGHT_PER_PEER = 64
const REQUEST_TIMEOUT = 3000
const MAINTAIN_INTERVAL = 3000
const GREET_ATTEMPTS = 6
const GREET_BACKOFF = 1000
const GREET_RETRIES_PER_TICK = 8
// A key whose greeting went unanswered or came back slow is not greeted again for this long,
// doubling each time it happens again, up to SUSPECT_MAX; at most MAX_SUSPECTS are remembered
const SUSPECT_MIN = 60 * 1000
const SUSPECT_MAX = 30 * 60 * 1000
const MAX_SUSPECTS = 4096
// Keys heard of and not tried yet
const MAX_CANDIDATES = 1024
// An answer slower than this counts against the peer, as a failure does; a greeting this slow
// fails
const SLOW_ANSWER = 2000
// A request's timeout is moved on by this process's own lateness (or, for a greeting, by the
// time its connection took to open) once that is at least this much
const MIN_LAG_CREDIT = 50
// A key connected this long and not proven is greeted again: the age at which a proven one is
// protected from eviction (see Bound)
const { PROTECT_AFTER } = Bound
// A known peer whose connection ended is greeted again after this long, when there are enough
const RECONNECT_AFTER = 30000
// Past the outgoing target, a connection unused this long is closed (a bid to a seller
// connects to it whatever the bound)
const IDLE_CONNECTION = 30000
// A connection with nothing to send sends an empty message this often (HyperDHT's default is
// 5 s): it keeps NAT mappings open (30 s is about the shortest in use) and lets the transport
// find a dead peer. Every 5 s on 16 connections, both ways, was a third of the packets a peer
// sent at N = 1,000 and most of its idle CPU.
const KEEP_ALIVE = 15000

// Connections and the peer set. One Hyperswarm RPC connection carries both the requests and
// Hypercore replication (store.replicate joins the connection's Protomux). Either side's
// connection serves requests both ways, so two peers need only one. Responders see raw bytes
// and may throw only coded AuctionErrors: protomux-rpc re-throws TypeError, RangeError and
// SyntaxError from a handler as uncaught, which would kill the peer.
class Network extends ReadyResource {
  constructor(opts) {
    super()
    this.dht = opts.dht
    this.keyPair = opts.keyPair
    this.store = opts.store
    this.topic = opts.topic
    this.capability = opts.capability || null
    this.timeout = opts.requestTimeout || REQUEST_TIMEOUT
    this.maintainInterval = opts.maintainInterval || MAINTAIN_INTERVAL
    this.lookupInterval = opts.lookupInterval
    this.maxInflight = opts.maxInflightPerPeer || MAX_INFLIGHT_PER_PEER
    // The connections, their bound and the requests from each key under way
    this.bound = new Bound({
      maxConnections: opts.maxConnections,
      proven: (hex) => this.proven(hex),
      onevict: (hex) => this.disconnect(hex, null, 'evicted'),
      ondisconnect: (conn) => this._ondisconnect(conn)
    })
    this.peerTable = new PeerTable({
      maxSize: 4 * this.maxConnections,
      evictable: (hex) => !this.connected(hex),
      onevict: (info) => this.ondrop(info.hex),
      ...opts.backoff
    })
    // Keys heard of (lookups, peer exchange) and not greeted yet: chosen from at random
    this.candidates = new Map()
    // Greetings that make a new connection wait while the process is busy dialing
    this.dials = opts.dials || Dials.shared
    this.rpc = new RPC({ dht: this.dht, keyPair: this.keyPair })
    this.server = this.rpc.createServer({ capability: this.capability })
    this.discovery = null
    // greet(publicKey) says hello to a key and resolves with its answer; onreplicate(hex, mux)
    // hears of each connection that replicates; onerror reports
    this.greet = opts.greet
    this.onreplicate = opts.onreplicate || noop
    // ondisconnect(hex): the last replicating connection to a key closed
    this.ondisconnect = opts.ondisconnect || noop
    // ondrop(hex): a known peer failed or answered slowly too often and is forgotten
    this.ondrop = opts.ondrop || noop
    this.onerror = opts.onerror || noop
    this.id = b4a.toString(this.keyPair.publicKey, 'hex')

    // Requests and one-way notices sent, and connections this peer closed by why, for stats()
    this.requests = 0
    this.notices = 0
    this.closed = { evicted: 0, trimmed: 0, slow: 0, timeout: 0, unreachable: 0, other: 0 }
    this._responders = new Map()
    this._greeting = new Map()
    // The dial each greeting under way holds until its connection opens
    this._dialing = new Map()
    this._greetFailures = new Map()
    this._suspects = new Map()
    this._proving = new Set()
    this._lagHeld = false
    this._timer = null

    this.server.on('connection', (rpc) => this._onincoming(rpc))
  }

  async _open() {
    lag.acquire()
    this._lagHeld = true
    try {
      await this.server.listen(this.keyPair)
    } catch (err) {
      this._releaseLag()
      throw err
    }
  }

  _releaseLag() {
    if (!this._lagHeld) return
    this._lagHeld = false
    lag.release()
  }

  // Discovery starts once the owner is ready to answer hellos
  async start(saved) {
    for (const publicKey of saved) this.discovered(publicKey)
    this.discovery = new Discovery(this.dht, this.topic, this.keyPair, {
      onpeer: (publicKey) => this.discovered(publicKey),
      wanted: () => this.outgoing < this.targetOutgoing,
      lookupInterval: this.lookupInterval
    })
    await this.discovery.ready()
    this._timer = setInterval(() => this.maintain(), this.maintainInterval)
    this._timer.unref()
  }

  async _close() {
    clearInterval(this._timer)
    this.bound.close()
    if (this.discovery !== null) await this.discovery.close()
    for (const [, list] of this.bound) {
      for (const conn of [...list]) conn.destroy()
    }
    try {
      await this.rpc.destroy()
    } finally {
      this._releaseLag()
    }
  }

  // encoding: RAW for the binary methods; FRAMED (the RPC's default, a length-prefixed buffer)
  // for the JSON ones, which standard Hyperswarm RPC clients call with their defaults
  respond(method, handler, encoding = RAW) {
    this._responders.set(method, { handler, encoding })
    this.server.respond(method, encoding, (req, rpc) => this._handle(handler, req, rpc.stream))
  }

  // Connections kept at once (see Bound)
  get maxConnections() {
    return this.bound.maxConnections
  }

  // Of maxConnections, how many this peer chooses itself (outgoing)
  get targetOutgoing() {
    return this.bound.targetOutgoing
  }

  // Of maxConnections, how many are kept free for arrivals
  get reserve() {
    return this.bound.reserve
  }

  // Keys with a connection open or being made, and not on its way out
  get connections() {
    return this.bound.connections
  }

  // Counters for measurements: open connections, known peers, requests and notices sent,
  // connections closed by why, and UDP packets and bytes the DHT node sent and received (its
  // connections included)
  stats() {
    const udx = this.dht.udx
    return {
      connections: this.connections,
      peers: this.peerTable.size,
      requests: this.requests,
      notices: this.notices,
      closed: { ...this.closed },
      packetsSent: udx ? udx.packetsTransmitted : 0,
      bytesSent: udx ? udx.bytesTransmitted : 0,
      bytesReceived: udx ? udx.bytesReceived : 0
    }
  }

  connectedKeys() {
    return [...this.bound.keys()]
  }

  // Keys this peer connected to itself
  get outgoing() {
    return this.bound.outgoing
  }

  // Greetings of keys under way (see greeted)
  get greetings() {
    return this._greeting.size
  }

  // Greetings still making their connection, each holding a dial: a test hook, to see that
  // every dial is given back
  get dialing() {
    return this._dialing.size
  }

  // Room for one more connection of this peer's choosing, outside the arrivals' reserve
  _room() {
    return this.bound.room(this._greeting.size)
  }

  connected(hex) {
    const list = this.bound.get(hex)
    return list !== undefined && list.length > 0
  }

  // Drops every connection, or every connection to one key but the one on stream keep (a
  // peer that restarted greets on a new connection; the old ones would only time out).
  // Greetings make them again.
  disconnect(hex = null, keep = null, why = 'other') {
    for (const [key, list] of this.bound) {
      if (hex !== null && key !== hex) continue
      for (const conn of [...list]) {
        if (keep !== null && conn.stream === keep) continue
        this._drop(conn, why)
      }
    }
  }

  // Closes one connection, counted once by why this peer closed it
  _drop(conn, why) {
    if (!conn.dropped) this.closed[why]++
    conn.dropped = true
    conn.destroy()
  }

  // Resolves with the raw reply; rejects with the remote's coded error, REQUEST_TIMEOUT,
  // or PEER_UNREACHABLE. The timeout covers connecting too, which the RPC's own does not (a
  // greeting's starts again at the open, see below).
  // opts.greeting: a hello, which a peer must answer in time to prove itself. A slow answer
  // fails it and closes the connection, and an unproven key that answers slowly or not at all
  // is suspected. The answer is timed from when the connection opened, and a greeting gets its
  // whole time once it has: under load the DHT is slow for everyone, and a connection that took
  // 2 s to open left an honest peer 1 s to answer. A connection that does not open within the
  // timeout fails the greeting as before.
  request(publicKey, method, value, opts = {}) {
    if (this.closing) return Promise.reject(AuctionError.PEER_CLOSED())
    const timeout = opts.timeout || this.timeout
    const conn = this._connection(publicKey)
    const started = Date.now()
    conn.used = started
    this.requests++
    const req = conn.request(method, value)
    // Since when the peer could answer: the request or, on a connection still being made, its
    // opening. Its share of the time is from then, less the time this process itself was late.
    const answerFrom = () => Math.max(started, conn.openedAt === null ? started : conn.openedAt)
    const answering = () => {
      const from = answerFrom()
      return Date.now() - from - lag.since(from)
    }
    const silent = (err) => {
      if (opts.greeting && !this.proven(conn.hex)) this.suspect(conn.hex)
      return err
    }

    return new Promise((resolve, reject) => {
      let timer = null
      const expire = () => {
        // A greeting is given its whole time once the connection is open. The time this
        // process itself was late does not count against the peer either: the timeout is
        // moved on by it, up to once more the timeout.
        const from = opts.greeting ? answerFrom() : started
        const wait = from + timeout + Math.min(lag.since(from), timeout) - Date.now()
        if (wait >= MIN_LAG_CREDIT) {
          timer = setTimeout(expire, wait)
          return
        }
        // A connection that went silent (the remote was killed) or never opened must not be
        // reused. An open one stays while this process is busy, but for a greeting: the silence
        // may be its own (its acks wait behind its work), and dropping and dialing again on a
        // busy machine is what tipped 1,000 peers into a storm of failed dials. A dead one is
        // dropped on the next timeout once the process is not busy, when UDX gives up on it (the
        // keep-alive sends something every 15 s), or when the restarted peer greets again.
        if (conn.openedAt === null || opts.greeting || !lag.busy()) {
          this._drop(conn, conn.openedAt === null ? 'unreachable' : 'timeout')
        }
        const what = conn.openedAt === null ? 'no connection' : 'no answer'
        reject(silent(AuctionError.REQUEST_TIMEOUT(`${method}: ${what} after ${timeout} ms`)))
      }
      timer = setTimeout(expire, timeout)

      req.then(
        (res) => {
          clearTimeout(timer)
          // A request given a longer time (a payment waits for confirmations) is slow by design
          const took = answering()
          if (took > SLOW_ANSWER && timeout <= this.timeout) {
            if (opts.greeting) {
              // A peer this slow would hold a connection without serving it
              this.disconnect(conn.hex, null, 'slow')
              return reject(silent(AuctionError.REQUEST_TIMEOUT(`${method} took ${took} ms`)))
            }
            this._slow(conn.hex)
          }
          resolve(res)
        },
        (err) => {
          clearTimeout(timer)
          safetyCatch(err)
          const coded = AuctionError.from(err)
          if (coded) return reject(coded)
          // An answer without one of our codes (another version, an unknown method) still
          // means the peer is alive and the connection good
          if (err && ANSWERED.has(err.code)) {
            return reject(AuctionError.PEER_REFUSED(`${method}: ${err.message}`))
          }
          this._drop(conn, 'unreachable')
          reject(AuctionError.PEER_UNREACHABLE(err && err.message))
        }
      )
    })
  }

  // Sends a one-way message on an open connection to a key, and never dials: false when there
  // is none. Nothing comes back and nothing waits for it. For news, which has nothing to answer:
  // an answer and its timer cost the receiver and the sender about as much as the news itself,
  // at every peer for every event. A lost one is made up by the next news, by Hypercore, or by
  // the sync.
  notify(hex, method, value) {
    if (this.closing) return false
    const list = this.bound.get(hex)
    if (list === undefined) return false
    for (let i = list.length - 1; i >= 0; i--) {
      const conn = list[i]
      if (conn.dropped || conn.openedAt === null) continue
      try {
        conn.event(method, value)
      } catch (err) {
        // The channel closed under it
        safetyCatch(err)
        continue
      }
      conn.used = Date.now()
      this.notices++
      return true
    }
    return false
  }

  // A key heard of by lookup, peer exchange or a request: greeted now if this peer wants more
  // connections, else kept as a candidate. Flooding keys only churns the candidates, which are
  // picked at random.
  discovered(publicKey) {
    const hex = b4a.toString(publicKey, 'hex')
    if (hex === this.id || this._greeting.has(hex)) return
    // A proven known peer is greeted by maintain; an unproven one only when discovery brings
    // it again and it is not connected
    if (this.peerTable.has(hex) && (this.proven(hex) || this.connected(hex))) return
    if (this.closing) return
    const failed = this._greetFailures.get(hex)
    if (failed !== undefined && failed.retryAt > Date.now()) return
    if (this.suspected(hex)) return
    const dial = this._room() && this._greeting.size < MAX_GREETINGS ? this.dials.take() : null
    if (dial === null) {
      this._candidate(publicKey, hex)
      return
    }
    this.candidates.delete(hex)
    this._greetWith(dial, hex, this._greet(publicKey, hex))
  }

  // A greeting under way holds its dial until its connection opens, or until it ends: making
  // the connection is what a busy process cannot afford, the wait for the answer costs it little
  _greetWith(dial, hex, greeting) {
    // On a connection already open (a key that came to this peer) it connects nothing
    const list = this.bound.get(hex) || []
    if (list.some((c) => c.openedAt !== null && !c.dropped)) dial()
    else this._dialing.set(hex, dial)
    const done = greeting.catch(safetyCatch).finally(() => {
      this._greeting.delete(hex)
      if (this._dialing.get(hex) === dial) this._dialing.delete(hex)
      dial()
    })
    this._greeting.set(hex, done)
  }

  _dialed(hex) {
    const dial = this._dialing.get(hex)
    if (dial === undefined) return
    this._dialing.delete(hex)
    dial()
  }

  _candidate(publicKey, hex) {
    if (this.candidates.has(hex)) return
    if (this.candidates.size >= MAX_CANDIDATES) {
      const keys = [...this.candidates.keys()]
      this.candidates.delete(keys[Math.floor(Math.random() * keys.length)])
    }
    this.candidates.set(hex, publicKey)
  }

  // Resolves once every greeting under way has ended, or after timeout ms
  async greeted({ timeout = 0 } = {}) {
    const deadline = timeout === 0 ? Infinity : Date.now() + timeout
    while (this._greeting.size > 0 && Date.now() < deadline) {
      const all = Promise.allSettled([...this._greeting.values()])
      if (deadline === Infinity) await all
      else await Promise.race([all, sleep(deadline - Date.now())])
    }
  }

  succeed(hex) {
    this._suspects.delete(hex)
    this.peerTable.succeed(hex, Date.now())
  }

  // A coded answer means the peer is alive; only silence and lost connections count, and
  // silence only while this process is not busy itself
  fail(hex, err) {
    if (err.code !== 'REQUEST_TIMEOUT' && err.code !== 'PEER_UNREACHABLE') return false
    if (err.code === 'REQUEST_TIMEOUT' && lag.busy()) return false
    return this.peerTable.fail(hex, Date.now())
  }

  // A slow answer counts as a failure, unless this process is busy; a peer that keeps answering
  // slowly is dropped and its connection freed for another
  _slow(hex) {
    if (lag.busy()) return
    if (!this.peerTable.fail(hex, Date.now())) return
    this.disconnect(hex, null, 'slow')
    this.ondrop(hex)
  }

  // A greeting that went unanswered or came back slow: the key is not greeted again for a
  // while (it is kept out of the candidates), so keys that answer slowly on purpose cannot keep
  // this peer's few outgoing slots busy with greetings of them
  suspect(hex) {
    const before = this._suspects.get(hex)
    // Failures while already suspected (greetings under way when it began) do not add up
    if (before !== undefined && before.until > Date.now()) return
    const wait = before === undefined ? SUSPECT_MIN : Math.min(SUSPECT_MAX, before.wait * 2)
    this._suspects.delete(hex)
    this._suspects.set(hex, { until: Date.now() + wait, wait })
    if (this._suspects.size > MAX_SUSPECTS) {
      this._suspects.delete(this._suspects.keys().next().value)
    }
    this._greetFailures.delete(hex)
    this.candidates.delete(hex)
  }

  proven(hex) {
    const info = this.peerTable.get(hex)
    return info !== null && info.proven
  }

  suspected(hex) {
    const suspect = this._suspects.get(hex)
    return suspect !== undefined && suspect.until > Date.now()
  }

  async _greet(publicKey, hex) {
    try {
      await this.greet(publicKey)
    } catch (err) {
      if (this.suspected(hex)) throw err
      // Connecting fails under load too (a storm of new connections): retry soon, then back
      // off, then forget the key until discovery brings it again
      const failures = (this._greetFailures.get(hex) || { failures: 0 }).failures + 1
      if (failures >= GREET_ATTEMPTS) this._greetFailures.delete(hex)
      else {
        const retryAt = Date.now() + GREET_BACKOFF * 2 ** (failures - 1)
        this._greetFailures.set(hex, { publicKey, failures, retryAt })
      }
      throw err
    }
    this._greetFailures.delete(hex)
  }

  // Known peers without a connection are greeted again, which reconnects and resumes
  // replication; one that keeps failing is backed off, then dropped by the owner. Runs every
  // maintainInterval once started; a caller (a test) may run a round now instead of waiting.
  maintain() {
    if (this.closing) return
    const now = Date.now()
    // Known peers that proved themselves (an unproven key is never greeted again from the
    // table, only when discovery brings it); then candidates at random
    const known = this.peerTable.available(now).filter((info) => info.proven)
    // With enough connections, a peer whose connection just ended (it may have evicted this
    // one) is left alone for a while: greeting it again at once only churns connections
    const enough = this.bound.size >= this.targetOutgoing
    for (const info of known) {
      if (!this._room() || this._greeting.size >= MAX_GREETINGS) break
      if (this.connected(info.hex) || this._greeting.has(info.hex)) continue
      if (enough && now - info.droppedAt < RECONNECT_AFTER) continue
      const dial = this.dials.take()
      if (dial === null) break
      this._greetWith(dial, info.hex, this.greet(info.publicKey))
    }
    // Picked at random, keys drawn once
    let keys = null
    while (
      this._room() &&
      this.candidates.size > 0 &&
      this._greeting.size < MAX_GREETINGS &&
      this.dials.open
    ) {
      if (keys === null) keys = [...this.candidates.keys()]
      if (keys.length === 0) break
      const hex = keys.splice(Math.floor(Math.random() * keys.length), 1)[0]
      const publicKey = this.candidates.get(hex)
      // Taken out of the candidates meanwhile (greeted, suspected)
      if (publicKey === undefined) continue
      this.candidates.delete(hex)
      this.discovered(publicKey)
    }
    this.bound.evictAll()
    this._trim(now)
    this._prove(now)
    let retries = 0
    for (const failed of this._greetFailures.values()) {
      if (retries === GREET_RETRIES_PER_TICK || !this.dials.open) break
      if (failed.retryAt > now) continue
      retries++
      this.discovered(failed.publicKey)
    }
  }

  _connection(publicKey) {
    const hex = b4a.toString(publicKey, 'hex')
    const list = this.bound.get(hex)
    if (list && list.length > 0) return list[list.length - 1]
    return this._connect(publicKey, hex)
  }

  _connect(publicKey, hex) {
    const client = this.rpc.connect(publicKey, {
      keyPair: this.keyPair,
      capability: this.capability
    })
    // With a network secret the remote proves it knows it only in its handshake, which comes
    // after the stream opens: nothing is asked, answered or replicated on the connection before
    // (a remote without the secret would learn this peer's name, peers and logs)
    const verified = this.capability === null ? null : opened(client)
    const conn = {
      hex,
      outgoing: true,
      since: Date.now(),
      used: Date.now(),
      stream: null,
      openedAt: null,
      replicating: false,
      request: async (method, value) => {
        if (verified !== null) await verified
        return client.request(method, value, RAW)
      },
      event: (method, value) => client.rpc.event(method, value, RAW),
      destroy: () => {
        client.destroy()
        // Until the RPC is made (see clientStream), its destroy() leaves the stream connecting
        if (client.rpc === null) clientStream(client).destroy()
      }
    }
    const attach = () => {
      if (conn.stream !== null || client.rpc === null) return
      conn.stream = client.rpc.stream
      conn.stream.setKeepAlive(KEEP_ALIVE)
      for (const [method, { handler, encoding }] of this._responders) {
        client.rpc.respond(method, encoding, (req) => this._handle(handler, req, conn.stream))
      }
      this._replicate(conn)
    }
    if (verified === null) attach()
    client.on('open', () => {
      conn.openedAt = Date.now()
      this._dialed(hex)
      attach()
    })
    client.on('close', () => this.bound.remove(conn))
    // Nor does the client emit 'close' for a stream that closed before its RPC was made; the
    // RPC forgets a client only on its 'close'
    clientStream(client).once('close', () => {
      if (client.rpc === null) client.emit('close')
    })
    this.bound.add(conn)
    // A request to a key not connected (a bid to a seller) makes room if it has to
    this.bound.evict()
    return conn
  }

  _onincoming(rpc) {
    const hex = b4a.toString(rpc.stream.remotePublicKey, 'hex')
    rpc.stream.setKeepAlive(KEEP_ALIVE)
    const conn = {
      hex,
      outgoing: false,
      since: Date.now(),
      used: Date.now(),
      stream: rpc.stream,
      openedAt: null,
      replicating: false,
      request: (method, value) => rpc.request(method, value, RAW),
      event: (method, value) => rpc.event(method, value, RAW),
      destroy: () => rpc.destroy()
    }
    rpc.on('open', () => {
      conn.openedAt = Date.now()
      this._dialed(hex)
    })
    rpc.on('close', () => this.bound.remove(conn))
    this.bound.add(conn)
    if (this.bound.evict() === hex) return
    if (this.capability === null) {
      this._replicate(conn)
      return
    }
    // Logs only to a caller that proved the network secret: the server checks it on 'open',
    // before this listener runs, and destroys the connection if it fails
    rpc.on('open', () => {
      if (!rpc.closed && !rpc.stream.destroying) this._replicate(conn)
    })
  }

  // Hypercore replication joins the connection's Protomux: the own log and every log a remote
  // opens are replicated on it; the owner attaches the logs it wants from this remote
  _replicate(conn) {
    conn.replicating = true
    this.store.replicate(conn.stream)
    this.onreplicate(conn.hex, conn.stream.userData)
  }

  // The Protomux of every replicating connection to a key, or of up to n others at random
  muxers(hex) {
    const list = this.bound.get(hex) || []
    return list.filter((c) => c.replicating).map((c) => c.stream.userData)
  }

  randomMuxers(n, except) {
    const all = []
    for (const [hex, list] of this.bound) {
      if (hex === except) continue
      for (const c of list) if (c.replicating) all.push(c.stream.userData)
    }
    const out = []
    while (out.length < n && all.length > 0) {
      out.push(all.splice(Math.floor(Math.random() * all.length), 1)[0])
    }
    return out
  }

  // A connected key that has not proved itself (its greeting back came slow once, on a busy
  // machine) is greeted again once it is no longer suspected: an honest peer proves itself and
  // gets news again; a Sybil fails, and waits twice as long for the next try
  _prove(now) {
    for (const [hex, list] of this.bound) {
      if (this.suspected(hex)) continue
      if (now - Math.min(...list.map((c) => c.since)) < PROTECT_AFTER) continue
      const proving = this.prove(b4a.from(hex, 'hex'))
      if (proving === null) continue
      proving.catch((err) => {
        safetyCatch(err)
        // Whatever the failure, not again before the suspicion runs out (suspect() leaves a
        // suspicion under way as it is)
        this.suspect(hex)
      })
    }
  }

  // Greets a key that has not proved itself, once at a time: the greeting back to a peer that
  // came to this one, and the later tries of _prove. Null when proven or already under way.
  prove(publicKey) {
    const hex = b4a.toString(publicKey, 'hex')
    if (this.proven(hex) || this._proving.has(hex)) return null
    this._proving.add(hex)
    return this.greet(publicKey).finally(() => this._proving.delete(hex))
  }

  // Outgoing connections past the target that nobody used for IDLE_CONNECTION are closed,
  // the longest unused first
  _trim(now) {
    let excess = this.outgoing - this.targetOutgoing
    if (excess <= 0) return
    const idle = []
    for (const [hex, list] of this.bound) {
      if (!list.some((c) => c.outgoing) || this.bound.inflight(hex) > 0) continue
      const used = Math.max(...list.map((c) => c.used))
      if (now - used >= IDLE_CONNECTION) idle.push({ hex, used })
    }
    idle.sort((a, b) => a.used - b.used)
    for (const { hex } of idle) {
      if (excess-- <= 0) break
      this.disconnect(hex, null, 'trimmed')
    }
  }

  // The last connection to a key closed
  _ondisconnect(conn) {
    const info = this.peerTable.get(conn.hex)
    if (info !== null) info.droppedAt = Date.now()
    if (conn.replicating && !this.closing) this.ondisconnect(conn.hex)
  }

  async _handle(handler, req, stream) {
    if (req === null) req = b4a.alloc(0)
    const remote = stream.remotePublicKey
    const hex = b4a.toString(remote, 'hex')
    if (this.bound.inflight(hex) >= this.maxInflight) throw AuctionError.BUSY()
    for (const conn of this.bound.get(hex) || []) conn.used = Date.now()
    this.bound.beginRequest(hex)
    try {
      if (req.byteLength > MAX_PAYLOAD) {
        throw AuctionError.PAYLOAD_TOO_LARGE(`Payload is larger than ${MAX_PAYLOAD} bytes`)
      }
      const res = await handler(req, remote, stream)
      return res || b4a.alloc(0)
    } catch (err) {
      if (err instanceof AuctionError) throw err
      this.onerror(err)
      throw AuctionError.INTERNAL(err && err.message)
    } finally {
      this.bound.endRequest(hex)
    }
  }
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms).unref())
}

// Resolves once the client's RPC is open and the remote's handshake checked; rejects if it
// closes first
function opened(client) {
  const promise = new Promise((resolve, reject) => {
    client.once('open', resolve)
    client.once('close', () => reject(new Error('The connection closed before it opened')))
  })
  promise.catch(noop)
  return promise
}

function noop() {}

Network.RAW = RAW
Network.FRAMED = FRAMED

// stats() of a network not made yet
Network.NO_STATS = {
  connections: 0,
  peers: 0,
  requests: 0,
  notices: 0,
  closed: {},
  packetsSent: 0,
  bytesSent: 0,
  bytesReceived: 0
}

module.exports = Network
