const test = require('brittle')
const c = require('compact-encoding')
const b4a = require('b4a')
const AuctionPeer = require('..')
const crypto = require('../lib/crypto')
const m = require('../lib/messages')
const {
  createBootstrap,
  createPeer,
  meshed,
  everywhere,
  once,
  until,
  when,
  PEER_EVENTS,
  rawClient
} = require('./helpers')
const { Author } = require('./helpers/events')

const { METHODS } = AuctionPeer

// Both know each other: a notice from one reaches the other. Checked at each peer-add or
// peer-remove of either.
function met(a, b) {
  const knows = (x, y) => x.peers().some((p) => p.publicKey === y.id)
  const check = () => knows(a, b) && knows(b, a)
  return when([a, b], PEER_EVENTS, check, 20000, `${a.name} and ${b.name} meet`)
}

// The peer holds the author's log as invalid (the row is written once the follower stops)
function invalid(peer, author) {
  return until(
    async () => {
      const row = await peer.view.getLog(author.id)
      return row !== null && row.invalid
    },
    10000,
    `${author.name}'s log invalid at ${peer.name}`
  )
}

// A real peer that writes what it likes into its own log: Hypercore signs it all the same
async function lie(liar, ...ats) {
  await liar.log.core.append(Author.block(...ats))
  liar.news.announce()
}

test('a bid altered in any one byte no longer verifies', (t) => {
  const seller = new Author()
  const bidder = new Author()
  const opened = seller.open('Pic#1', '75')
  const bid = bidder.bid(opened.id, '80')
  const buf = m.encode(m.bid, bid)
  t.ok(crypto.verifyBid(m.decode(m.bid, buf)), 'the bid as signed verifies')

  let tried = 0
  let caught = 0
  const uncoded = []
  for (let i = 0; i < buf.byteLength; i++) {
    for (const mask of [0x01, 0x80, 0xff]) {
      const copy = b4a.from(buf)
      copy[i] ^= mask
      tried++
      let ok
      try {
        ok = crypto.verifyBid(m.decode(m.bid, copy))
      } catch (err) {
        if (err.code !== 'BAD_REQUEST') uncoded.push(err)
        ok = false
      }
      if (!ok) caught++
    }
  }
  t.alike(uncoded, [], 'a copy that does not decode is a BAD_REQUEST')
  t.is(caught, tried, `all ${tried} altered copies are caught`)
})

test('the seller refuses a bid sent by another connection or altered after signing', async (t) => {
  const testnet = await createBootstrap(t)
  const seller = await createPeer(t, testnet, { name: 'seller' })
  const a = await seller.openAuction({ item: 'Pic#1', price: '75' })
  const auction = b4a.from(a.id, 'hex')

  const rpc = rawClient(t, testnet)
  const send = async (bid) => {
    try {
      const reply = await rpc.request(seller.publicKey, METHODS.bid, m.encode(m.bid, bid), {
        valueEncoding: c.raw
      })
      return m.decode(m.bidReply, reply, 'bid reply')
    } catch (err) {
      return err.cause && err.cause.code
    }
  }

  const victim = new Author()
  t.is(
    await send(victim.bid(auction, '100')),
    'BIDDER_MISMATCH',
    'a bid signed by someone else and relayed on this connection'
  )

  const self = new Author(rpc.defaultKeyPair)
  const altered = self.bid(auction, '100')
  altered.amount = 200000000n
  t.is(await send(altered), 'INVALID_SIGNATURE', 'the amount changed after signing')
  t.is((await seller.getAuction(a.id)).bidCount, 0, 'neither was accepted')

  const reply = await send(self.bid(auction, '100'))
  t.is(reply.position, 0, 'an honest raw bid is accepted first')
  t.ok(reply.index >= 1 && reply.acceptedAt > 0, 'the reply says where the seller put it')
  const held = await seller.getAuction(a.id)
  t.alike(
    held.bids.map((b) => [b.bidder, b.amount, b.position]),
    [[b4a.toString(rpc.defaultKeyPair.publicKey, 'hex'), '100', 1]],
    'the seller holds that bid, and only it (bid #1; the wire counts from 0)'
  )
})

// A seller with two auctions, a victim that follows it and bid on one, and a liar whose log
// writes about the other: the victim must refuse the lie and keep the seller's log
async function refusesLie(t, write) {
  const testnet = await createBootstrap(t)
  const seller = await createPeer(t, testnet, { name: 'seller' })
  const victim = await createPeer(t, testnet, { name: 'victim' })
  const liar = await createPeer(t, testnet, { name: 'liar' })
  await meshed([seller, victim, liar])

  const a = await seller.openAuction({ item: 'Pic#1', price: '75' })
  const other = await seller.openAuction({ item: 'Pic#2', price: '10' })
  await everywhere([victim], a.id)
  await everywhere([victim], other.id)
  await victim.placeBid(other.id, '12')
  await everywhere([victim], other.id, (x) => x.bidCount === 1)
  const digest = await seller.digest()

  const warned = once(victim, 'warning', (err) =>
    ['NOT_SELLER', 'AUCTION_NOT_FOUND'].includes(err.code)
  )
  await lie(liar, write(new Author(liar.keyPair), b4a.from(a.id, 'hex')))
  t.is((await warned).code, 'NOT_SELLER', 'the victim refuses it: the liar is not the seller')
  await t.execution(invalid(victim, liar), 'and holds the liar’s log as invalid')

  const held = await victim.getAuction(a.id)
  t.is(held.status, 'open', 'the auction is still open')
  t.alike(held.bids, [], 'and has no bids')

  t.is(await seller.digest(), digest, 'the seller’s own history is untouched')
  const sale = await seller.closeAuction(other.id)
  await everywhere([victim], other.id, (x) => x.status === 'closed')
  const sold = await victim.getAuction(other.id)
  t.alike(sold.winner, sale.winner, 'the genuine seller’s log is still followed')
  t.alike(
    sold.bids.map((b) => [b.bidder, b.amount]),
    [[victim.id, '12']],
    'with its bids intact'
  )
}

test('a log author cannot accept a bid on another seller’s auction', async (t) => {
  const bidder = new Author()
  await refusesLie(t, (author, id) => author.accept(bidder.bid(id, '80'), 0))
})

test('a log author cannot close another seller’s auction', async (t) => {
  await refusesLie(t, (author, id) => author.close(id, null, 0))
})

test('a log block with out-of-range fields is refused with its code', async (t) => {
  const testnet = await createBootstrap(t)
  const victim = await createPeer(t, testnet, { name: 'victim' })

  const cases = [
    ['INVALID_ITEM', 'an item over 256 bytes', { item: 'x'.repeat(257) }],
    ['INVALID_ITEM', 'an empty item', { item: '' }],
    ['INVALID_AMOUNT', 'a zero start price', { startPrice: 0n }],
    ['INVALID_CURRENCY', 'a bad currency', { currency: '$$$' }],
    ['INVALID_DURATION', 'an end before the opening', { endsAt: 1 }]
  ]
  for (const [code, what, fields] of cases) {
    const liar = await createPeer(t, testnet, { name: 'liar' })
    await met(victim, liar)
    const author = new Author(liar.keyPair)
    // A valid opening in the same block: a block is applied whole or not at all
    const fine = author.open('Pic#1', '1')
    const payload = {
      item: 'Pic#2',
      startPrice: 1n,
      currency: 'USDt',
      endsAt: 0,
      terms: m.NO_TERMS
    }
    const bad = {
      evt: { type: m.EVENT_OPENED, payload: { ...payload, createdAt: Date.now(), ...fields } }
    }

    const warned = once(victim, 'warning', (err) => err.code === code)
    await lie(liar, fine, bad)
    t.is((await warned).code, code, what)
    await t.execution(invalid(victim, liar), `${what}: the log is held as invalid`)
    const held = await victim.listAuctions()
    t.absent(
      held.some((x) => x.seller === liar.id),
      `${what}: no auction of the liar is held`
    )
  }

  t.is((await victim.listAuctions()).length, 0, 'nor any other')
})
