const test = require('brittle')
const c = require('compact-encoding')
const m = require('../lib/messages')
const path = require('path')
const { createBootstrap, createPeer, createPeers, everywhere, once, rejects } = require('./helpers')
const { Author } = require('./helpers/events')
const { MAX_AMOUNT, formatAmount } = require('../lib/money')

test('minimum increment and buy-now price are enforced, and buying now ends the auction', async (t) => {
  const { peers } = await createPeers(t, 3)
  const [seller, alice, bob] = peers

  const a = await seller.openAuction({ item: 'Lamp', price: '100', increment: '5%', buyNow: '200' })
  t.alike(a.terms.incrementPercent, '5')
  t.is(a.terms.buyNow, '200')
  await everywhere(peers, a.id)

  await alice.placeBid(a.id, '100')
  // Bob's view holds Alice's bid (a rejection does not wait for the seller's log)
  await everywhere([bob], a.id, (x) => x.bids.length === 1)
  await rejects(t, bob.placeBid(a.id, '104.99'), 'BID_TOO_LOW', '5% over 100 is 105')
  t.is((await bob.getAuction(a.id)).minimumBid, '105', 'the next acceptable bid is shown')
  await bob.placeBid(a.id, '105')
  await rejects(t, alice.placeBid(a.id, '201'), 'BID_ABOVE_BUY_NOW', 'above buy-now')

  const closed = peers.map((p) => once(p, 'auction-closed', (s) => s.auction.id === a.id))
  const bought = await alice.placeBid(a.id, '200')
  t.is(bought.position, 3, 'the buy-now bid is bid #3')
  for (const sale of await Promise.all(closed)) {
    t.is(sale.outcome, 'sold')
    t.alike(sale.winner, { bidder: alice.id, amount: '200' }, 'every peer sees it bought now')
  }
  await rejects(t, bob.placeBid(a.id, '200'), 'AUCTION_CLOSED', 'nothing after buy-now')

  const b = await seller.openAuction({ item: 'Chair', price: '10', increment: '2.5' })
  await everywhere(peers, b.id)
  await alice.placeBid(b.id, '10')
  await rejects(t, bob.placeBid(b.id, '12.49'), 'BID_TOO_LOW', 'an absolute increment')
  await bob.placeBid(b.id, '12.5')
})

test('below the reserve an auction ends unsold, on every peer', async (t) => {
  const { peers } = await createPeers(t, 2)
  const [seller, alice] = peers

  await rejects(
    t,
    seller.openAuction({ item: 'Vase', price: '10', reserve: '5' }),
    'INVALID_TERMS',
    'a reserve under the start price'
  )
  const a = await seller.openAuction({ item: 'Vase', price: '10', reserve: '50' })
  await everywhere(peers, a.id)
  await alice.placeBid(a.id, '20')
  t.is((await alice.getAuction(a.id)).reserveMet, false)

  const sale = await seller.closeAuction(a.id)
  t.is(sale.outcome, 'unsold')
  t.is(sale.winner, null, 'no winner below the reserve')
  await everywhere(peers, a.id, (x) => x.outcome === 'unsold' && x.winner === null)
})

test('a bid in the soft-close window extends the end, up to the cap', async (t) => {
  const { peers } = await createPeers(t, 3)
  const [seller, alice, bob] = peers

  const a = await seller.openAuction({
    item: 'Clock',
    price: '1',
    duration: 4000,
    softClose: 2500,
    maxExtensions: 1
  })
  await everywhere(peers, a.id)
  const firstEnd = a.endsAt

  await new Promise((resolve) => setTimeout(resolve, Math.max(0, firstEnd - Date.now() - 2000)))
  const extended = once(bob, 'auction-extended', (e) => e.auction.id === a.id)
  const closed = once(bob, 'auction-closed', (s) => s.auction.id === a.id)
  const late = await alice.placeBid(a.id, '2')
  const ext = await extended
  t.is(ext.extensions, 1, 'other peers hear of the extension')
  t.is(ext.endsAt, late.acceptedAt + 2500, 'the end moved to the window after the bid')

  await bob.placeBid(a.id, '3')
  const held = await bob.getAuction(a.id)
  t.is(held.extensions, 1, 'no extension past the cap')
  t.is(held.endsAt, ext.endsAt)

  const sale = await closed
  t.alike(
    sale.winner,
    { bidder: bob.id, amount: '3' },
    'the seller’s node closed it at the new end'
  )
  t.ok(sale.closedAt >= ext.endsAt, 'not before the extended end')
})

test('a seller cancels an auction only while no bid stands', async (t) => {
  const { peers } = await createPeers(t, 2)
  const [seller, alice] = peers

  const a = await seller.openAuction({ item: 'Rug', price: '5' })
  const b = await seller.openAuction({ item: 'Mat', price: '5' })
  await everywhere(peers, b.id)
  await rejects(t, alice.cancelAuction(a.id), 'NOT_SELLER', 'only the seller cancels')

  const cancelled = once(alice, 'auction-closed', (s) => s.auction.id === a.id)
  t.is((await seller.cancelAuction(a.id)).outcome, 'cancelled')
  t.is((await cancelled).outcome, 'cancelled', 'other peers are told')
  await rejects(t, alice.placeBid(a.id, '5'), 'AUCTION_CLOSED', 'no bid on a cancelled auction')

  await alice.placeBid(b.id, '5')
  await rejects(t, seller.cancelAuction(b.id), 'HAS_BIDS', 'a standing bid prevents a cancel')
})

test('refusing a bidder voids its bids on every peer: the answer to a troll bid', async (t) => {
  const { peers } = await createPeers(t, 4)
  const [seller, alice, bob, troll] = peers

  const a = await seller.openAuction({ item: 'Pic#1', price: '10' })
  await everywhere(peers, a.id)
  await alice.placeBid(a.id, '20')
  await troll.placeBid(a.id, formatAmount(MAX_AMOUNT))
  await rejects(t, bob.placeBid(a.id, '30'), 'BID_TOO_LOW', 'the troll bid locks the auction')

  const refusedAt = peers.map((p) => once(p, 'bidder-refused', (e) => e.auction.id === a.id))
  await seller.refuseBidder(a.id, troll.id)
  for (const e of await Promise.all(refusedAt)) t.is(e.bidder, troll.id, 'every peer is told')
  await everywhere(
    peers,
    a.id,
    (x) => x.highestBid && x.highestBid.bidder === alice.id && x.refused.includes(troll.id)
  )
  const shown = await bob.getAuction(a.id)
  t.alike(
    shown.bids.map((b) => [b.position, b.refused]),
    [
      [1, false],
      [2, true]
    ],
    'the troll bid stays in the history, marked refused'
  )

  await rejects(t, troll.placeBid(a.id, '40'), 'BIDDER_REFUSED', 'the troll is refused')
  await bob.placeBid(a.id, '30')
  const sale = await seller.closeAuction(a.id)
  t.alike(sale.winner, { bidder: bob.id, amount: '30' })
  await everywhere(peers, a.id, (x) => x.winner && x.winner.bidder === bob.id)
})

test('bidders hear when they are outbid and when an auction they take part in ends soon', async (t) => {
  const { peers } = await createPeers(t, 3, { peer: { endingSoon: 2500 } })
  const [seller, alice, bob] = peers

  const a = await seller.openAuction({ item: 'Bike', price: '1', duration: 5000 })
  await everywhere(peers, a.id)
  const soonSeller = once(seller, 'ending-soon', (e) => e.auction.id === a.id)
  const soonAlice = once(alice, 'ending-soon', (e) => e.auction.id === a.id)
  await alice.placeBid(a.id, '1')
  const outbid = once(alice, 'outbid', (e) => e.auction.id === a.id)
  await bob.placeBid(a.id, '2')
  const o = await outbid
  t.is(o.bid.bidder, bob.id, 'alice is told who outbid her')
  t.is(o.previous, '1', 'and what she had bid')

  for (const e of await Promise.all([soonSeller, soonAlice])) {
    t.ok(e.endsAt - Date.now() <= 2500, 'ending soon comes within the lead time of the end')
  }
})

test('a block written before terms existed reads as an auction without terms', (t) => {
  const v1 = c.encode(c.uint, 1)
  const opened = c.encode(
    c.array({
      preencode(state, e) {
        c.uint.preencode(state, e.type)
        m.auctionOpened.fields
          .filter(([name]) => !['terms', 'settlement', 'picture'].includes(name))
          .forEach(([name, enc]) => enc.preencode(state, e.payload[name]))
      },
      encode(state, e) {
        c.uint.encode(state, e.type)
        m.auctionOpened.fields
          .filter(([name]) => !['terms', 'settlement', 'picture'].includes(name))
          .forEach(([name, enc]) => enc.encode(state, e.payload[name]))
      }
    }),
    [
      {
        type: m.EVENT_OPENED,
        payload: { item: 'Old', startPrice: 1n, currency: 'USDt', endsAt: 0, createdAt: 1 }
      }
    ]
  )
  const [evt] = m.decode(m.block, Buffer.concat([v1, opened]))
  t.is(evt.payload.item, 'Old')
  t.alike(evt.payload.terms, m.NO_TERMS)
  t.is(evt.payload.picture, null)
})

test('a block of version 3 (0.5) reads as an opening without a picture', (t) => {
  const payload = {
    item: 'Pic#1',
    startPrice: 75000000n,
    currency: 'USDt',
    endsAt: 0,
    createdAt: 1,
    terms: { ...m.NO_TERMS },
    settlement: null,
    picture: null
  }
  const v4 = m.encode(m.block, [{ type: m.EVENT_OPENED, payload }])
  t.is(v4[0], 4, 'written as version 4')
  // The same block as 0.5 wrote it: version 3, and no picture field (the optional's flag byte)
  const v3 = Buffer.concat([c.encode(c.uint, 3), v4.subarray(1, v4.byteLength - 1)])
  const [evt] = m.decode(m.block, v3)
  t.alike(evt.payload, payload, 'the same opening, with picture null')
  // Version 3 has no block list: a BidderBlocked in it is no event of that version
  const blocked = m.encode(m.block, [
    { type: m.EVENT_BLOCKED, payload: { bidder: Buffer.alloc(32, 1), blocked: true, blockedAt: 1 } }
  ])
  t.exception(() => m.decode(m.block, Buffer.concat([c.encode(c.uint, 3), blocked.subarray(1)])))
})

test('a refusal in the same block as the bids it voids is applied the same way by followers', async (t) => {
  const { peers } = await createPeers(t, 2)
  const [writer, observer] = peers
  const seller = new Author(writer.keyPair)
  const alice = new Author()
  const troll = new Author()

  // One block, as the seller's batcher may write it: open, two bids, the refusal
  const opened = seller.open('Pic#1', '10')
  const fair = alice.bid(opened.id, '20')
  const huge = troll.bid(opened.id, '1000')
  const events = [
    opened,
    seller.accept(fair, 0),
    seller.accept(huge, 1),
    seller.refuse(opened.id, troll.publicKey)
  ]
  await writer.log.core.append(Author.block(...events))
  writer.news.announce()

  const idHex = opened.id.toString('hex')
  await everywhere([observer], idHex, (x) => x.refused.length === 1)
  const held = await observer.getAuction(idHex)
  t.alike(
    held.highestBid,
    { bidder: alice.publicKey.toString('hex'), amount: '20' },
    'the fair bid leads again'
  )
  t.is(held.minimumBid, '20.000001')
})

test('bids of one auction packed many to a block are applied by a follower in order, across rows of stored bids', async (t) => {
  const testnet = await createBootstrap(t)
  const dir = path.join(await t.tmp(), 'observer')
  const writer = await createPeer(t, testnet, { name: 'writer' })
  let observer = await createPeer(t, testnet, { storage: dir, name: 'observer' })
  const seller = new Author(writer.keyPair)
  const bidders = [new Author(), new Author(), new Author()]

  // 70 bids in blocks of 25, as a busy seller's group commit writes them: a block crosses the
  // 32 bids stored to a row, twice
  const opened = seller.open('Pic#1', '1')
  await writer.log.core.append(Author.block(opened))
  const amounts = []
  for (let start = 0; start < 70; start += 25) {
    const events = []
    for (let position = start; position < Math.min(70, start + 25); position++) {
      const amount = String(2 + position)
      amounts.push(amount)
      const bid = bidders[position % 3].bid(opened.id, amount)
      events.push(seller.accept(bid, position))
    }
    await writer.log.core.append(Author.block(...events))
  }
  writer.news.announce()

  const idHex = opened.id.toString('hex')
  await everywhere([observer], idHex, (x) => x.bidCount === 70)
  for (const when of ['applied', 'after a restart, from storage']) {
    const held = await observer.getAuction(idHex)
    t.alike(
      held.bids.map((b) => b.amount),
      amounts,
      `every bid, in order (${when})`
    )
    t.alike(
      held.bids.map((b) => b.position),
      amounts.map((_, i) => i + 1)
    )
    t.is(held.highestBid.amount, '71')
    t.is(held.highestBid.bidder, bidders[69 % 3].publicKey.toString('hex'))
    await observer.close()
    observer = await createPeer(t, testnet, { storage: dir, name: 'observer' })
  }
})
