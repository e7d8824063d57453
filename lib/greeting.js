const b4a = require('b4a')
const safetyCatch = require('safety-catch')
const m = require('./messages')
const crypto = require('./crypto')
const { METHODS } = require('./rpc')
const { MAX_NAME_BYTES, MAX_HELLO_PEERS } = require('./constants')

const BYE_TIMEOUT = 1000

// Hello both ways on every connection (name, own log length, how much of the other's log this
// peer holds, the run's instance, some proven peers), peer exchange, and bye.
class Greeting {
  constructor(opts) {
    this.net = opts.net
    this.view = opts.view
    this.log = opts.log
    this.logs = opts.logs
    this.directory = opts.directory
    this.forks = opts.forks
    this.name = opts.name
    // onown(length): a peer holds the own log this far
    this.onown = opts.onown
    this.emitter = opts.emitter
    // A random id of this run: a peer that sees it change drops connections to the old run
    this.instance = crypto.randomNonce()
    this._instances = new Map()
  }

  async greet(publicKey) {
    const hex = b4a.toString(publicKey, 'hex')
    let hello
    try {
      const req = m.encode(m.hello, this.hello(publicKey))
      const reply = await this.net.request(publicKey, METHODS.hello, req, { greeting: true })
      hello = m.decode(m.hello, reply, 'hello reply')
    } catch (err) {
      if (this.net.fail(hex, err)) this.removePeer(hex)
      throw err
    }
    this._meet(publicKey, hello)
    // Answered in time: proven, and greeted again after a restart
    this.net.succeed(hex)
    const info = this.net.peerTable.get(hex)
    if (info !== null) {
      this.view.stagePeer(hex, info.name)
      // Kept while this peer holds its log: its auctions keep this name while it is offline
      if (info.name) this.view.stageName(hex, info.name)
      this.view.scheduleFlush()
    }
  }

  // The names this peer knows: [{ publicKey, name, online }], online for the known peers (as
  // they said last), offline for the authors of logs it holds. The kept name of a key whose
  // log is no longer held is forgotten here.
  async names() {
    const known = new Map()
    let forgot = false
    for (const { publicKey, name } of await this.view.listNames()) {
      if (this._holds(publicKey) || this.net.peerTable.has(publicKey)) {
        known.set(publicKey, { publicKey, name, online: false })
      } else {
        this.view.stageName(publicKey, null)
        forgot = true
      }
    }
    if (forgot) this.view.scheduleFlush()
    for (const { publicKey, name } of this.net.peerTable.list()) {
      const kept = known.get(publicKey)
      known.set(publicKey, { publicKey, name: name || (kept ? kept.name : ''), online: true })
    }
    return [...known.values()]
  }

  // This peer holds a log of the key's: the key's name is kept while it is offline
  _holds(hex) {
    return this.logs.get(hex) !== undefined || this.logs.held(hex) > 0
  }

  hello(remote) {
    // Peer exchange passes on proven peers only: a Sybil's keys are not spread by honest peers
    const peers = this.net.peerTable.provenKeys()
    shuffle(peers)
    const length = this.log.core.length
    return {
      name: this.name,
      length,
      yours: this.logs.held(b4a.toString(remote, 'hex')),
      instance: this.instance,
      peers: peers.slice(0, MAX_HELLO_PEERS),
      tree: this.forks.entry(this.id, length).tree
    }
  }

  // A hello from a peer: answered with this peer's own
  onhello(remote, hello, stream) {
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
    return this.hello(remote)
  }

  _meet(publicKey, hello, exchange = true) {
    const hex = b4a.toString(publicKey, 'hex')
    this._instances.set(hex, hello.instance)
    const name = hello.name.slice(0, MAX_NAME_BYTES)
    const info = this.net.peerTable.add(publicKey, name, Date.now())
    if (info !== null) this.emitter.emit('peer-add', { publicKey: hex, name: info.name })
    this.onown(hello.yours)
    this.forks.heard(publicKey, hello.length, hello.tree, false, publicKey)
    if (hello.length > 0) this.logs.follow(publicKey, null, publicKey, hello.length)
    // What it knows of others (peers, its logs directory) is asked only of a peer that proved
    // itself: a Sybil's hello costs a greeting back, not a directory read
    if (!exchange) return
    for (const key of hello.peers.slice(0, MAX_HELLO_PEERS)) this.net.discovered(key)
    this.directory.readOnce(publicKey)
  }

  onbye(remote) {
    this.removePeer(b4a.toString(remote, 'hex'))
  }

  // A peer that left, kept failing or was pushed out of the bounded table: forgotten, also on
  // disk (evicted, it is already out of the table)
  removePeer(hex) {
    const info = this.net.peerTable.remove(hex)
    this.view.stagePeer(hex, null)
    if (!this._holds(hex)) this.view.stageName(hex, null)
    this.view.scheduleFlush()
    if (info !== null) this.emitter.emit('peer-remove', { publicKey: hex, name: info.name })
  }

  async sayBye() {
    await Promise.allSettled(
      this.net.connectedKeys().map((hex) =>
        this.net.request(b4a.from(hex, 'hex'), METHODS.bye, b4a.alloc(0), {
          timeout: BYE_TIMEOUT
        })
      )
    )
  }
}

function shuffle(list) {
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    const tmp = list[i]
    list[i] = list[j]
    list[j] = tmp
  }
}

module.exports = Greeting
