const test = require('brittle')
const fs = require('fs')
const path = require('path')
const b4a = require('b4a')
const AuctionPeer = require('..')
const crypto = require('../lib/crypto')
const m = require('../lib/messages')
const { createBootstrap, createPeers, everywhere, rejects } = require('./helpers')

test('a bid nonce names one bid: the same nonce with another amount is refused, a retry is not', async (t) => {
  const { peers } = await createPeers(t, 2)
  const [seller, bidder] = peers
  const a = await seller.openAuction({ item: 'Pic#1', price: '1' })
  await everywhere([bidder], a.id)
  const send = (bid) =>
    bidder.net
      .request(seller.publicKey, AuctionPeer.METHODS.bid, m.encode(m.bid, bid))
      .then((res) => m.decode(m.bidReply, res))
  const sign = (amount, nonce) =>
    crypto.signBid(
      {
        auction: b4a.from(a.id, 'hex'),
        bidder: bidder.publicKey,
        amount,
        nonce,
        createdAt: Date.now()
      },
      bidder.keyPair
    )
  const nonce = crypto.randomNonce()
  const first = sign(2000000n, nonce)
  const accepted = await send(first)
  t.is(accepted.position, 0, 'the first bid is accepted')
  const again = await send(first)
  t.is(again.position, 0, 'the same signed bid sent again gets its acceptance again')
  await rejects(t, send(sign(3000000n, nonce)), 'NONCE_REUSED', 'another bid with its nonce')
  t.is((await seller.getAuction(a.id)).bidCount, 1, 'and nothing more is in the log')
  await bidder.placeBid(a.id, '3')
  t.is((await seller.getAuction(a.id)).highestBid.amount, '3', 'a bid with a new nonce goes on')
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
