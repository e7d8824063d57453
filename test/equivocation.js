const test = require('brittle')
const path = require('path')
const Corestore = require('corestore')
const b4a = require('b4a')
const m = require('../lib/messages')
const {
  createBootstrap,
  createPeer,
  createPeers,
  meshed,
  everywhere,
  once,
  until,
  when
} = require('./helpers')

test('a seller that signs two histories is caught by every peer, with the proof kept', async (t) => {
  const testnet = await createBootstrap(t)
  const v1 = await createPeer(t, testnet, { name: 'v1' })
  const v2 = await createPeer(t, testnet, { name: 'v2' })
  const liar = await createPeer(t, testnet, { name: 'liar' })
  await meshed([v1, v2, liar])

  const a = await liar.openAuction({ item: 'Pic#1', price: '1' })
  await everywhere([v1, v2], a.id)
  const primaryKey = liar.store.primaryKey
  const liarId = liar.id
  await liar.close()

  // The same identity on storage that never saw the first history: it signs another one
  const store = new Corestore(path.join(await t.tmp(), 'twin'), { primaryKey, unsafe: true })
  const disputes = [once(v1, 'dispute'), once(v2, 'dispute')]
  const twin = await createPeer(t, testnet, { corestore: store, name: 'twin' })
  t.teardown(() => store.close(), { order: 1 })
  t.is(twin.id, liarId, 'the twin has the liar’s key')
  const caughtItself = once(twin, 'dispute')
  await twin.openAuction({ item: 'Other#1', price: '1' })
  await twin.openAuction({ item: 'Other#2', price: '1' })

  for (const d of await Promise.all(disputes)) t.is(d.seller, liarId, 'a peer caught the liar')
  t.is((await caughtItself).seller, liarId, 'the twin learns its log has two histories')
  try {
    await twin.openAuction({ item: 'Other#3', price: '1' })
    t.fail('appended to a disputed log')
  } catch (err) {
    t.is(err.code, 'DISPUTED', 'and takes no more events')
  }

  for (const peer of [v1, v2]) {
    const proof = await peer.dispute(liarId)
    t.ok(proof !== null, `${peer.name} kept the proof`)
    t.ok(b4a.from(proof.signature, 'hex').byteLength >= 64, 'the other history’s signature')
    const shown = await peer.getAuction(a.id)
    t.is(shown.disputed, true, `${peer.name} shows the liar’s auction as disputed`)
    t.ok((await peer.info()).disputed.includes(liarId))
    try {
      await peer.placeBid(a.id, '5')
      t.fail('bid on a disputed seller')
    } catch (err) {
      t.is(err.code, 'DISPUTED', 'bidding on a disputed seller is refused')
    }
  }

  await v1.close()
  const again = await createPeer(t, testnet, { storage: v1.storage })
  t.is((await again.getAuction(a.id)).disputed, true, 'the dispute survives a restart')
  await until(async () => (await again.dispute(liarId)) !== null, 1000, 'the stored proof')
})

test('two histories of one length: both holders and a late joiner catch them, with the proof', async (t) => {
  const testnet = await createBootstrap(t)
  // Each holder meets one copy of the seller only: each on a network of its own
  const v1 = await createPeer(t, testnet, { name: 'v1', network: 'one' })
  const liar = await createPeer(t, testnet, { name: 'liar', network: 'one' })
  await meshed([v1, liar])
  const a = await liar.openAuction({ item: 'Pic#1', price: '1' })
  await everywhere([v1], a.id)
  const primaryKey = liar.store.primaryKey
  const liarId = liar.id
  await liar.close()

  const store = new Corestore(path.join(await t.tmp(), 'twin'), { primaryKey, unsafe: true })
  t.teardown(() => store.close(), { order: 1 })
  const v2 = await createPeer(t, testnet, { name: 'v2', network: 'two' })
  const twin = await createPeer(t, testnet, { corestore: store, name: 'twin', network: 'two' })
  await meshed([v2, twin])
  const b = await twin.openAuction({ item: 'Other#1', price: '1' })
  t.is(b.id, a.id, 'the twin signs another opening at the same place of the log')
  await everywhere([v2], b.id)
  await twin.close()
  t.is((await v1.getAuction(a.id)).item, 'Pic#1', 'v1 holds one history')
  t.is((await v2.getAuction(a.id)).item, 'Other#1', 'v2 holds the other, of the same length')

  const caught = (peer) => once(peer, 'dispute', (d) => d.seller === liarId, 30000)
  const disputes = [caught(v1), caught(v2)]
  v1.net.discovered(v2.publicKey)
  await Promise.all(disputes)
  for (const peer of [v1, v2]) {
    const proof = await peer.dispute(liarId)
    t.ok(proof.own !== null, `${peer.name} kept its own signed tree beside the other`)
    t.is(proof.own.length, proof.length, 'both of the same length')
    t.not(proof.own.treeHash, proof.treeHash, 'with other trees')
    t.is((await peer.getAuction(a.id)).disputed, true, `${peer.name} shows the auction disputed`)
  }
  t.is(
    await v1.digest(),
    await v2.digest(),
    'and the two now agree: the log counts as disputed in both'
  )

  // A late joiner that meets only v1 learns it from v1's directory and checks the proof itself
  const late = await createPeer(t, testnet, { name: 'late', network: 'one' })
  const isDisputed = async () => (await late.info()).disputed.includes(liarId)
  await when([late], ['dispute'], isDisputed, 30000, 'the late joiner’s dispute')
  const proof = await late.dispute(liarId)
  t.is(proof.own.length, proof.length, 'the late joiner keeps both signed trees')
})

test('a forged proof of two histories is refused', async (t) => {
  const testnet = await createBootstrap(t)
  const seller = await createPeer(t, testnet, { name: 'seller' })
  const liar = await createPeer(t, testnet, { name: 'liar' })
  const honest = await createPeer(t, testnet, { name: 'honest' })
  await meshed([seller, liar, honest])
  const a = await seller.openAuction({ item: 'Pic#1', price: '1' })
  await everywhere([liar, honest], a.id)

  // The liar says it holds the seller's log with another tree, and that it is disputed: neither
  // counts without the seller's signatures
  const tree = b4a.alloc(32, 7)
  liar.forks.proof = async () => {
    const signed = await liar.forks.tree(seller.publicKey)
    return { a: signed, b: { ...signed, treeHash: tree } }
  }
  liar.forks.entry = () => ({ tree, disputed: true })
  const refused = once(honest, 'warning', (err) => err.code === 'BAD_REQUEST', 10000)
  await honest.directory.read(liar.publicKey)
  t.ok(/two signed histories/.test((await refused).message), 'the forged proof is refused')
  t.absent((await honest.info()).disputed.includes(seller.id), 'the seller is not disputed')
  t.is((await honest.getAuction(a.id)).disputed, false, 'its auction stands')
})

test('a seller that rewrites its signed log below what a peer applied is caught', async (t) => {
  const { peers, testnet } = await createPeers(t, 2)
  const [liar, bidder] = peers
  const a = await liar.openAuction({ item: 'Pic#1', price: '1' })
  await everywhere([bidder], a.id)
  await bidder.placeBid(a.id, '50')

  // A signed fork from length 1: the block with the acknowledged bid is gone
  const caught = once(bidder, 'dispute')
  await liar.log.core.truncate(1)
  const close = {
    type: m.EVENT_CLOSED,
    payload: { auction: b4a.from(a.id, 'hex'), winningBid: null, bidCount: 0, closedAt: Date.now() }
  }
  await liar.log.core.append(m.encode(m.block, [close]))

  t.is((await caught).seller, liar.id, 'the bidder catches the rewrite')
  const held = await bidder.getAuction(a.id)
  t.is(held.disputed, true, 'and shows the auction as disputed')
  t.is(held.bidCount, 1, 'with the bid it was acknowledged, not the rewritten history')

  // A peer that only ever sees the new fork: a fork is itself the proof, peers never truncate
  const late = await createPeer(t, testnet, { name: 'late' })
  const caughtLate = async () => (await late.info()).disputed.includes(liar.id)
  await when([late], ['dispute'], caughtLate, 10000, 'the late dispute')
  t.pass('a late joiner catches the rewrite too')
})
