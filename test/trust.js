const test = require('brittle')
const fs = require('fs')
const path = require('path')
const b4a = require('b4a')
const AuctionPeer = require('..')
const crypto = require('../lib/crypto')
const m = require('../lib/messages')
const c = require('compact-encoding')
const { Author } = require('./helpers/events')
const {
  createBootstrap,
  createPeer,
  createPeers,
  everywhere,
  once,
  until,
  rejects,
  rawClient
} = require('./helpers')

test('a bid nonce names one bid: the same nonce with another amount is refused, a retry is not', async (t) => {
  const { peers } = await createPeers(t, 2)
  const [seller, bidder] = peers
  const a = await seller.openAuction({ item: 'Pic#1', price: '1' })
  await everywhere([bidder], a.id)
  const send = (bid) => sendBid(bidder, seller, bid)
  const sign = (amount, nonce) => signBid(bidder, a.id, amount, nonce)
  const nonce = crypto.randomNonce()
  const first = sign(2000000n, nonce)
  const accepted = await send(first)
  t.is(accepted.position, 0, 'the first bid is accepted')
  const again = await send(first)
  t.is(again.position, 0, 'the same signed bid sent again gets its acceptance again')
  await rejects(t, send(sign(3000000n, nonce)), 'NONCE_REUSED', 'another bid with its nonce')
  t.is((await seller.getAuction(a.id)).bidCount, 1, 'and nothing more is in the log')
  // Two bids with one nonce sent together: the second is judged while the first is on its way
  const twin = crypto.randomNonce()
  const both = await Promise.allSettled([send(sign(5000000n, twin)), send(sign(6000000n, twin))])
  const codes = both.map((r) => (r.status === 'fulfilled' ? 'ok' : r.reason.code)).sort()
  t.alike(codes, ['NONCE_REUSED', 'ok'], 'two bids sent together with one nonce: one goes in')
  t.is((await seller.getAuction(a.id)).bidCount, 2)
  await bidder.placeBid(a.id, '7')
  t.is((await seller.getAuction(a.id)).highestBid.amount, '7', 'a bid with a new nonce goes on')
})

test('after a restart the seller still knows every nonce its bids used: a retry gets its acceptance, another bid with a used nonce is refused', async (t) => {
  const testnet = await createBootstrap(t)
  const dir = path.join(await t.tmp(), 'seller')
  const seller = await createPeer(t, testnet, { storage: dir, name: 'seller' })
  const bidder = await createPeer(t, testnet, { name: 'bidder' })
  const a = await seller.openAuction({ item: 'Pic#1', price: '1' })
  await everywhere([bidder], a.id)
  const send = (peer, bid) => sendBid(bidder, peer, bid)
  const sign = (amount, nonce) => signBid(bidder, a.id, amount, nonce)
  // 40 bids: the first row of 32 bids and part of the second
  const bids = []
  for (let i = 0; i < 40; i++) {
    bids.push(sign(BigInt(1000000 * (i + 1)), crypto.randomNonce()))
    await send(seller, bids[i])
  }
  await seller.close()

  const again = await createPeer(t, testnet, { storage: dir })
  await until(() => again.peers().some((p) => p.publicKey === bidder.id), 20000, 'the bidder')
  t.is((await send(again, bids[5])).position, 5, 'a retry of bid 6 gets its acceptance again')
  t.is((await send(again, bids[35])).position, 35, 'and of bid 36, in the second row')
  await rejects(t, send(again, sign(99000000n, bids[35].nonce)), 'NONCE_REUSED', 'bid 36’s nonce')
  t.is((await again.getAuction(a.id)).bidCount, 40, 'nothing more is in the log')
})

test('a storage folder other users can write is refused; the peer makes its own private', async (t) => {
  const testnet = await createBootstrap(t)
  const dir = path.join(await t.tmp(), 'open')
  fs.mkdirSync(dir)
  fs.chmodSync(dir, 0o777)
  const opts = { bootstrap: testnet.bootstrap, host: '127.0.0.1', firewalled: false }
  const open = new AuctionPeer(dir, opts)
  const err = await rejects(t, open.ready(), 'STORAGE_UNSAFE', 'mode 777')
  t.ok(err.message.includes('chmod go-w'), `it says what to do: ${err.message}`)
  await open.close().catch(() => {})
  fs.chmodSync(dir, 0o755)
  const fixed = new AuctionPeer(dir, opts)
  t.teardown(() => fixed.close())
  await fixed.ready()
  t.pass('once fixed, it opens')

  const fresh = path.join(await t.tmp(), 'fresh', 'peer')
  const made = new AuctionPeer(fresh, opts)
  t.teardown(() => made.close())
  await made.ready()
  t.is(fs.statSync(fresh).mode & 0o777, 0o700, 'a new folder is the user’s alone')
})

test('33 troll keys on one auction: the seller refuses them all, and an honest bidder bids again', async (t) => {
  const { peers, testnet } = await createPeers(t, 2)
  const [seller, honest] = peers
  const a = await seller.openAuction({ item: 'Pic#1', price: '1' })
  await everywhere([honest], a.id)
  await honest.placeBid(a.id, '2')
  const id = b4a.from(a.id, 'hex')
  const trolls = []
  for (let i = 0; i < 33; i++) {
    const author = new Author()
    const rpc = rawClient(t, testnet, author.keyPair)
    // The last one bids the most there is: no bid can be higher
    const amount = i === 32 ? '9223372036854.775807' : String(3 + i)
    const bid = m.encode(m.bid, author.bid(id, amount))
    await rpc.request(seller.publicKey, AuctionPeer.METHODS.bid, bid, { valueEncoding: c.raw })
    trolls.push(b4a.toString(author.keyPair.publicKey, 'hex'))
  }
  t.is((await seller.getAuction(a.id)).bidCount, 34, '33 trolls bid after the honest bidder')
  await rejects(t, honest.placeBid(a.id, '40'), 'BID_TOO_LOW', 'nobody can outbid the last')

  for (const troll of trolls) await seller.refuseBidder(a.id, troll)
  const cleared = await seller.getAuction(a.id)
  t.is(cleared.refusedCount, 33, 'every troll is refused')
  t.is(cleared.refused.length, 33)
  t.is(cleared.highestBid.bidder, honest.id, 'the honest bid leads again')
  await everywhere([honest], a.id, (x) => x.refusedCount === 33)
  const bid = await honest.placeBid(a.id, '3')
  t.ok(bid.confirmed, 'and the honest bidder bids on at the price it left')
  t.is((await seller.getAuction(a.id)).highestBid.amount, '3')
})

// The error a raw request ends with
// A bid of bidder on the auction, signed with its key pair
function signBid(bidder, auctionId, amount, nonce) {
  const body = {
    auction: b4a.from(auctionId, 'hex'),
    bidder: bidder.publicKey,
    amount,
    nonce,
    createdAt: Date.now()
  }
  return crypto.signBid(body, bidder.keyPair)
}

// The bid sent by RPC as it stands, without placeBid's retries: the seller's reply
function sendBid(bidder, seller, bid) {
  return bidder.net
    .request(seller.publicKey, AuctionPeer.METHODS.bid, m.encode(m.bid, bid))
    .then((res) => m.decode(m.bidReply, res))
}

async function refusal(promise) {
  try {
    await promise
  } catch (err) {
    return err
  }
  return { cause: { code: 'resolved' } }
}

test('a settlement record in a block of version 2 (0.4) still reads, without a claim', (t) => {
  // Version 2's record: the same fields without the claim signature
  const payload = {
    auction: b4a.alloc(16, 1),
    buyer: b4a.alloc(32, 2),
    txHash: b4a.alloc(32, 3),
    blockNumber: 7,
    payer: b4a.alloc(20, 4),
    amount: 80000000n,
    settledAt: 1000
  }
  const v3 = m.encode(m.block, [{ type: m.EVENT_SETTLED, payload: { ...payload, claim: null } }])
  // The same block as 0.4 wrote it: version 2, and no claim field (the optional's flag byte)
  const v2 = b4a.concat([c.encode(c.uint, 2), v3.subarray(1, v3.byteLength - 1)])
  const [evt] = m.decode(m.block, v2, 'a block of 0.4')
  t.is(evt.type, m.EVENT_SETTLED)
  t.is(evt.payload.claim, null, 'no claim')
  t.is(evt.payload.blockNumber, 7, 'and the rest as written')
  t.is(evt.payload.amount, 80000000n)
  const [again] = m.decode(m.block, v3, 'a block of 0.5')
  t.alike(again.payload, { ...payload, claim: null }, 'version 3 carries the claim field')
})

test('a seller blocks a troll from all its auctions: signed into its log, refused on every open one, kept over a restart', async (t) => {
  const testnet = await createBootstrap(t)
  const storage = path.join(await t.tmp(), 'seller')
  const { peers } = await createPeers(t, 2, { testnet })
  const [follower, honest] = peers
  let seller = await createPeer(t, testnet, { storage })
  const a = await seller.openAuction({ item: 'Pic#1', price: '1' })
  const b = await seller.openAuction({ item: 'Pic#2', price: '1' })
  await everywhere([honest, follower], b.id)
  await honest.placeBid(a.id, '2')

  const troll = new Author()
  const rpc = rawClient(t, testnet, troll.keyPair)
  const trollHex = b4a.toString(troll.keyPair.publicKey, 'hex')
  const send = (id, amount) =>
    rpc.request(seller.publicKey, AuctionPeer.METHODS.bid, m.encode(m.bid, troll.bid(id, amount)), {
      valueEncoding: c.raw
    })
  await send(b4a.from(a.id, 'hex'), '9223372036854.775807')
  await send(b4a.from(b.id, 'hex'), '5')
  t.is((await seller.getAuction(a.id)).highestBid.bidder, trollHex, 'the troll leads on both')
  t.is((await seller.getAuction(b.id)).highestBid.bidder, trollHex)

  const heard = once(follower, 'bidder-blocked', (e) => e.bidder === trollHex)
  const res = await seller.blockBidder(trollHex)
  t.ok(res.changed, 'blocked')
  t.alike(res.refused.sort(), [a.id, b.id].sort(), 'and refused on both open auctions')
  t.is((await seller.getAuction(a.id)).highestBid.bidder, honest.id, 'the honest bid leads again')
  t.is((await seller.getAuction(b.id)).highestBid, null, 'nobody leads the other one')
  const seen = await heard
  t.is(seen.seller, seller.id, 'another peer reads the block list from the seller’s log')
  t.ok(seen.blocked)

  // A new auction, and the troll's bids everywhere, are refused before their signature is read
  const later = await seller.openAuction({ item: 'Pic#3', price: '1' })
  t.is((await refusal(send(b4a.from(later.id, 'hex'), '2'))).cause.code, 'BIDDER_BLOCKED')
  await seller.cancelAuction(b.id)
  t.is(
    (await seller.getAuction(b.id)).outcome,
    'cancelled',
    'an auction only the troll bid on can be cancelled'
  )
  t.absent((await seller.blockBidder(trollHex)).changed, 'blocking again changes nothing')

  await seller.close()
  seller = await createPeer(t, testnet, { storage })
  t.alike(await seller.blockedBidders(), [trollHex], 'the list is kept over a restart')
  t.is((await refusal(send(b4a.from(later.id, 'hex'), '3'))).cause.code, 'BIDDER_BLOCKED')
  const lifted = await seller.blockBidder(trollHex, { blocked: false })
  t.ok(lifted.changed, 'and can be lifted')
  await send(b4a.from(later.id, 'hex'), '4')
  t.is((await seller.getAuction(later.id)).highestBid.bidder, trollHex, 'after which it bids again')
  await rejects(t, seller.blockBidder(seller.id), 'OWN_AUCTION', 'a seller cannot block itself')
})

test('1,000 troll keys blocked at once: a few blocks of the seller’s log, and every peer holds the list', async (t) => {
  const { peers } = await createPeers(t, 2)
  const [seller, follower] = peers
  const a = await seller.openAuction({ item: 'Pic#1', price: '1' })
  await everywhere([follower], a.id)
  const before = seller.log.core.length
  const keys = []
  for (let i = 0; i < 1000; i++) keys.push(b4a.toString(new Author().keyPair.publicKey, 'hex'))
  let heard = 0
  follower.on('bidder-blocked', () => heard++)
  const results = await Promise.all(keys.map((key) => seller.blockBidder(key)))
  t.ok(
    results.every((r) => r.changed),
    'every key is blocked'
  )
  t.is((await seller.blockedBidders()).length, 1000)
  const blocks = seller.log.core.length - before
  t.ok(blocks <= 20, `in ${blocks} blocks of the log`)
  await until(() => heard === 1000, 20000, 'the other peer hearing of every block')
  t.pass('the other peer heard of every one')
})

test('a bid being judged when the seller blocks its bidder is refused, not put after the block', async (t) => {
  const testnet = await createBootstrap(t)
  const seller = await createPeer(t, testnet, { name: 'seller' })
  const troll = new Author()
  const key = troll.keyPair.publicKey
  const a = await seller.openAuction({ item: 'Lamp', price: '1' })
  // The bid handler's own path: judged over a few reads, while the block is queued in this tick
  const judged = seller.sequencer.bid(troll.bid(b4a.from(a.id, 'hex'), '5'), key)
  const blocking = seller.sequencer.blockEverywhere(key, true)
  await rejects(t, judged, 'BIDDER_BLOCKED', 'the bid is refused')
  t.ok((await blocking).changed)
  t.is((await seller.getAuction(a.id)).highestBid, null, 'and no bid of the blocked bidder stands')
})
