const fs = require('fs')
const path = require('path')
const Corestore = require('corestore')
const CoreStorage = require('hypercore-storage')
const Rache = require('rache')
const b4a = require('b4a')
const c = require('compact-encoding')
const safetyCatch = require('safety-catch')
const AuctionError = require('./errors')
const View = require('./view')
const crypto = require('./crypto')
const { STORAGE_VERSION, MAX_NAME_BYTES } = require('./constants')

// Storage of this version is read by rebuilding its view from the logs
const REBUILT_VERSION = 2
const CACHE_ENTRIES = 16384
const WRITE_BUFFER = 4 * 1024 * 1024

// Hyperbee and Hypercore cache decoded nodes in one cache per store: 65,536 entries by default,
// about 1.5 KiB each, which is more than a peer of many logs can spare.
// Not active: Corestore would replicate every log on every connection, and every peer would
// tell every other of each new block; each log is attached where it is needed instead.
// RocksDB's memtable is WRITE_BUFFER rather than Hypercore's 64 MiB: a peer writes little, and
// the write-ahead log is preallocated at that size on disk, per peer
function createStore(storage) {
  // A new folder is readable by its owner only (openStorage checks an existing one)
  try {
    fs.mkdirSync(storage, { recursive: true, mode: 0o700 })
  } catch (err) {
    safetyCatch(err)
  }
  return new Corestore(new CoreStorage(storage, { writeBufferSize: WRITE_BUFFER }), {
    globalCache: new Rache({ maxSize: CACHE_ENTRIES }),
    active: false
  })
}

// The storage folder holds the peer's secret seed and its signed log: it must be this user's and
// not writable by its group or others (as the control socket's folder, lib/cli/control.js,
// which must not even be readable). Throws STORAGE_UNSAFE.
function checkStorageDir(dir) {
  if (typeof dir !== 'string' || !fs.existsSync(dir)) return
  const st = fs.statSync(dir)
  if (!st.isDirectory()) throw AuctionError.STORAGE_UNREADABLE(`${dir} is not a folder`)
  const uid = typeof process.getuid === 'function' ? process.getuid() : null
  if (uid !== null && st.uid !== uid) {
    throw AuctionError.STORAGE_UNSAFE(
      `${dir} belongs to user ${st.uid}, not to you (${uid}): use a folder of your own`
    )
  }
  if ((st.mode & 0o022) !== 0) {
    throw AuctionError.STORAGE_UNSAFE(
      `${dir} can be written by other users (mode ${(st.mode & 0o777).toString(8)}): run chmod go-w ${dir}`
    )
  }
}

// Where the own log's signed length is kept apart from the log (lib/log.js): in the storage
// folder, when the peer made its store there
function markFile(storage, opts) {
  return typeof storage === 'string' && !opts.corestore ? path.join(storage, 'own-log.mark') : null
}

// Opens what a peer keeps in its store besides the logs: the view (of this storage version, or
// rebuilt from an older one), the identity and the name (given, else the stored one). storage
// names the folder in errors. Resolves with { view, keyPair, name }.
async function openStorage(store, storage, name, onwarning) {
  checkStorageDir(storage)
  try {
    await store.ready()
  } catch (err) {
    // A new identity would silently split this peer from its own history
    throw AuctionError.STORAGE_UNREADABLE(`${storage}: ${err.message}`)
  }
  await checkNotVersion01(store)

  const view = new View(store.get({ name: 'hyperauction/view' }))
  view.on('error', onwarning)
  try {
    return await openView(view, store, name)
  } catch (err) {
    await view.close().catch(safetyCatch)
    throw err
  }
}

async function openView(view, store, name) {
  await view.ready()
  const version = await view.getMeta('version')
  if (version === null) {
    if (view.length > 0) throw AuctionError.STORAGE_VERSION('The view has no version')
    view.stageMeta('version', c.encode(c.uint, STORAGE_VERSION))
  } else if (c.decode(c.uint, version) === REBUILT_VERSION) {
    // 0.2.0 stored auctions without terms: the view is derived, so it is derived again
    await view.rebuild()
    view.stageMeta('version', c.encode(c.uint, STORAGE_VERSION))
  } else if (c.decode(c.uint, version) !== STORAGE_VERSION) {
    throw AuctionError.STORAGE_VERSION(
      `Storage version ${c.decode(c.uint, version)} is not ${STORAGE_VERSION}`
    )
  }

  const keyPair = await store.createKeyPair('hyperauction/identity')

  if (name) view.stageMeta('name', b4a.from(name.slice(0, MAX_NAME_BYTES)))
  else name = b4a.toString((await view.getMeta('name')) || b4a.alloc(0))
  await view.flush()
  return { view, keyPair, name }
}

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

module.exports = { createStore, openStorage, markFile }
