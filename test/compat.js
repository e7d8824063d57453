const test = require('brittle')
const b4a = require('b4a')
const compat = require('../lib/compat')
const { store, connect } = require('./helpers/stores')
const { createBootstrap, rawNode, rawClient, once, until } = require('./helpers')

// lib/compat.js is the only place that touches Hypercore's and @hyperswarm/rpc's internals.
// Each assertion names the internal an upgrade broke: pin the old version back, or mend
// lib/compat.js for the new one.

test('compat: the Hypercore internals lib/compat.js uses are there and mean the same', async (t) => {
  const a = await store(t)
  const b = await store(t)
  const keyPair = await a.createKeyPair('log')
  const author = a.get({ keyPair })
  await author.append([b4a.from('one'), b4a.from('two')])
  const replica = b.get({ key: author.key })
  await replica.ready()
  const [muxA, muxB] = connect(t, a, b)
  author.replicate(muxA)
  replica.replicate(muxB)
  await replica.update({ wait: true })
  await replica.get(0)

  const peer = replica.peers[0]
  t.ok(peer, 'core.peers holds the replicating peer')
  t.is(typeof peer.remoteContiguousLength, 'number', 'peer.remoteContiguousLength is a number')
  t.is(typeof peer.remoteBitfield?.get, 'function', 'peer.remoteBitfield.get() exists')
  t.ok(compat.remoteHas(peer, 1), 'remoteHas: the author holds block 1')
  t.absent(compat.remoteHas(peer, 2), 'remoteHas: nor block 2, which does not exist')
  t.is(typeof peer.remoteDownloading, 'boolean', 'peer.remoteDownloading is a boolean')
  t.is(peer.protomux, muxB, 'peer.protomux is the connection it replicates on')
  t.ok(b4a.isBuffer(peer.remotePublicKey), 'peer.remotePublicKey is the remote key')
  const authorPeer = author.peers[0]
  t.ok(compat.remoteDownloading(authorPeer), 'remoteDownloading: the replica reads the log')

  const replicator = replica.core.replicator
  t.is(typeof replicator.detachFrom, 'function', 'core.replicator.detachFrom() exists')
  t.is(typeof replicator._rxLock?.lock, 'function', 'core.replicator._rxLock.lock() exists')
  t.is(typeof replicator._rxLock?.unlock, 'function', 'core.replicator._rxLock.unlock() exists')
  await compat.settle(replica)
  t.pass('settle() waits for the replication lock and returns')

  const tree = compat.signedTree(author)
  t.is(tree && tree.length, 2, 'signedTree: session.state.treeInfo() gives the signed length')
  t.alike(tree.treeHash, await author.treeHash(), 'and the roots hash to treeHash()')
  t.ok(compat.verifyTree(keyPair.publicKey, tree), 'verifyTree: the author signed it')
  t.alike(compat.signedTree(replica).signature, tree.signature, 'a replica holds the same')
  const forged = { ...tree, treeHash: b4a.alloc(32, 1) }
  t.absent(compat.verifyTree(keyPair.publicKey, forged), 'and another tree fails')

  t.ok(replicator.attached(muxB), 'core.replicator.attached() knows the connection')
  compat.detachReplication(replica, muxB)
  t.absent(replicator.attached(muxB), 'detachReplication() takes the connection off the replicator')
})

test('compat: the @hyperswarm/rpc client internal lib/compat.js uses is there', async (t) => {
  const testnet = await createBootstrap(t)
  const server = rawNode(t, testnet, { firewalled: false })
  const responder = server.rpc.createServer()
  responder.respond('echo', (req) => req)
  await responder.listen()
  const client = rawClient(t, testnet).connect(server.keyPair.publicKey)
  const stream = compat.clientStream(client)
  t.ok(stream && typeof stream.destroy === 'function', 'client._stream is a stream')
  t.is(typeof stream.once, 'function', 'client._stream emits events')
  const reply = await client.request('echo', b4a.from('hi'))
  t.is(b4a.toString(reply), 'hi', 'the client answers over that stream')
  t.is(client.rpc.stream, stream, 'and it is the stream the RPC runs on')
  const closed = new Promise((resolve) => stream.once('close', resolve))
  await client.destroy()
  await closed
  t.pass('its close is heard')
})

test('compat: the Corestore and Hypercore internals the log bounds use are there', async (t) => {
  const a = await store(t)
  const b = await store(t)
  const author = a.get({ keyPair: await a.createKeyPair('log') })
  await author.append([b4a.from('one'), b4a.from('three')])
  t.is(typeof a._attachMaybe, 'function', 'Corestore._attachMaybe() exists')
  const asked = []
  compat.guardRemoteOpens(a, (mux, discoveryKey, open) => {
    asked.push(discoveryKey)
    return asked.length > 1 ? open() : undefined
  })
  const [, muxB] = connect(t, a, b)
  const replica = b.get({ key: author.key })
  await replica.ready()
  replica.replicate(muxB)
  const channels = () => [...muxB].filter((ch) => ch.protocol === 'hypercore/alpha')
  await until(() => asked.length === 1 && channels().length === 0, 5000, 'the refusal')
  t.is(replica.peers.length, 0, 'guardRemoteOpens: a refused ask opens nothing')
  t.alike(asked[0], author.discoveryKey, 'and the guard heard which log was asked for')
  compat.detachReplication(replica, muxB)
  const opened = once(replica, 'peer-add', () => true, 5000)
  replica.replicate(muxB)
  await opened
  t.pass('an allowed ask opens the channel')

  await replica.get(1)
  const served = a.get({ key: author.key })
  await served.ready()
  t.is(served.core.replicator._attached.size, 1, 'core.replicator._attached holds the connection')
  const gone = once(replica, 'peer-remove', () => true, 5000)
  compat.closeChannels(served)
  await gone
  t.is(served.core.replicator._attached.size, 0, 'closeChannels: no pairing left')
  t.is(served.peers.length, 0, 'and no channel')
  await served.close()
})

test('compat: blocks heard with their bytes as verified, and read in one batch', async (t) => {
  const a = await store(t)
  const b = await store(t)
  const author = a.get({ keyPair: await a.createKeyPair('log') })
  await author.append([b4a.from('one'), b4a.from('two'), b4a.from('three')])
  const replica = b.get({ key: author.key })
  await replica.ready()
  const heard = []
  const stop = compat.onVerifiedBlock(replica, (index, block) => {
    heard.push([index, b4a.toString(block)])
  })
  const [muxA, muxB] = connect(t, a, b)
  author.replicate(muxA)
  replica.replicate(muxB)
  await replica.download({ start: 0, end: 3 }).done()
  heard.sort((x, y) => x[0] - y[0])
  t.alike(
    heard,
    [
      [0, 'one'],
      [1, 'two'],
      [2, 'three']
    ],
    'onVerifiedBlock: core.replicator._ondata(peer, req, data) gives each data.block'
  )
  stop()
  await author.append(b4a.from('four'))
  await replica.download({ start: 3, end: 4 }).done()
  t.is(heard.length, 3, 'and a listener removed hears no more')

  const waiting = replica.get(9).catch(() => null)
  const replicator = replica.core.replicator
  await until(() => replicator._blocks.get(9) !== null, 5000, 'the request')
  t.is(replicator._blocks.get(9).processing, false, 'core.replicator._blocks.get() is a request')
  t.absent(compat.verifyingBlock(replica, 9), 'verifyingBlock: not while it waits for data')
  replicator._markProcessing(9)
  t.ok(compat.verifyingBlock(replica, 9), 'but while Hypercore verifies its data')
  replicator._markProcessed(9)
  t.absent(compat.verifyingBlock(replica, 9), 'and no more once it handed the data on')

  const blocks = await compat.readBlocks(replica, 1, 5)
  t.alike(
    blocks.map((block) => block && b4a.toString(block)),
    ['two', 'three', 'four', null],
    'readBlocks: session.state.storage.read().getBlock() reads blocks, null past the end'
  )
  await replica.close()
  await waiting
})

// An author's log with one block and a replica of it on another store that takes pushes (with
// blocks bounded to maxBytes if given), replicating on one connection, the author told
async function pushPair(t, maxBytes = 0) {
  const a = await store(t)
  const b = await store(t)
  const author = a.get({ keyPair: await a.createKeyPair('log') })
  await author.append(b4a.from('one'))
  const replica = b.get({ key: author.key })
  await replica.ready()
  if (maxBytes > 0) compat.limitBlocks(replica, maxBytes)
  const [muxA, muxB] = connect(t, a, b)
  author.replicate(muxA)
  replica.replicate(muxB)
  await replica.update({ wait: true })
  compat.allowPush(replica, true)
  await until(() => author.peers[0] && author.peers[0].remoteAllowPush, 10000, 'the sync')
  return { author, replica, muxA, muxB, store: a }
}

test('compat: a block pushed to a replica that allows pushes arrives unasked', async (t) => {
  const { author, replica, muxA, muxB } = await pushPair(t)
  await author.append(b4a.from('pushed'))
  const downloaded = once(replica, 'download', (index) => index === 1, 10000, 'block 1')
  t.is(await compat.pushBlock(author, muxA, 1), true, 'pushBlock: sent')
  await downloaded
  t.alike(await replica.get(1, { wait: false }), b4a.from('pushed'), 'pushBlock: it is held')
  t.is(
    await compat.pushBlock(author, muxB, 1),
    false,
    'pushBlock: a connection the core does not replicate on is passed over'
  )
})

test('compat: a block goes to a peer once; each new block goes to every peer that takes pushes', async (t) => {
  const { author, replica, muxA, store: a } = await pushPair(t)
  await author.append(b4a.from('two'))
  const one = once(replica, 'download', (index) => index === 1, 10000, 'block 1')
  const sends = [compat.pushBlock(author, muxA, 1), compat.pushBlock(author, muxA, 1)]
  t.alike(
    await Promise.all(sends),
    [true, false],
    'pushBlock: the second push of block 1 is not sent'
  )
  await one

  // A second replica, on its own connection, that takes no pushes
  const c = await store(t)
  const other = c.get({ key: author.key })
  await other.ready()
  const [muxA2, muxC] = connect(t, a, c)
  author.replicate(muxA2)
  other.replicate(muxC)
  await other.update({ wait: true })
  await until(() => author.peers.length === 2, 10000, 'the second replica')

  const downloaded = once(replica, 'download', (index) => index === 3, 10000, 'block 3')
  await author.append([b4a.from('three'), b4a.from('four')])
  t.is(
    compat.pushNew(author, 2, 4),
    2,
    'pushNew: blocks 2 and 3 sent to the replica that takes pushes, not to the other'
  )
  t.is(compat.pushNew(author, 2, 4), 0, 'and not again')
  await downloaded
  t.alike(await replica.get(2, { wait: false }), b4a.from('three'), 'held without asking')
  t.absent(await other.has(2), 'the other replica was sent nothing')

  compat.allowPush(replica, false)
  await until(() => !author.peers.some((p) => p.remoteAllowPush), 10000, 'the sync')
  await author.append(b4a.from('five'))
  t.is(compat.pushNew(author, 4, 5), 0, 'pushNew: a peer that takes no pushes is passed over')
})

test('compat: a pushed block above the bound is refused before it is stored', async (t) => {
  const { author, replica, muxA } = await pushPair(t, 1024)
  await author.append(b4a.alloc(4096))
  await compat.pushBlock(author, muxA, 1)
  await author.append(b4a.from('small'))
  const small = once(replica, 'download', (index) => index === 2, 10000, 'block 2')
  await compat.pushBlock(author, muxA, 2)
  await small
  t.absent(await replica.has(1), 'the 4 KiB block pushed was not stored')
  t.ok(await replica.has(2), 'the small one after it was')
})

test('compat: a longer length comes with the last block; one above the bound is refused, and the length then comes alone', async (t) => {
  const { author, replica } = await pushPair(t, 1024)
  await replica.setAlwaysLatestBlock(true)
  const uploaded = []
  author.on('upload', (index) => uploaded.push(index))
  await author.append(b4a.from('small'))
  await until(() => replica.length === 2, 10000, 'length 2')
  t.ok(await replica.has(1), 'the last block came with the length, unasked by any download')
  t.alike(uploaded, [1])

  await author.append(b4a.alloc(4096))
  await until(() => replica.length === 3, 10000, 'length 3')
  t.absent(await replica.has(2), 'the 4 KiB last block was not stored')
  t.is(
    replica.core.replicator._alwaysLatestBlockEnabled,
    false,
    'and the next lengths come without the last block'
  )
})

test('compat: tree nodes missing for a block, counted in one read batch, are what Hypercore counts', async (t) => {
  const a = await store(t)
  const keyPair = await a.createKeyPair('log')
  const author = a.get({ keyPair })
  const blocks = []
  for (let i = 0; i < 100; i++) blocks.push(b4a.from('block ' + i))
  await author.append(blocks)
  // Two replicas that hold the same scattered blocks: one counts as Hypercore does, one in a batch
  const held = [3, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 57, 64, 99]
  const replicas = []
  for (const batched of [false, true]) {
    const b = await store(t)
    const replica = b.get({ key: author.key })
    await replica.ready()
    if (batched) compat.batchMissingNodes(replica)
    const [muxA, muxB] = connect(t, a, b)
    author.replicate(muxA)
    replica.replicate(muxB)
    await replica.update({ wait: true })
    for (const index of held) await replica.get(index)
    replicas.push(replica)
  }
  const { MerkleTree } = require('hypercore/lib/merkle-tree')
  t.is(typeof MerkleTree.missingNodes, 'function', 'MerkleTree.missingNodes() exists')
  const counts = [[], []]
  for (let i = 0; i < replicas.length; i++) {
    const state = replicas[i].core.state
    for (let index = 0; index < 2 * author.length; index++) {
      counts[i].push(await MerkleTree.missingNodes(state, index, author.length))
    }
  }
  t.ok(
    counts[0].some((n) => n > 1),
    'some blocks need several nodes'
  )
  t.alike(counts[1], counts[0], 'the batched count is the same for every tree node')
})
