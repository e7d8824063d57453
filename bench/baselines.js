// The raw building blocks, measured in the same run as hyperauction: @hyperswarm/rpc to
// another process, Hyperbee and Hypercore on disk
const Corestore = require('corestore')
const path = require('path')
const { allowPush, pushBlock } = require('../lib/compat')
const Hyperbee = require('hyperbee')
const b4a = require('b4a')
const m = require('../lib/messages')
const crypto = require('../lib/crypto')
const { RAW, createRpc, spawnRemote, saturate, percentile, now, log } = require('./harness')

// A bid signed by keyPair, the size of any other
function signedBid(keyPair) {
  const body = {
    auction: b4a.alloc(16),
    bidder: keyPair.publicKey,
    amount: 123456789n,
    nonce: crypto.randomNonce(),
    createdAt: Date.now()
  }
  return crypto.signBid(body, keyPair)
}

// As many bytes each way as a bid and its reply, so both sides move the same data
const BID_BYTES = m.encode(m.bid, signedBid(crypto.keyPair())).byteLength
const REPLY_BYTES = m.encode(m.bidReply, {
  index: 1000,
  offset: 10,
  position: 10000,
  acceptedAt: Date.now()
}).byteLength

// Sequential requests from one client here to a server in a child process, then clients x
// inFlight parallel requests
async function rawRpc(bootstrap, { sequential, parallelMs, clients, inFlight }) {
  log('  raw RPC')
  const remote = await spawnRemote('rpc', bootstrap, { replyBytes: REPLY_BYTES })
  const key = b4a.from(remote.info.publicKey, 'hex')
  const node = createRpc(bootstrap)
  const payload = b4a.alloc(BID_BYTES)
  try {
    const conns = []
    // Each client its own key pair and connection, as bidders would have
    for (let i = 0; i < clients; i++) {
      conns.push(node.rpc.connect(key, { keyPair: crypto.keyPair() }))
    }
    const send = (conn) => conn.request('echo', payload, RAW)
    for (const conn of conns) await send(conn)

    const samples = []
    for (let i = 0; i < sequential; i++) {
      const t = now()
      await send(conns[0])
      samples.push(now() - t)
    }
    const parallel = await saturate(parallelMs, conns, inFlight, send)
    return {
      rawRpcP50: percentile(samples, 50),
      rawRpcP99: percentile(samples, 99),
      rawRpcRps: parallel.perSec
    }
  } finally {
    await node.destroy()
    await remote.stop()
  }
}

async function rawBee(dir, { sequential, batched, batch }) {
  log('  raw Hyperbee')
  const store = new Corestore(dir)
  const bee = new Hyperbee(store.get({ name: 'bench' }), {
    keyEncoding: 'utf-8',
    valueEncoding: 'binary'
  })
  await bee.ready()
  const value = b4a.alloc(250)
  try {
    const samples = []
    let t = now()
    for (let i = 0; i < sequential; i++) {
      const s = now()
      await bee.put('seq/' + i, value)
      samples.push(now() - s)
    }
    const seq = sequential / ((now() - t) / 1000)
    t = now()
    for (let i = 0; i < batched; i += batch) {
      const b = bee.batch()
      for (let j = i; j < i + batch; j++) await b.put('batch/' + j, value)
      await b.flush()
    }
    return {
      rawBeePutP50: percentile(samples, 50),
      rawBeeSeqPuts: seq,
      rawBeeBatchedPuts: batched / ((now() - t) / 1000)
    }
  } finally {
    await bee.close()
    await store.close()
  }
}

// Single appends of one bid-sized block, then appends of batch blocks at once
async function rawCore(dir, { sequential, batched, batch, blockBytes }) {
  log('  raw Hypercore')
  const store = new Corestore(dir)
  const core = store.get({ name: 'bench' })
  await core.ready()
  const block = b4a.alloc(blockBytes)
  try {
    const samples = []
    for (let i = 0; i < sequential; i++) {
      const t = now()
      await core.append(block)
      samples.push(now() - t)
    }
    const blocks = new Array(batch).fill(block)
    const t = now()
    for (let i = 0; i < batched; i += batch) await core.append(blocks)
    return {
      rawCoreAppendP50: percentile(samples, 50),
      rawCoreBatchedBlocks: batched / ((now() - t) / 1000)
    }
  } finally {
    await core.close()
    await store.close()
  }
}

// A bid's signature checked, as a seller checks each bid it is sent (one bidder key pair, the
// same bid each time: the check costs the same whatever the bid)
function rawVerify({ samples: count }) {
  log('  raw signature check')
  const bid = signedBid(crypto.keyPair())
  const samples = []
  for (let i = 0; i < count; i++) {
    const t = now()
    if (!crypto.verifyBid(bid)) throw new Error('The bid signed here does not verify')
    samples.push(now() - t)
  }
  return { rawVerifyP50: percentile(samples, 50) }
}

// An append of one bid-sized block pushed to a replica on a second Corestore (Hypercore's push
// mode, both stores here on an encrypted in-memory connection), timed until the replica holds
// it: what a seller's append and its bidder's copy cost without hyperauction
// others: that many more bare replicas in this process download every block live (end -1), as
// the other full peers of one machine would; figures named key...
async function rawPush(dir, { sequential, blockBytes, others = 0, key = 'rawPush' }) {
  log(`  raw Hypercore append pushed to a replica${others ? `, ${others} more replicas here` : ''}`)
  const a = new Corestore(path.join(dir, 'author'), { active: false })
  const b = new Corestore(path.join(dir, 'replica'), { active: false })
  const core = a.get({ name: 'bench' })
  await core.ready()
  const replica = b.get({ key: core.key })
  await replica.ready()
  const sa = a.replicate(true)
  const sb = b.replicate(false)
  sa.pipe(sb).pipe(sa)
  const mux = sa.noiseStream.userData
  core.replicate(mux)
  replica.replicate(sb.noiseStream.userData)
  const streams = [sa, sb]
  const stores = [a, b]
  for (let i = 0; i < others; i++) {
    const store = new Corestore(path.join(dir, 'other-' + i), { active: false })
    stores.push(store)
    const other = store.get({ key: core.key })
    await other.ready()
    const x = a.replicate(true)
    const y = store.replicate(false)
    x.pipe(y).pipe(x)
    streams.push(x, y)
    core.replicate(x.noiseStream.userData)
    other.replicate(y.noiseStream.userData)
    other.download()
  }
  const block = b4a.alloc(blockBytes)
  try {
    await core.append(block)
    await replica.get(0)
    allowPush(replica, true)
    const samples = []
    for (let i = 1; i <= sequential; i++) {
      const held = new Promise((resolve) => {
        const ondownload = (index) => {
          if (index !== i) return
          replica.off('download', ondownload)
          resolve()
        }
        replica.on('download', ondownload)
      })
      const t = now()
      await core.append(block)
      await pushBlock(core, mux, i)
      await held
      samples.push(now() - t)
    }
    return { [key + 'P50']: percentile(samples, 50) }
  } finally {
    for (const stream of streams) stream.destroy()
    for (const store of stores) await store.close()
  }
}

module.exports = { rawRpc, rawBee, rawCore, rawVerify, rawPush, BID_BYTES, REPLY_BYTES }
