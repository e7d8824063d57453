const test = require('brittle')
const RPC = require('@hyperswarm/rpc')
const DHT = require('hyperdht')
const c = require('compact-encoding')
const b4a = require('b4a')
const AuctionPeer = require('..')
const signing = require('../lib/signing')
const m = require('../lib/messages')
const { createPeers, createBootstrap, createPeer } = require('./helpers')
const { Author } = require('./helpers/events')

test('an event altered in any one byte no longer verifies', (t) => {
  const seller = new Author()
  const bidder = new Author()
  const opened = seller.open('Pic#1', '75')
  const bid = bidder.bid(opened.evt.payload.id, '80')
  const accepted = seller.accept(bid, 0)

  let rejected = 0
  for (const { buf } of [opened, accepted]) {
    for (let i = 0; i < buf.byteLength; i++) {
      const copy = b4a.from(buf)
      copy[i] ^= 0x01
      let ok = false
      try {
        const evt = m.decode(m.event, copy)
        const p = evt.payload
        ok = signing.verifyEvent(evt) && (!p.bid || signing.verifyBid(p.bid))
      } catch {
        ok = false
      }
      if (!ok) rejected++
    }
  }
  t.is(rejected, opened.buf.byteLength + accepted.buf.byteLength, 'every flipped byte is caught')
})

test('a peer refuses altered and forged events pushed over raw RPC, state unchanged', async (t) => {
  const testnet = await createBootstrap(t)
  const victim = await createPeer(t, testnet)
  const rpc = new RPC({ keyPair: DHT.keyPair(), bootstrap: testnet.bootstrap })
  t.teardown(() => rpc.destroy())

  const push = async (buf) => {
    try {
      await rpc.request(victim.publicKey, AuctionPeer.METHODS.event, buf, { valueEncoding: c.raw })
      return 'accepted'
    } catch (err) {
      return err.cause && err.cause.code
    }
  }

  const seller = new Author()
  const opened = seller.open('Pic#1', '75')
  const before = await victim.digest()

  const altered = b4a.from(opened.buf)
  altered[altered.byteLength - 70] ^= 0x01
  t.is(await push(altered), 'INVALID_SIGNATURE', 'one altered byte')

  const impostor = new Author()
  const forged = { ...opened.evt, author: impostor.publicKey }
  t.is(await push(m.encode(m.event, forged)), 'INVALID_SIGNATURE', 'forged author')

  t.is(await push(b4a.from('garbage')), 'BAD_REQUEST', 'garbage')
  t.is(await victim.digest(), before, 'nothing was stored')
  t.is(victim.views.size, 0)

  t.is(await push(opened.buf), 'accepted', 'the genuine event is accepted')
  t.is(await push(opened.buf), 'accepted', 'a replay is idempotent')
  t.is(victim.views.size, 1)
  t.is(victim.heads.get(b4a.toString(seller.publicKey, 'hex')), 1, 'applied once')

  const bidder = new Author()
  const id = opened.evt.payload.id
  const byOther = impostor.accept(bidder.bid(id, '80'), 0)
  t.is(await push(byOther.buf), 'NOT_SELLER', 'a bid accepted by someone not the seller')
  const closeByOther = impostor.close(id, null, 0)
  t.is(await push(closeByOther.buf), 'INVALID_EVENT', 'later events of a lying author')
  t.is((await victim.getAuction(id)).status, 'open', 'the auction stays open')
})

test('the seller refuses a bid sent by anyone but its bidder', async (t) => {
  const { peers, testnet } = await createPeers(t, 2)
  const [seller] = peers
  const a = await seller.openAuction({ item: 'Pic#1', price: '75' })

  const rpc = new RPC({ keyPair: DHT.keyPair(), bootstrap: testnet.bootstrap })
  t.teardown(() => rpc.destroy())
  const send = async (bid) => {
    try {
      await rpc.request(seller.publicKey, AuctionPeer.METHODS.bid, m.encode(m.bid, bid), {
        valueEncoding: c.raw
      })
      return 'accepted'
    } catch (err) {
      return err.cause && err.cause.code
    }
  }

  const victim = new Author()
  const stolen = victim.bid(b4a.from(a.id, 'hex'), '100')
  t.is(await send(stolen), 'BIDDER_MISMATCH', 'a bid relayed by another connection')

  const self = new Author(rpc.defaultKeyPair)
  const forged = self.bid(b4a.from(a.id, 'hex'), '100')
  forged.amount = 200000000n
  t.is(await send(forged), 'INVALID_SIGNATURE', 'amount changed after signing')

  t.is(await send(self.bid(b4a.from(a.id, 'hex'), '100')), 'accepted', 'an honest raw bid')
  t.is((await seller.getAuction(a.id)).bids.length, 1)
})
