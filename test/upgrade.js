const test = require('brittle')
const fs = require('fs')
const path = require('path')
const { createBootstrap, createPeer, meshed, everywhere } = require('./helpers')

const FIXTURE = path.join(__dirname, 'fixtures', 'storage-0.2.0')
const SOLD = 'f27e3c5d46a6ee0ab18a20792258705c'
const OPEN = '2e8fef43e93c9fa659368baf6194fbb1'
const SELLER = 'f7dd5d746f7325feb275619122ddfcf74104e3d494b486fd79eba0ef670427d2'
const BIDDER = '4d8272db39cf9fed01ff9a81d1cb9cccc5ea19baa382aa11bc7ea4f20f226e22'

async function copy(t, name) {
  const dir = path.join(await t.tmp(), name)
  fs.cpSync(path.join(FIXTURE, name), dir, { recursive: true })
  return dir
}

test('storage of 0.2.0 opens with the same identity and history, and takes new bids', async (t) => {
  const testnet = await createBootstrap(t)
  const seller = await createPeer(t, testnet, { storage: await copy(t, 'seller') })
  const bidder = await createPeer(t, testnet, { storage: await copy(t, 'bidder') })
  t.is(seller.id, SELLER, 'the seller keeps its key')
  t.is(bidder.id, BIDDER, 'the bidder keeps its key')

  // The bidder rebuilds from its own replica of the seller's log, as it follows it
  await everywhere([bidder], OPEN, (a) => a.bidCount === 1)
  for (const peer of [seller, bidder]) {
    const sold = await peer.getAuction(SOLD)
    t.is(sold.outcome, 'sold', `${peer.name}: the sale is still there`)
    t.alike(sold.winner, { bidder: BIDDER, amount: '80' })
    t.is(sold.terms.reserve, null, 'an auction of 0.2.0 has no terms')
    const open = await peer.getAuction(OPEN)
    t.is(open.status, 'open')
    t.alike(open.highestBid, { bidder: BIDDER, amount: '61' })
  }

  await meshed([seller, bidder])
  const bid = await bidder.placeBid(OPEN, '62')
  t.is(bid.position, 2, 'the next bid follows the old ones')
  t.ok(bid.confirmed, 'and is in the seller’s log')
  t.is((await seller.listAuctions()).length, 2)
})
