const hypercoreCrypto = require('hypercore-crypto')
const flat = require('flat-tree')
const safetyCatch = require('safety-catch')
const caps = require('hypercore/lib/caps')
const Verifier = require('hypercore/lib/verifier')
const { MerkleTree } = require('hypercore/lib/merkle-tree')
const { logManifest } = require('./crypto')

// Every use of Hypercore's and @hyperswarm/rpc's internals, in one place (as Hypercore keeps its
// own lib/compat.js). Both are pinned to exact versions in package.json; test/compat.js fails
// with the name of the internal that an upgrade broke.

// Hypercore adds a listener to the connection at each replicate() and removes one when the log
// closes: a channel asked for again must drop the old attach first
function detachReplication(session, mux) {
  session.core.replicator.detachFrom(mux)
}

// Hypercore's view of whether a remote peer holds block index, from the ranges it announced
function remoteHas(peer, index) {
  return peer.remoteContiguousLength > index || peer.remoteBitfield.get(index)
}

// The remote reads the log (a follower), rather than only serving it
function remoteDownloading(peer) {
  return peer.remoteDownloading
}

// The connection (Protomux) and the remote's public key of a peer Hypercore replicates with
function peerMux(peer) {
  return peer.protomux
}

function peerKey(peer) {
  return peer.remotePublicKey
}

// Waits for the replication data a core is still verifying. Hypercore finishes verifying a block
// after its connection is gone and then reads storage in the background; a core closed under it
// throws 'RocksDB session is closed' where nothing can catch it. Close connections first, then
// settle each core, then close it.
async function settle(session) {
  const replicator = session.core && session.core.replicator
  const lock = replicator && replicator._rxLock
  if (!lock || lock.destroyed) return
  try {
    await lock.lock()
    lock.unlock()
  } catch {
    // A destroyed lock: the core is closing already and verifies nothing more
  }
  // What the verify started in the background runs on the next ticks
  await new Promise((resolve) => setImmediate(resolve))
}

// With a capability, @hyperswarm/rpc makes its RPC only once the stream has opened: until then
// the client's own stream is the only handle on the connection
function clientStream(client) {
  return client._stream
}

// The signed tree a core holds now, from memory: { length, fork, treeHash, signature }, or null
// while it holds nothing signed
function signedTree(session) {
  const info = session.state.treeInfo()
  if (info.length === 0 || !info.signature) return null
  return {
    length: info.length,
    fork: info.fork,
    treeHash: hypercoreCrypto.tree(info.roots),
    signature: info.signature
  }
}

// Whether the author (its public key) signed tree, verified by Hypercore's own verifier of a
// log whose manifest follows from that key (lib/crypto.js logManifest); the signature is in
// Hypercore's multisig encoding, as a core holds it
function verifyTree(author, tree) {
  const verifier = Verifier.fromManifest(logManifest(author))
  const { treeHash, length, fork } = tree
  const batch = {
    length,
    fork,
    hash: () => treeHash,
    signable: (manifestHash) => caps.treeSignable(manifestHash, treeHash, length, fork)
  }
  try {
    return verifier.verify(batch, tree.signature)
  } catch {
    return false
  }
}

// Hypercore keeps a core open while it has peers, and paired on their connections (a remote
// asking again is answered without Corestore), after its last session closes: a log put away
// drops its channels and pairings, so that its core closes and a remote's next ask goes through
// Corestore (and guardRemoteOpens)
function closeChannels(session) {
  const replicator = session.core && session.core.replicator
  if (!replicator) return
  for (const mux of [...replicator._attached]) replicator.detachFrom(mux)
  for (const peer of [...replicator.peers]) peer.channel.close()
}

// Corestore opens any stored core a remote asks for (its handler of a channel it does not
// have, Corestore._attachMaybe): onopen(muxer, discoveryKey, open) is asked first, and open()
// does what Corestore would have done
function guardRemoteOpens(store, onopen) {
  const attach = store._attachMaybe
  store._attachMaybe = (muxer, discoveryKey) =>
    onopen(muxer, discoveryKey, () => attach.call(store, muxer, discoveryKey))
}

// Replication verified and stored a block of the core: onblock(index, value) hears it with the
// bytes that arrived, so a follower applies them without reading them back (Hypercore keeps no
// block in memory; a get reads storage, one block per batch). One hook on the core's
// replicator, shared by its sessions. Returns the function that removes this listener.
const blockListeners = new WeakMap()
// Blocks pushed unasked and being verified, by replicator: Hypercore marks such a block in
// flight (_markInflight) before it verifies it, and makes no request for it
const pushing = new WeakMap()

function onVerifiedBlock(session, onblock) {
  const replicator = session.core.replicator
  let listeners = blockListeners.get(replicator)
  if (listeners === undefined) {
    listeners = new Set()
    blockListeners.set(replicator, listeners)
    const pushed = new Set()
    pushing.set(replicator, pushed)
    const ondata = replicator._ondata
    replicator._ondata = function (peer, req, data) {
      if (data.block) {
        pushed.delete(data.block.index)
        for (const fn of listeners) fn(data.block.index, data.block.value)
      }
      return ondata.call(this, peer, req, data)
    }
    const mark = replicator._markInflight
    replicator._markInflight = function (index) {
      if (this.allowPush && pushed.size < MAX_PUSHING) pushed.add(index)
      return mark.call(this, index)
    }
    const unmark = replicator._unmarkInflight
    replicator._unmarkInflight = function (index) {
      pushed.delete(index)
      return unmark.call(this, index)
    }
  }
  listeners.add(onblock)
  return () => listeners.delete(onblock)
}

const MAX_PUSHING = 1024

// Replication received block index and is verifying it: Hypercore may count the block held
// (contiguousLength) before onVerifiedBlock's listeners hear its bytes
function verifyingBlock(session, index) {
  const request = session.core.replicator._blocks.get(index)
  if (request !== null && request.processing === true) return true
  const pushed = pushing.get(session.core.replicator)
  return pushed !== undefined && pushed.has(index)
}

// Blocks start to end - 1 of a core in one storage batch (a get is a batch of one block); null
// for a block not held
function readBlocks(session, start, end) {
  const rx = session.state.storage.read()
  const blocks = []
  for (let i = start; i < end; i++) blocks.push(rx.getBlock(i))
  rx.tryFlush()
  return Promise.all(blocks)
}

// Lets the peers that replicate a core push its blocks here unasked (Hypercore's push mode):
// a bidder holds its bid's block when the seller's answer comes, without asking for it
function allowPush(session, allow) {
  session.core.replicator.setAllowPush(allow)
}

// A block goes to a peer once: the peer tells that it holds the block only a round trip later,
// and meanwhile more bids of its own in that block would each send it again. The pushes of the
// last PUSHES_KEPT blocks are remembered by peer.
const pushes = new WeakMap()
const PUSHES_KEPT = 64

// Sends block index of a core, with what proves it, to the peer that replicates it on the
// connection mux, if that peer allows pushes and lacks the block; resolves once it is sent,
// with whether this call sent it (false if it went already, or is on its way)
function pushBlock(session, mux, index) {
  const replicator = session.core && session.core.replicator
  const peer = replicator ? replicator.peers.find((p) => p.protomux === mux) : undefined
  if (peer === undefined) return Promise.resolve(false)
  const sent = pushes.get(peer)
  const pending = sent === undefined ? undefined : sent.get(index)
  if (pending !== undefined) return pending.then(() => false)
  const push = startPush(peer, index)
  return push === null ? Promise.resolve(false) : push.then(() => true)
}

// Sends blocks start to end - 1 of a core, just appended, to every peer that takes pushes (a
// bidder with a bid in flight, which follows the log) and lacks them, block by block. Such a
// peer turns alwaysLatestBlock off (lib/follower.js): unpushed, it would learn the length first
// and ask for the block in a second round trip. Returns how many pushes it started.
function pushNew(session, start, end) {
  const replicator = session.core && session.core.replicator
  if (!replicator) return 0
  let started = 0
  for (let index = start; index < end; index++) {
    for (const peer of replicator.peers) {
      if (startPush(peer, index) !== null) started++
    }
  }
  return started
}

// The push of block index to peer, started now; null if Hypercore would not send it (the peer
// takes no pushes, downloads nothing, holds the block) or it was sent already. A push that
// fails is forgotten: the block may go again.
function startPush(peer, index) {
  if (!peer.remoteAllowPush || !peer.remoteDownloading || peer.remoteBitfield.get(index)) {
    return null
  }
  let sent = pushes.get(peer)
  if (sent === undefined) {
    sent = new Map()
    pushes.set(peer, sent)
  }
  if (sent.has(index)) return null
  const push = peer.push(index).catch((err) => {
    if (sent.get(index) === push) sent.delete(index)
    safetyCatch(err)
  })
  sent.set(index, push)
  for (const kept of sent.keys()) {
    if (sent.size <= PUSHES_KEPT) break
    if (kept <= index - PUSHES_KEPT) sent.delete(kept)
  }
  return push
}

// Replication refuses a block above maxBytes before it verifies or stores it, when it came
// unasked (a push: data with request id 0) or offered as the last block with a longer signed
// length (Hypercore's upgrade request brings it along when alwaysLatestBlock is set): Hypercore
// bounds neither. The second also turns alwaysLatestBlock off for the core for as long as it is
// open, so that the next length comes alone: the follower then refuses the log from its signed
// size, or downloads the block in a window and refuses it there. A block asked for in
// a window is within the follower's download budget, and refused by the follower itself.
const limited = new WeakSet()
// Cores offered a last block above the bound with a longer length: never asked so again
const oversized = new WeakSet()

// Whether a longer signed length of the core comes with its last block (Hypercore's
// alwaysLatestBlock): not after one above the bound came that way (limitBlocks)
function latestBlock(session, on) {
  if (on && oversized.has(session.core)) return Promise.resolve()
  return session.setAlwaysLatestBlock(on)
}

function limitBlocks(session, maxBytes) {
  const core = session.core
  if (limited.has(core)) return
  limited.add(core)
  const verify = core.verify
  core.verify = function (proof, from) {
    const value = proof.block && proof.block.value
    if (value && value.byteLength > maxBytes) {
      if (proof.request === 0) return Promise.resolve(false)
      if (proof.upgrade) {
        oversized.add(core)
        const replicator = core.replicator
        if (replicator._alwaysLatestBlockEnabled) {
          replicator._alwaysLatestBlockEnabled = false
          replicator._alwaysLatestBlock--
        }
        // A live download (end -1) keeps asking for the last block with each length, and would
        // get it again at once: then it is verified and stored, and the follower refuses it when
        // it comes to apply it. The followers hold no live download.
        if (replicator._alwaysLatestBlock === 0) return Promise.resolve(false)
      }
    }
    return verify.call(this, proof, from)
  }
}

// Before it asks for a block, Hypercore counts the tree nodes the proof must bring: those under
// the first one it holds, on the way up from the block (MerkleTree.missingNodes). It reads them
// one storage batch per node, awaited in turn: 2-4 batches for each block asked for, each a
// round trip to RocksDB's threads. For the cores passed here (the logs a follower fetches) the
// same nodes are read in one batch and counted the same; other cores (a raw baseline in the
// bench) keep Hypercore's own.
const missingNodes = MerkleTree.missingNodes
const batched = new WeakSet()
const MAX_MISSING_NODES = 1024

function batchMissingNodes(session) {
  batched.add(session.core)
  if (MerkleTree.missingNodes !== missingNodes) return
  MerkleTree.missingNodes = async function (state, index, length) {
    if (!batched.has(state.core)) return missingNodes.call(this, state, index, length)
    const head = 2 * length
    const ite = flat.iterator(index)
    // Not in the tree of that length: Hypercore's own answer (0)
    if (ite.index + ite.factor / 2 - 1 >= head) return 0
    const rx = state.storage.read()
    const held = []
    while (!ite.contains(head) && held.length < MAX_MISSING_NODES) {
      held.push(rx.hasTreeNode(ite.index))
      ite.parent()
    }
    rx.tryFlush()
    // More than any tree has: Hypercore's own, which throws its assertion past 1,024 nodes
    if (held.length >= MAX_MISSING_NODES) return missingNodes.call(this, state, index, length)
    const found = await Promise.all(held)
    const first = found.indexOf(true)
    return first === -1 ? found.length : first
  }
}

module.exports = {
  batchMissingNodes,
  latestBlock,
  limitBlocks,
  allowPush,
  pushBlock,
  pushNew,
  guardRemoteOpens,
  closeChannels,
  detachReplication,
  remoteHas,
  remoteDownloading,
  peerMux,
  peerKey,
  settle,
  clientStream,
  signedTree,
  verifyTree,
  onVerifiedBlock,
  verifyingBlock,
  readBlocks
}
