const test = require('brittle')
const path = require('path')
const OwnLog = require('../lib/log')
const { Author } = require('./helpers/events')
const { store } = require('./helpers/stores')
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
  t.ok(
    seller.log.pushed > 0,
    `the seller pushed blocks ahead of its answers (${seller.log.pushed})`
  )
  t.ok(
    seller.log.pushed <= blocks,
    `each block went to the bidder once, not once for each of its bids (${seller.log.pushed} pushes)`
  )
  t.comment(`16 bids in ${blocks} blocks`)
  t.ok(blocks <= 2, `16 bids sent together went into ${blocks} blocks (at most 2)`)
  await t.exception(bidder.placeBid(auctions[0].id, '2'), /BID_TOO_LOW/)
  t.is(seller.log.inHand, 0, 'no bid is left in hand, answered or refused')
})

test('a bidder with a bid in flight is pushed the other bidders’ blocks too, unasked', async (t) => {
  const { peers } = await createPeers(t, 3)
  const [seller, first, second] = peers
  const auction = await seller.openAuction({ item: 'Pic#1', price: '75' })
  await everywhere([first, second], auction.id)
  await first.placeBid(auction.id, '75')
  const before = seller.log.pushed
  await second.placeBid(auction.id, '80')
  t.is(
    seller.log.pushed - before,
    2,
    'the block with the second bid was pushed to both bidders (the first still takes pushes)'
  )
  await everywhere([first], auction.id, (a) => a.highestBid && a.highestBid.amount === '80')
  t.pass('the first bidder shows the second bid')
})

test('an append waits a moment for bids still being judged: they share its block', async (t) => {
  const s = await store(t)
  const log = new OwnLog(s, await s.createKeyPair('own'))
  t.teardown(() => log.close())
  await log.ready()
  const author = new Author(log.keyPair)
  const one = author.open('Pic#1').evt
  const two = author.open('Pic#2').evt
  // A bid is being judged when the first event is queued; it is queued on the next turn
  log.judging++
  const first = log.queue(one)
  const second = new Promise((resolve) => {
    setImmediate(() => {
      resolve(log.queue(two))
      log.judging--
    })
  })
  await first.appended
  await (
    await second
  ).appended
  t.is(log.core.length, 1, 'both events went into one block')
  t.is(log.appends, 1, 'with one append')

  // Nothing being judged: the append goes at once
  const alone = log.queue(author.open('Pic#3').evt)
  await alone.appended
  t.is(log.core.length, 2, 'a lone event has its own block, without waiting')
})

test('under load an append waits for a quarter more bids than the last one carried, no more than were in hand at once; idle, a lone bid goes at once', async (t) => {
  const s = await store(t)
  // Waits of up to 200 ms (25 ms by default), under load for 200 ms after an append of several
  // events (20 ms), bids in hand remembered for 200 ms (1 s): a stall of a busy machine ends
  // neither a wait nor the load here
  const opts = { lingerMs: 200, loadedMs: 200, peakMs: 200 }
  const log = new OwnLog(s, await s.createKeyPair('own'), opts)
  t.teardown(() => log.close())
  await log.ready()
  const author = new Author(log.keyPair)
  // A bid as the seller takes it: in hand from its place in the log until it is answered
  const bid = (i) => {
    const at = log.queue(author.open('Lot#' + i).evt)
    log.hold()
    at.appended.then(
      () => log.release(),
      () => log.release()
    )
    return at
  }
  const nextTurn = (fn) => new Promise((resolve) => setImmediate(() => resolve(fn())))

  // Four bids in one tick, eight in hand at once: one block, the log under load from then on
  for (let i = 0; i < 4; i++) log.hold()
  await Promise.all([bid(1), bid(2), bid(3), bid(4)].map((at) => at.appended))
  for (let i = 0; i < 4; i++) log.release()
  t.is(log.core.length, 1, 'four bids queued together share a block')

  // The next append waits for five (a quarter more than four): four come a turn later, the
  // fifth a turn after them
  const first = bid(5)
  const three = await nextTurn(() => [bid(6), bid(7), bid(8)])
  const fifth = await nextTurn(() => bid(9))
  await Promise.all([first, ...three, fifth].map((at) => at.appended))
  t.is(first.index, fifth.index, 'the fifth bid joined the block of the four before it')
  t.is(log.core.length, 2, 'five bids in the second block')
  t.is(log.inHand, 0, 'every bid answered is out of hand')

  // Idle for longer than the load and the bids in hand are remembered
  await new Promise((resolve) => setTimeout(resolve, 500))
  const alone = bid(10)
  const next = await nextTurn(() => bid(11))
  await Promise.all([alone.appended, next.appended])
  t.is(log.core.length, 4, 'after a pause, a bid does not wait for others')
  t.not(alone.index, next.index)

  // Two bidders bidding one at a time: two bids in hand at most. Their next two go at once,
  // without waiting for a third that cannot come before they are answered
  await Promise.all([bid(12), bid(13)].map((at) => at.appended))
  const pair = [bid(14), bid(15)]
  const third = await nextTurn(() => bid(16))
  await Promise.all([...pair, third].map((at) => at.appended))
  t.is(pair[0].index, pair[1].index, 'the two bids share a block')
  t.not(third.index, pair[1].index, 'which went without waiting for a third')
})
