const net = require('net')
const fs = require('fs')
const os = require('os')
const path = require('path')
const crypto = require('hypercore-crypto')
const b4a = require('b4a')
const safetyCatch = require('safety-catch')
const AuctionError = require('../errors')
const { runCommand, resolveId } = require('./commands')
const format = require('./format')

// A command line: an `open` carries a picture of up to 2 MiB, 2.7 MiB in base64
const MAX_LINE = 4 * 1024 * 1024
const WATCHED = format.NOTIFICATIONS
// Unix socket paths are limited to about 104 bytes
const MAX_SOCKET_PATH = 100

function socketPath(storage) {
  const dir = path.resolve(storage)
  const inside = path.join(dir, 'control.sock')
  if (inside.length <= MAX_SOCKET_PATH) return inside
  const id = b4a.toString(crypto.hash(b4a.from(dir)), 'hex').slice(0, 16)
  return path.join(socketDir(), `${id}.sock`)
}

// Where the sockets of long storage paths go: a folder of this user's that nobody else may
// enter, so nobody else can create or answer a socket there
function socketDir() {
  const base = process.env.XDG_RUNTIME_DIR || os.tmpdir()
  return path.join(base, `hyperauction-${uid() === null ? os.userInfo().username : uid()}`)
}

// Throws CONTROL_SOCKET_UNSAFE unless dir is a folder (not a link) of this user's with no
// permission for group or others; creates it (mode 0700) first if asked
function checkPrivateDir(dir, { create = false } = {}) {
  if (create) {
    try {
      fs.mkdirSync(dir, { mode: 0o700 })
    } catch (err) {
      if (err.code !== 'EEXIST') throw err
    }
  }
  const st = fs.lstatSync(dir)
  if (!st.isDirectory()) {
    throw AuctionError.CONTROL_SOCKET_UNSAFE(`${dir} is not a folder: remove it`)
  }
  if (uid() !== null && st.uid !== uid()) {
    throw AuctionError.CONTROL_SOCKET_UNSAFE(
      `${dir} belongs to user ${st.uid}, not to you (${uid()}): remove it, or set TMPDIR`
    )
  }
  if ((st.mode & 0o077) !== 0) {
    throw AuctionError.CONTROL_SOCKET_UNSAFE(
      `${dir} is open to other users (mode ${(st.mode & 0o777).toString(8)}): run chmod 700 ${dir}`
    )
  }
}

// A socket is trusted only if this user made it: anyone else's could answer anything
function checkSocketOwner(file, st) {
  if (!st.isSocket()) {
    throw AuctionError.CONTROL_SOCKET_UNSAFE(`${file} is not a socket: remove it`)
  }
  if (uid() !== null && st.uid !== uid()) {
    throw AuctionError.CONTROL_SOCKET_UNSAFE(
      `${file} belongs to user ${st.uid}, not to you (${uid()}): it is not your peer's`
    )
  }
}

function isOutside(file, storage) {
  return path.dirname(file) !== path.resolve(storage)
}

function uid() {
  return typeof process.getuid === 'function' ? process.getuid() : null
}

// Line-delimited JSON over a Unix socket that only the owner may open (mode 0600).
// Request: { "cmd": "bid", "args": { ... } }; reply: { "ok": true, "result": ... }
// or { "ok": false, "error": { "code", "message" } }. "watch" streams { "event", "data" } lines,
// the first one { "event": "watching" } once the watcher is subscribed. A "pay" asked with
// "progress": true gets { "progress": { auction, step, ... } } lines before its reply. "names"
// answers { publicKey, name, peers: [{ publicKey, name, online }] }, for readable output.
// "stop" closes the peer through opts.onstop, answers { "stopped": true } once it is closed,
// then calls opts.onstopped.
class ControlServer {
  constructor(peer, storage, opts = {}) {
    this.peer = peer
    this.storage = path.resolve(storage)
    this.path = socketPath(storage)
    this.ctx = { storage: this.storage, startedAt: Date.now() }
    this.server = net.createServer((socket) => this._onconnection(socket))
    this.sockets = new Set()
    this.onerror = opts.onerror || noop
    this.onstop = opts.onstop || null
    this.onstopped = opts.onstopped || noop
    // The connection that asked to stop: answered after the close, so not closed with the rest
    this._stopper = null
    this._stopping = null
  }

  async listen() {
    if (isOutside(this.path, this.storage)) {
      checkPrivateDir(path.dirname(this.path), { create: true })
    }
    await removeStale(this.path)
    const mask = process.umask(0o177)
    try {
      await new Promise((resolve, reject) => {
        this.server.once('error', reject)
        this.server.listen(this.path, () => {
          this.server.off('error', reject)
          resolve()
        })
      })
    } finally {
      process.umask(mask)
    }
    fs.chmodSync(this.path, 0o600)
  }

  async close() {
    for (const socket of this.sockets) socket.destroy()
    const closed = new Promise((resolve) => this.server.close(() => resolve()))
    // The server closes once the stopper has its answer, after this
    if (this._stopper === null) await closed
  }

  _onconnection(socket) {
    this.sockets.add(socket)
    socket.on('close', () => this.sockets.delete(socket))
    socket.on('error', noop)
    socket.setEncoding('utf-8')

    let buffered = ''
    socket.on('data', (chunk) => {
      buffered += chunk
      if (buffered.length > MAX_LINE && buffered.indexOf('\n') === -1) {
        reply(socket, null, AuctionError.PAYLOAD_TOO_LARGE('Command line is too long'))
        socket.end()
        return
      }
      let nl
      while ((nl = buffered.indexOf('\n')) !== -1) {
        const line = buffered.slice(0, nl)
        buffered = buffered.slice(nl + 1)
        this._onrequest(socket, line).catch(safetyCatch)
      }
    })
  }

  async _onrequest(socket, line) {
    let req
    try {
      req = JSON.parse(line)
    } catch {
      return reply(socket, null, AuctionError.BAD_REQUEST('Command is not valid JSON'))
    }
    if (req === null || typeof req !== 'object') {
      return reply(socket, null, AuctionError.BAD_REQUEST('Command must be a JSON object'))
    }
    if (req.cmd === 'watch') return this._watch(socket)
    if (req.cmd === 'stop' && this.onstop !== null) return this._stop(socket)
    let unlisten = noop
    try {
      if (req.cmd === 'names') return reply(socket, await peerNames(this.peer), null)
      if (req.cmd === 'pay' && req.progress === true) {
        unlisten = await this._progress(socket, req.args)
      }
      const result = await runCommand(this.peer, req.cmd, req.args || {}, this.ctx)
      reply(socket, result, null)
    } catch (err) {
      if (!(err instanceof AuctionError)) this.onerror(err)
      reply(socket, null, err)
    } finally {
      unlisten()
    }
  }

  // The progress of a payment of this auction, on the connection that asked for it
  async _progress(socket, args) {
    const id = await resolveId(this.peer, args && args.id).catch(() => null)
    if (id === null) return noop
    const onprogress = (p) => {
      if (p.auction !== id || socket.destroyed) return
      socket.write(JSON.stringify({ progress: p }) + '\n')
    }
    this.peer.on('payment-progress', onprogress)
    return () => this.peer.off('payment-progress', onprogress)
  }

  async _stop(socket) {
    if (this._stopper !== null) {
      await this._stopping
      return reply(socket, { stopped: true }, null)
    }
    this._stopper = socket
    this.sockets.delete(socket)
    this._stopping = Promise.resolve(this.onstop()).catch((err) => this.onerror(err))
    await this._stopping
    // Once the answer is out, or the asker gone
    let done = false
    const stopped = () => {
      if (done) return
      done = true
      this.onstopped()
    }
    if (socket.destroyed) return stopped()
    socket.once('close', stopped)
    socket.end(JSON.stringify({ ok: true, result: { stopped: true } }) + '\n', stopped)
  }

  _watch(socket) {
    const listeners = WATCHED.map((event) => {
      const fn = (data) => socket.write(JSON.stringify({ event, data }) + '\n')
      this.peer.on(event, fn)
      return [event, fn]
    })
    socket.on('close', () => {
      for (const [event, fn] of listeners) this.peer.off(event, fn)
    })
    // Tells the watcher that nothing from here on is missed
    const data = { publicKey: this.peer.id, name: this.peer.name }
    socket.write(JSON.stringify({ event: 'watching', data }) + '\n')
  }
}

function reply(socket, result, err) {
  if (socket.destroyed) return
  const msg =
    err === null
      ? { ok: true, result }
      : {
          ok: false,
          error:
            err && typeof err.code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(err.code)
              ? { code: err.code, message: String(err.message).replace(err.code + ': ', '') }
              : { code: 'INTERNAL', message: String(err && err.message) }
        }
  socket.write(JSON.stringify(msg) + '\n')
}

// A socket file left by a killed peer is removed; a live one means a peer is running
async function removeStale(file) {
  let st
  try {
    st = fs.lstatSync(file)
  } catch (err) {
    if (err.code === 'ENOENT') return
    throw err
  }
  checkSocketOwner(file, st)
  const alive = await new Promise((resolve) => {
    const socket = net.connect(file)
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
  if (alive) throw AuctionError.PEER_ALREADY_RUNNING(`A peer already listens on ${file}`)
  fs.unlinkSync(file)
}

class ControlClient {
  constructor(storage) {
    this.storage = path.resolve(storage)
    this.path = socketPath(storage)
  }

  async _connect() {
    const notRunning = () =>
      AuctionError.PEER_NOT_RUNNING(
        `No peer is running for ${this.storage} (start one with: hyperauction start --storage ${this.storage})`
      )
    let st
    try {
      if (isOutside(this.path, this.storage)) checkPrivateDir(path.dirname(this.path))
      st = fs.lstatSync(this.path)
    } catch (err) {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') throw notRunning()
      throw err
    }
    checkSocketOwner(this.path, st)

    const socket = await new Promise((resolve, reject) => {
      const socket = net.connect(this.path)
      socket.setEncoding('utf-8')
      const onerror = (err) => {
        if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') reject(notRunning())
        else if (err.code === 'EACCES') {
          reject(AuctionError.PEER_NOT_RUNNING(`Not allowed to open ${this.path}`))
        } else reject(err)
      }
      // Stays on: a later error ends the reading, and rejects nothing
      socket.on('error', onerror)
      socket.once('connect', () => resolve(socket))
    })
    return socket
  }

  // Sends one command and resolves with its result, or rejects with its coded error. A pay
  // tells opts.onprogress(progress) of each step as it happens.
  async request(cmd, args = {}, opts = {}) {
    const socket = await this._connect()
    const progress = typeof opts.onprogress === 'function'
    try {
      socket.write(JSON.stringify(progress ? { cmd, args, progress } : { cmd, args }) + '\n')
      for await (const msg of readLines(socket)) {
        if (msg.progress !== undefined) {
          if (progress) opts.onprogress(msg.progress)
          continue
        }
        if (msg.ok) return msg.result
        throw new AuctionError(msg.error.message, msg.error.code)
      }
      throw AuctionError.PEER_NOT_RUNNING('The peer closed the connection')
    } finally {
      socket.destroy()
    }
  }

  // nameOf(hex) for readable output: the peer's names of itself, its peers and offline sellers;
  // key prefixes if the peer cannot say
  async names() {
    try {
      return format.names(await this.request('names'))
    } catch {
      return format.short
    }
  }

  // Yields { event, data } as the peer emits them, until the peer goes away
  async *watch() {
    const socket = await this._connect()
    try {
      socket.write(JSON.stringify({ cmd: 'watch' }) + '\n')
      yield* readLines(socket)
    } finally {
      socket.destroy()
    }
  }
}

async function* readLines(socket) {
  let buffered = ''
  for await (const chunk of socket) {
    buffered += chunk
    let nl
    while ((nl = buffered.indexOf('\n')) !== -1) {
      const line = buffered.slice(0, nl)
      buffered = buffered.slice(nl + 1)
      yield JSON.parse(line)
    }
  }
}

// Who the peer knows by name: itself, its peers (their last word) and the authors of the logs it
// holds, kept while they are offline
async function peerNames(peer) {
  const peers =
    peer.greeting === null
      ? peer.peers().map((p) => ({ publicKey: p.publicKey, name: p.name, online: true }))
      : await peer.greeting.names()
  return { publicKey: peer.id, name: peer.name, peers }
}

function noop() {}

module.exports = {
  ControlServer,
  ControlClient,
  peerNames,
  socketPath,
  socketDir,
  checkPrivateDir
}
