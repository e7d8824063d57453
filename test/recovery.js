const test = require('brittle')
const fs = require('fs')
const path = require('path')
const Corestore = require('corestore')
const AuctionPeer = require('..')
const {
  createBootstrap,
  createPeer,
  meshed,
  everywhere,
  once,
  converged,
  rejects
} = require('./helpers')

// A seller whose database lost its recent writes: it opened auction a and accepted 3 bids from
// bidder, then its storage went back to the state after the opening (the device file stays: it
// refuses a copied storage folder as a whole). With holderAway, the bidder is closed too.
async function sellerThatLostItsTail(t, testnet, { holderAway = false } = {}) {
  const dir = path.join(await t.tmp(), 'seller')
  const bdir = path.join(await t.tmp(), 'bidder')
  const backup = path.join(await t.tmp(), 'backup')

  let seller = await createPeer(t, testnet, { storage: dir, name: 'seller' })
  const bidder = await createPeer(t, testnet, { storage: bdir, name: 'bidder' })
  await meshed([seller, bidder])
  const a = await seller.openAuction({ item: 'Pic#1', price: '1' })
  await everywhere([bidder], a.id)
  await seller.close()
  fs.cpSync(path.join(dir, 'db'), backup, { recursive: true })

  seller = await createPeer(t, testnet, { storage: dir })
  await meshed([seller, bidder])
  for (const amount of ['2', '3', '4']) await bidder.placeBid(a.id, amount)
  const lost = seller.log.core.length
  await seller.close()
  if (holderAway) await bidder.close()
  fs.rmSync(path.join(dir, 'db'), { recursive: true })
  fs.cpSync(backup, path.join(dir, 'db'), { recursive: true })
  return { dir, bdir, a, bidder, lost }
}

test('a seller whose storage lost its tail takes it back from peers and never reuses a length', async (t) => {
  const testnet = await createBootstrap(t)
  const { dir, a, bidder, lost } = await sellerThatLostItsTail(t, testnet)

  const disputes = []
  bidder.on('dispute', (d) => disputes.push(d))
  const seller = new AuctionPeer(dir, {
    bootstrap: testnet.bootstrap,
    host: '127.0.0.1',
    firewalled: false,
    network: 'test'
  })
  t.teardown(() => seller.close(), { order: 0 })
  const recovered = once(seller, 'recovered')
  await seller.ready()
  t.is(seller.log.core.length, 1, 'storage came back with only the first block')

  // The first append waits for the peers that hold the log
  const b = await seller.openAuction({ item: 'Pic#2', price: '1' })
  const { blocks } = await recovered
  t.is(blocks, lost - 1, `the ${lost - 1} lost blocks were taken back from the bidder`)
  t.is(seller.log.core.length, lost + 1, 'the new auction went after them, at a new length')
  t.alike(
    (await seller.getAuction(a.id)).bids.map((x) => x.amount),
    ['2', '3', '4'],
    'the acknowledged bids are back in the seller’s view'
  )

  await everywhere([bidder], b.id)
  await converged([seller, bidder])
  t.alike(disputes, [], 'the bidder saw one history only')
  const sale = await seller.closeAuction(a.id)
  t.alike(sale.winner, { bidder: bidder.id, amount: '4' })
})

test('storage that cannot be read is a coded error, never a new identity', async (t) => {
  const dir = path.join(await t.tmp(), 'peer')
  const first = new AuctionPeer(dir, { bootstrap: [], host: '127.0.0.1' })
  // Opened without a network: the identity is made with the storage
  await first.store.ready()
  const view = first.store.get({ name: 'hyperauction/view' })
  await view.ready()
  await view.close()
  await first.store.close()

  fs.writeFileSync(path.join(dir, 'db', 'CURRENT'), 'garbage\n')
  const peer = new AuctionPeer(dir, { bootstrap: [], host: '127.0.0.1' })
  try {
    await peer.ready()
    t.fail('opened unreadable storage')
  } catch (err) {
    t.is(err.code, 'STORAGE_UNREADABLE', err.message)
  }
  await peer.close().catch(() => {})
})

test('storage of version 0.1 is refused with an error that names the version', async (t) => {
  const dir = path.join(await t.tmp(), 'old')
  const store = new Corestore(dir)
  const core = store.get({ name: 'hyperauction' })
  await core.append('a 0.1 Hyperbee header')
  await store.close()

  const peer = new AuctionPeer(dir, { bootstrap: [], host: '127.0.0.1' })
  try {
    await peer.ready()
    t.fail('opened 0.1 storage')
  } catch (err) {
    t.is(err.code, 'STORAGE_VERSION')
    t.ok(err.message.includes('0.1'), err.message)
  }
  await peer.close().catch(() => {})
})

test('a lost tail that a peer brings back after start-up is applied before the next event', async (t) => {
  const testnet = await createBootstrap(t)
  const { dir, bdir, a, lost } = await sellerThatLostItsTail(t, testnet, { holderAway: true })

  const seller = await createPeer(t, testnet, { storage: dir, requestTimeout: 500 })
  t.is(seller.log.core.length, 1, 'storage came back with only the first block')
  const recovered = once(seller, 'recovered')
  const bidder = await createPeer(t, testnet, { storage: bdir })
  await meshed([seller, bidder])
  const { blocks } = await recovered
  t.is(blocks, lost - 1, 'replication brought the lost blocks back')
  t.is((await seller.getAuction(a.id)).bidCount, 3, 'and the seller’s view holds their bids')

  const warnings = []
  bidder.on('warning', (err) => warnings.push(err.code))
  const b = await seller.openAuction({ item: 'Pic#2', price: '1' })
  await everywhere([bidder], b.id)
  const bid = await bidder.placeBid(a.id, '5')
  t.is(bid.position, 4, 'the next bid is judged after the recovered ones')
  await converged([seller, bidder])
  t.alike(warnings, [], 'the bidder found every new event where the seller said it was')
})

test('a lost tail with no holder online: the seller signs nothing until a holder gives it back', async (t) => {
  const testnet = await createBootstrap(t)
  const { dir, bdir, a, lost } = await sellerThatLostItsTail(t, testnet, { holderAway: true })
  t.ok(fs.existsSync(path.join(dir, 'own-log.mark')), 'the signed length is kept apart from the db')

  const seller = await createPeer(t, testnet, { storage: dir, requestTimeout: 500 })
  t.is(seller.log.core.length, 1, 'storage came back with only the first block')
  const err = await rejects(
    t,
    seller.openAuction({ item: 'Pic#2', price: '1' }),
    'LOG_RECOVERING',
    'with nobody holding the tail, nothing is signed'
  )
  t.ok(err.message.includes(`signed ${lost} blocks`), `it says what was lost: ${err.message}`)
  t.is(seller.log.core.length, 1, 'and the log did not grow')

  const recovered = once(seller, 'recovered')
  const bidder = await createPeer(t, testnet, { storage: bdir })
  await meshed([seller, bidder])
  await recovered
  const b = await seller.openAuction({ item: 'Pic#2', price: '1' })
  t.is(seller.log.core.length, lost + 1, 'once the tail is back, the next auction goes after it')
  t.not(b.id, a.id)
  await everywhere([bidder], b.id)
  await converged([seller, bidder])
})
