const test = require('brittle')
const path = require('path')
const { spawnCli, runJson } = require('./helpers/processes')
const {
  createBootstrap,
  createPeer,
  createPeers,
  everywhere,
  when,
  PEER_EVENTS
} = require('./helpers')

test('an acknowledged bid is held by its bidder as the seller’s signed block: the seller killed right after the answer cannot take it back', async (t) => {
  const testnet = await createBootstrap(t)
  const storage = path.join(await t.tmp(), 'seller')
  const [{ host, port }] = testnet.bootstrap
  const start = ['start', '--storage', storage, '--bootstrap', `${host}:${port}`]
  const seller = await spawnCli(
    t,
    [...start, '--host', '127.0.0.1', '--network', 'test', '--name', 'seller'],
    /Ready\./
  )
  const sellerKey = (await runJson(['id', '--storage', storage])).publicKey
  const bidder = await createPeer(t, testnet, { name: 'bidder' })
  const met = () => bidder.peers().some((p) => p.publicKey === sellerKey)
  await when([bidder], PEER_EVENTS, met, 10000, 'the bidder to meet the seller')
  const auction = await runJson(['open', 'Pic#1', '75', '--storage', storage])
  await everywhere([bidder], auction.id)

  await bidder.placeBid(auction.id, '75')
  const ack = await bidder.placeBid(auction.id, '80')
  seller.kill('SIGKILL')
  await seller.exited
  t.is(ack.confirmed, true, 'placeBid resolved with the block held')
  t.is((await bidder.getAuction(auction.id)).highestBid.amount, '80', 'the bidder shows its bid')

  // A peer that never met the seller takes the bid from the bidder: Hypercore checks the
  // seller's signature on what the bidder serves
  const late = await createPeer(t, testnet, { name: 'late' })
  await everywhere([late], auction.id, (a) => a.bidCount === 2, 20000)
  const view = await late.getAuction(auction.id)
  t.is(view.highestBid.amount, '80', 'a late joiner holds the bid, signed by the seller')
  t.is(view.highestBid.bidder, bidder.id)
})

test('bids in flight together share the seller’s blocks', async (t) => {
  const { peers } = await createPeers(t, 2)
  const [seller, bidder] = peers
  const auctions = []
  for (let i = 0; i < 16; i++) {
    auctions.push(await seller.openAuction({ item: 'Lot#' + i, price: '1' }))
  }
  await everywhere([bidder], auctions[15].id)
  const before = (await seller.info()).length
  const acks = await Promise.all(auctions.map((a) => bidder.placeBid(a.id, '2')))
  const blocks = (await seller.info()).length - before
  t.ok(
    acks.every((a) => a.confirmed),
    'every bid is held by the bidder'
  )
  t.comment(`16 bids in ${blocks} blocks`)
  t.ok(blocks <= 2, `16 bids sent together went into ${blocks} blocks (at most 2)`)
})
