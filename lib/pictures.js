const ReadyResource = require('ready-resource')
const Hyperblobs = require('hyperblobs')
const Hypercore = require('hypercore')
const hypercoreCrypto = require('hypercore-crypto')
const b4a = require('b4a')
const c = require('compact-encoding')
const safetyCatch = require('safety-catch')
const AuctionError = require('./errors')
const crypto = require('./crypto')
const { closeChannels, settle } = require('./compat')
const { MAX_PICTURE_BYTES, PICTURE_TYPES } = require('./constants')

// A fetch fails when no connected peer has sent anything of the picture for this long
const FETCH_TIMEOUT = 10000
// Blocks of one picture (this peer writes 64 KiB blocks: 32 for 2 MiB)
const MAX_PICTURE_BLOCKS = 1024
// Pictures of other sellers kept to serve on: at most these bytes and cores, the least recently
// fetched going first (its storage cleared)
const MAX_HELD_BYTES = 256 * 1024 * 1024
const MAX_HELD_CORES = 1024
// The view's meta row that lists them, kept across restarts
const HELD_META = 'pictures'
// A seller's pictures core is signed by its own key pair under this namespace: its key follows
// from the seller's public key, so an opening cannot name another core (a log, another's
// pictures) as its picture's
const [NS_PICTURES] = hypercoreCrypto.namespace('hyperauction/pictures', 1)

const CUT_SHORT = new Set(['SESSION_CLOSED', 'REQUEST_CANCELLED', 'REQUEST_TIMEOUT'])

const NAMES = {
  'image/png': 'a PNG picture',
  'image/jpeg': 'a JPEG picture',
  'image/webp': 'a WebP picture',
  'image/gif': 'a GIF picture'
}

const heldEntry = {
  preencode(state, e) {
    c.fixed32.preencode(state, e.key)
    c.uint.preencode(state, e.bytes)
  },
  encode(state, e) {
    c.fixed32.encode(state, e.key)
    c.uint.encode(state, e.bytes)
  },
  decode(state) {
    return { key: c.fixed32.decode(state), bytes: c.uint.decode(state) }
  }
}
const heldList = c.array(heldEntry)

// The pictures of items: this peer's own in its Hyperblobs core, and those of other sellers it
// fetched, each only when asked for (an auction shown), only its byte range, from any connected
// peer that holds it, checked against the hash its seller signed. What it fetched it keeps and
// serves on, within MAX_HELD_BYTES. A remote may open the own pictures core on any connection, and
// a held one only within Logs' bound on the cores one connection may open (servedPicture).
class Pictures extends ReadyResource {
  constructor(opts) {
    super()
    this.store = opts.store
    this.view = opts.view
    this.net = opts.net || null
    this.keyPair = opts.keyPair
    this.timeout = opts.timeout || FETCH_TIMEOUT
    this.maxHeldBytes = opts.maxHeldBytes || MAX_HELD_BYTES
    this.emitter = opts.emitter
    this.key = picturesKey(this.keyPair.publicKey)
    this.heldBytes = 0
    this._ownId = discoveryHex(this.key)
    // The own core, opened at the first picture put or read
    this._own = null
    // Other sellers' cores held, by discovery key (hex), the least recently fetched first
    this._held = new Map()
    // Cores being fetched from, by discovery key: { core, muxers, users }
    this._fetching = new Map()
    // Fetches under way, by picture: asked twice, fetched once
    this._gets = new Map()
    // Sessions reading a picture: closed at close, which ends their fetches
    this._sessions = new Set()
    // Cores being forgotten, by discovery key: a fetch of one waits until it is cleared
    this._clearing = new Map()
  }

  async _open() {
    const saved = await this.view.getMeta(HELD_META)
    if (saved === null) return
    for (const entry of c.decode(heldList, saved)) {
      this._held.set(discoveryHex(entry.key), entry)
      this.heldBytes += entry.bytes
    }
  }

  async _close() {
    for (const session of this._sessions) session.close().catch(safetyCatch)
    await Promise.allSettled([...this._gets.values()])
    while (this._clearing.size > 0) await Promise.allSettled([...this._clearing.values()])
    if (this._own !== null) {
      const own = await this._own.catch(() => null)
      if (own !== null) {
        await settle(own.core)
        await own.core.close()
      }
    }
  }

  // Pictures cores held, the own aside
  get held() {
    return this._held.size
  }

  // Whether a remote may open a core of this peer's (by discovery key, hex) on a connection to
  // fetch a picture: 'own' (the own core), 'held' (another seller's, within the bound on cores
  // served), or null
  servedPicture(id) {
    if (id === this._ownId) return 'own'
    if (this._held.has(id) || this._fetching.has(id)) return 'held'
    return null
  }

  // Stores a picture in the own core and resolves with its reference for an opening: data is
  // its bytes, declaredType its media type if the caller gave one (the bytes must be of it)
  async put(data, declaredType) {
    if (this.closing) throw AuctionError.PEER_CLOSED()
    const type = checkPicture(data, declaredType)
    const { blobs } = await this._ownCore()
    const id = await blobs.put(data)
    return {
      core: this.key,
      blockOffset: id.blockOffset,
      blockLength: id.blockLength,
      byteOffset: id.byteOffset,
      byteLength: id.byteLength,
      hash: crypto.hash(data),
      type
    }
  }

  // The picture of an auction (its view): { type, data, hash (hex), size }
  async of(view) {
    if (!view.picture) {
      throw AuctionError.NO_PICTURE(`Auction ${b4a.toString(view.id, 'hex')} has no picture`)
    }
    const data = await this.get(view.picture, view.seller)
    const hash = b4a.toString(view.picture.hash, 'hex')
    return { type: view.picture.type, data, hash, size: data.byteLength }
  }

  // The bytes of a picture an auction of seller (its public key) references: from storage, else
  // from any connected peer that holds them. Rejects with PICTURE_UNAVAILABLE when no peer sends
  // any of it for timeout ms, PICTURE_CORRUPT when the bytes are not the ones the seller signed.
  get(ref, seller) {
    if (!b4a.equals(ref.core, picturesKey(seller))) {
      return Promise.reject(
        AuctionError.PICTURE_CORRUPT('The picture is not in its seller’s pictures core')
      )
    }
    const blocks = ref.blockLength
    if (blocks === 0 || blocks > MAX_PICTURE_BLOCKS || blocks > ref.byteLength) {
      return Promise.reject(
        AuctionError.PICTURE_CORRUPT(`A picture is 1 to ${MAX_PICTURE_BLOCKS} blocks`)
      )
    }
    if (ref.byteLength === 0 || ref.byteLength > MAX_PICTURE_BYTES) {
      return Promise.reject(
        AuctionError.PICTURE_CORRUPT(`A picture is 1 to ${MAX_PICTURE_BYTES} bytes`)
      )
    }
    const id = [ref.blockOffset, blocks, ref.byteOffset, ref.byteLength]
      .concat([b4a.toString(ref.core, 'hex'), b4a.toString(ref.hash, 'hex')])
      .join(':')
    let getting = this._gets.get(id)
    if (getting === undefined) {
      getting = this._get(ref, seller).finally(() => this._gets.delete(id))
      this._gets.set(id, getting)
    }
    return getting
  }

  // A new connection: the cores being fetched ask it too
  onconnection(mux) {
    for (const fetch of this._fetching.values()) attach(fetch, mux)
  }

  async _get(ref, seller) {
    if (this.closing) throw AuctionError.PEER_CLOSED()
    const own = b4a.equals(ref.core, this.key)
    while (this._clearing.has(discoveryHex(ref.core))) {
      await this._clearing.get(discoveryHex(ref.core))
    }
    const fetch = own ? null : this._fetch(seller)
    // Blocks of the picture this fetch downloaded
    const got = new Set()
    let held = true
    let session = null
    try {
      const base = own ? (await this._ownCore()).core : fetch.core
      await base.ready()
      session = base.session()
      this._sessions.add(session)
      // Made after close began, it would not be closed with the others
      if (this.closing) throw AuctionError.PEER_CLOSED()
      await session.ready()
      const end = ref.blockOffset + ref.blockLength
      held = session.length >= end && (await session.has(ref.blockOffset, end))
      if (!held && own) {
        throw AuctionError.PICTURE_UNAVAILABLE('This peer’s storage no longer holds its picture')
      }
      const data = held
        ? await new Hyperblobs(session).get(ref, { wait: false })
        : await this._download(fetch, session, ref, seller, got)
      if (data === null || data.byteLength !== ref.byteLength) {
        throw AuctionError.PICTURE_CORRUPT(
          `The picture is ${data === null ? 'missing' : data.byteLength} bytes, not the ${ref.byteLength} its seller signed`
        )
      }
      if (!b4a.equals(crypto.hash(data), ref.hash)) {
        throw AuctionError.PICTURE_CORRUPT(
          'The picture’s bytes do not match the hash its seller signed'
        )
      }
      if (!own) this._hold(ref.core, held ? 0 : ref.byteLength)
      return data
    } catch (err) {
      // What was fetched for nothing is not kept
      if (got.size > 0 && fetch.core.opened && !fetch.core.closing) {
        for (const index of got) await fetch.core.clear(index, index + 1).catch(safetyCatch)
      }
      throw this._coded(err)
    } finally {
      if (session !== null) {
        this._sessions.delete(session)
        await session.close().catch(safetyCatch)
      }
      if (fetch !== null) await this._release(fetch)
    }
  }

  // Waits for a signed length that holds the picture, checks that its blocks hold exactly its
  // bytes (their sizes are in the signed tree: a seller cannot make this peer download more than
  // byteLength), then downloads them into got. Stalls fail it (see FETCH_TIMEOUT).
  async _download(fetch, session, ref, seller, got) {
    const end = ref.blockOffset + ref.blockLength
    const stall = watchStall(fetch.core, this.timeout, () => session.close().catch(safetyCatch))
    const ondownload = (index) => {
      if (index >= ref.blockOffset && index < end) got.add(index)
    }
    fetch.core.on('download', ondownload)
    try {
      this._reach(fetch, seller)
      await grown(session, end)
      const first = await session.seek(ref.byteOffset)
      const last = await session.seek(ref.byteOffset + ref.byteLength)
      if (first[0] !== ref.blockOffset || first[1] !== 0 || last[0] !== end || last[1] !== 0) {
        throw AuctionError.PICTURE_CORRUPT('The picture’s blocks do not hold its bytes')
      }
      return await new Hyperblobs(session).get(ref)
    } catch (err) {
      if (stall.stalled && !this.closing) {
        throw AuctionError.PICTURE_UNAVAILABLE(
          `No connected peer sent the picture in ${this.timeout} ms: its seller and the peers that fetched it are offline`
        )
      }
      throw err
    } finally {
      stall.stop()
      fetch.core.off('download', ondownload)
    }
  }

  // Asks every connection for the core, and connects to the seller if there is room
  _reach(fetch, seller) {
    if (this.net === null) return
    for (const hex of this.net.connectedKeys()) {
      for (const mux of this.net.muxers(hex)) attach(fetch, mux)
    }
    if (!this.net.connected(b4a.toString(seller, 'hex'))) this.net.discovered(seller)
  }

  // The session a seller's core is fetched with, shared by the fetches under way
  _fetch(seller) {
    const manifest = picturesManifest(seller)
    const id = discoveryHex(Hypercore.key(manifest))
    let fetch = this._fetching.get(id)
    if (fetch === undefined) {
      const core = this.store.get({ manifest })
      fetch = { id, core, muxers: new Set(), users: 0 }
      this._fetching.set(id, fetch)
    }
    fetch.users++
    return fetch
  }

  // The last fetch of a core is over: its channels close, so that the core closes here and on
  // the peers it came from (a remote asking later opens it again through Logs' bound)
  async _release(fetch) {
    if (--fetch.users > 0) return
    this._fetching.delete(fetch.id)
    closeChannels(fetch.core)
    await settle(fetch.core)
    await fetch.core.close().catch(safetyCatch)
  }

  _ownCore() {
    if (this._own === null) {
      const manifest = picturesManifest(this.keyPair.publicKey)
      const core = this.store.get({ manifest, keyPair: this.keyPair })
      this._own = core.ready().then(() => ({ core, blobs: new Hyperblobs(core) }))
      this._own.catch(safetyCatch)
    }
    return this._own
  }

  // A picture of another seller is held (bytes: newly fetched): counted, the least recently
  // fetched forgotten past the bound, the list kept in the view when it changed
  _hold(key, bytes) {
    const id = discoveryHex(key)
    const entry = this._held.get(id) || { key, bytes: 0 }
    const known = this._held.delete(id)
    entry.bytes += bytes
    this._held.set(id, entry)
    if (known && bytes === 0) return
    this.heldBytes += bytes
    for (const [other, old] of this._held) {
      if (this.heldBytes <= this.maxHeldBytes && this._held.size <= MAX_HELD_CORES) break
      if (other === id || this._fetching.has(other)) continue
      this._held.delete(other)
      this.heldBytes -= old.bytes
      this._forget(other, old.key)
    }
    this.view.stageMeta(HELD_META, c.encode(heldList, [...this._held.values()]))
    this.view.scheduleFlush()
  }

  // Clears what storage holds of a pictures core; RocksDB frees the disk once it compacts
  _forget(id, key) {
    const clearing = (async () => {
      const core = this.store.get({ key, createIfMissing: false })
      try {
        await core.ready()
        await core.purge()
      } finally {
        await core.close().catch(safetyCatch)
      }
    })()
      .catch((err) => {
        if (!this.closing) this.emitter.emit('warning', err)
      })
      .finally(() => this._clearing.delete(id))
    this._clearing.set(id, clearing)
  }

  // Hypercore's errors of a fetch cut short (its core cleared under it, say) as coded ones
  _coded(err) {
    if (err instanceof AuctionError) return err
    if (this.closing) return AuctionError.PEER_CLOSED()
    if (err && CUT_SHORT.has(err.code)) {
      return AuctionError.PICTURE_UNAVAILABLE(`The fetch of the picture stopped: ${err.code}`)
    }
    return err
  }
}

// The bytes are a picture of a type taken, within the size: resolves its media type. A declared
// type must be the one the bytes are.
function checkPicture(data, declaredType) {
  if (!b4a.isBuffer(data)) throw AuctionError.INVALID_ARGUMENT('A picture is given as its bytes')
  if (data.byteLength > MAX_PICTURE_BYTES) {
    throw AuctionError.PICTURE_TOO_LARGE(
      `The picture is ${data.byteLength} bytes: at most ${MAX_PICTURE_BYTES} (2 MiB) are taken`
    )
  }
  const declared =
    declaredType === undefined || declaredType === null || declaredType === ''
      ? null
      : String(declaredType).toLowerCase()
  if (declared !== null && !PICTURE_TYPES.includes(declared)) {
    throw AuctionError.PICTURE_NOT_IMAGE(
      `${String(declaredType).slice(0, 64)} is not a picture type taken (${PICTURE_TYPES.join(', ')})`
    )
  }
  const type = pictureType(data)
  if (type === null) {
    throw AuctionError.PICTURE_NOT_IMAGE(
      `The file is not a PNG, JPEG, WebP or GIF picture: ${describeBytes(data)}`
    )
  }
  if (declared !== null && declared !== type) {
    throw AuctionError.PICTURE_NOT_IMAGE(
      `The picture is declared ${declared}, but its bytes are ${NAMES[type]} (${type})`
    )
  }
  return type
}

// The media type the bytes start as (their magic bytes), or null
function pictureType(data) {
  const starts = (bytes, at = 0) => bytes.every((b, i) => data[at + i] === b)
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png'
  if (starts([0xff, 0xd8, 0xff])) return 'image/jpeg'
  if (ascii(data, 0, 6) === 'GIF87a' || ascii(data, 0, 6) === 'GIF89a') return 'image/gif'
  if (ascii(data, 0, 4) === 'RIFF' && ascii(data, 8, 12) === 'WEBP') return 'image/webp'
  return null
}

// What bytes that are no picture taken look like, for the error that refuses them
function describeBytes(data) {
  if (data.byteLength === 0) return 'it is empty'
  const head = ascii(data, 0, 16)
  if (head.startsWith('%PDF')) return 'it is a PDF document'
  if (head.startsWith('PK\x03\x04')) return 'it is a ZIP archive'
  if (head.startsWith('BM')) return 'it is a BMP picture, which is not taken'
  if (head.startsWith('II*\x00') || head.startsWith('MM\x00*')) {
    return 'it is a TIFF picture, which is not taken'
  }
  if (head.slice(4, 8) === 'ftyp') return `it is an ISO media file (${head.slice(8, 12)})`
  const text = b4a.toString(data.subarray(0, 512), 'utf-8')
  if (!/[\x00-\x08\x0e-\x1f\x7f\ufffd]/.test(text)) {
    if (/^\s*<(\?xml|svg)/i.test(text)) return 'it is SVG or XML text, which is not taken'
    const start = text.slice(0, 24).replace(/\s+/g, ' ').trim()
    return `it is text ("${start}${text.length > 24 ? '…' : ''}")`
  }
  return `it starts with the bytes ${b4a.toString(data.subarray(0, 8), 'hex').replace(/(..)(?!$)/g, '$1 ')}`
}

function ascii(data, start, end) {
  return b4a.toString(data.subarray(start, end), 'latin1')
}

// The manifest of a seller's pictures core, from its public key
function picturesManifest(publicKey) {
  return { version: 1, signers: [{ publicKey, namespace: NS_PICTURES }] }
}

function picturesKey(publicKey) {
  return Hypercore.key(picturesManifest(publicKey))
}

function discoveryHex(key) {
  return b4a.toString(crypto.discoveryKey(key), 'hex')
}

// Replicates a core being fetched on one more connection, once
function attach(fetch, mux) {
  if (fetch.muxers.has(mux) || mux.stream.destroying) return
  fetch.muxers.add(mux)
  mux.stream.once('close', () => fetch.muxers.delete(mux))
  fetch.core.replicate(mux)
}

// Resolves once the core's signed length reaches length; rejects if the session closes first
function grown(session, length) {
  if (session.length >= length) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const onappend = () => {
      if (session.length < length) return
      done()
      resolve()
    }
    const onclose = () => {
      done()
      reject(AuctionError.PICTURE_UNAVAILABLE('The fetch was stopped'))
    }
    const done = () => {
      session.off('append', onappend)
      session.off('close', onclose)
    }
    session.on('append', onappend)
    session.on('close', onclose)
  })
}

// Calls onstall once nothing of the core arrived for ms (a longer signed length or a block)
function watchStall(core, ms, onstall) {
  const watch = { stalled: false, stop }
  let timer = setTimeout(fire, ms)
  core.on('download', progress)
  core.on('append', progress)
  function progress() {
    clearTimeout(timer)
    timer = setTimeout(fire, ms)
  }
  function fire() {
    watch.stalled = true
    stop()
    onstall()
  }
  function stop() {
    clearTimeout(timer)
    core.off('download', progress)
    core.off('append', progress)
  }
  return watch
}

Pictures.checkPicture = checkPicture
Pictures.pictureType = pictureType
Pictures.picturesKey = picturesKey
Pictures.FETCH_TIMEOUT = FETCH_TIMEOUT
Pictures.MAX_HELD_BYTES = MAX_HELD_BYTES

module.exports = Pictures
