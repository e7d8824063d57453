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
