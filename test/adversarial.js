const test = require('brittle')
const RPC = require('@hyperswarm/rpc')
const DHT = require('hyperdht')
const c = require('compact-encoding')
const b4a = require('b4a')
const AuctionPeer = require('..')
const AuctionError = require('../lib/errors')
const m = require('../lib/messages')
const { createPeers, createBootstrap, createPeer, until } = require('./helpers')
const { Author } = require('./helpers/events')
const signing = require('../lib/signing')

const RANDOM_PER_METHOD = 2000
const { METHODS } = AuctionPeer

// Deterministic bytes, so a failure can be replayed
function prng(seed) {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let x = Math.imul(s ^ (s >>> 15), 1 | s)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

function randomBytes(rand, max) {
  const buf = b4a.alloc(Math.floor(rand() * max))
  for (let i = 0; i < buf.byteLength; i++) buf[i] = Math.floor(rand() * 256)
  return buf
}

function rawClient(t, testnet, keyPair = DHT.keyPair()) {
  const rpc = new RPC({ keyPair, bootstrap: testnet.bootstrap })
  t.teardown(() => rpc.destroy())
  return rpc
}

// 'ok', a coded error's code, or 'UNCODED' for anything a client could not branch on
async function call(rpc, key, method, buf) {
  try {
    await rpc.request(key, method, buf, { valueEncoding: c.raw })
    return 'ok'
  } catch (err) {
    const code = err.cause && err.cause.code
    return AuctionError.CODES.has(code) ? code : 'UNCODED:' + err.code + ':' + err.message
  }
}

async function inBatches(items, size, fn) {
  const out = []
  for (let i = 0; i < items.length; i += size) {
    out.push(...(await Promise.all(items.slice(i, i + size).map(fn))))
  }
  return out
}

test('random, truncated and bit-flipped payloads to every method: coded errors, peer intact', async (t) => {
  const { peers, testnet } = await createPeers(t, 2)
  const [seller, honest] = peers
  const a = await seller.openAuction({ item: 'Pic#1', price: '75' })
  await until(() => honest.views.has(a.id), 5000, 'auction at the honest peer')
  await honest.placeBid(a.id, '80')
  const digest = await seller.digest()

  const attacker = rawClient(t, testnet)
  const self = new Author(attacker.defaultKeyPair)
  const other = new Author()
  const valid = {
    [METHODS.hello]: m.encode(m.hello, { name: 'x', peers: [other.publicKey] }),
    [METHODS.event]: other.open('Pic#9', '1').buf,
    [METHODS.sync]: m.encode(m.syncRequest, { heads: [{ author: other.publicKey, length: 0 }] }),
    [METHODS.bid]: m.encode(m.bid, self.bid(b4a.from(a.id, 'hex'), '1000')),
    [METHODS.bye]: b4a.alloc(0),
    [METHODS.info]: c.encode(c.json, {}),
    [METHODS.auctions]: c.encode(c.json, {}),
    [METHODS.auction]: c.encode(c.json, { id: a.id })
  }

  const rand = prng(0x5eed)
  let sent = 0
  const uncoded = []
  for (const method of Object.values(METHODS)) {
    const payloads = []
    for (let i = 0; i < RANDOM_PER_METHOD; i++) payloads.push(randomBytes(rand, 600))
    const good = valid[method]
    for (let i = 0; i < good.byteLength; i++) payloads.push(good.subarray(0, i))
    for (let i = 0; i < good.byteLength * 8; i += 3) {
      const flipped = b4a.from(good)
      flipped[i >> 3] ^= 1 << (i & 7)
      payloads.push(flipped)
    }
    const codes = await inBatches(payloads, 32, (buf) =>
      call(attacker, seller.publicKey, method, buf)
    )
    sent += codes.length
    for (const code of codes) if (code.startsWith('UNCODED')) uncoded.push(method + ' ' + code)
  }

  t.comment(`${sent} hostile payloads sent`)
  t.ok(sent >= RANDOM_PER_METHOD * 8, `${sent} payloads`)
  t.alike(uncoded, [], 'every answer is a success or a coded error')
  t.is(await seller.digest(), digest, 'the history is unchanged')
  t.is((await seller.getAuction(a.id)).bids.length, 1, 'the one honest bid is still there')
  const later = await honest.placeBid(a.id, '81')
  t.is(later.position, 1, 'honest peers are still served')
})

test('inputs that raise TypeError, RangeError or SyntaxError inside a handler do not escape', async (t) => {
  const testnet = await createBootstrap(t)
  const peer = await createPeer(t, testnet)
  const rpc = rawClient(t, testnet)
  const json = (s) => b4a.from(s)
  const hugeArray = b4a.concat([b4a.from([0]), c.encode(c.uint, 2 ** 40)])

  t.is(
    await call(rpc, peer.publicKey, METHODS.auction, json('{"id":')),
    'BAD_REQUEST',
    'SyntaxError'
  )
  t.is(
    await call(rpc, peer.publicKey, METHODS.auction, c.encode(c.json, { id: { length: 32 } })),
    'INVALID_ID',
    'TypeError bait: an object for a string'
  )
  t.is(await call(rpc, peer.publicKey, METHODS.auction, c.encode(c.json, null)), 'BAD_REQUEST')
  t.is(await call(rpc, peer.publicKey, METHODS.hello, hugeArray), 'BAD_REQUEST', 'RangeError bait')
  t.is(
    await call(rpc, peer.publicKey, METHODS.sync, c.encode(c.uint, 2 ** 52)),
    'BAD_REQUEST',
    'absurd array length'
  )
  t.is(await call(rpc, peer.publicKey, METHODS.event, b4a.alloc(70 * 1024)), 'PAYLOAD_TOO_LARGE')
  const unknown = await call(rpc, peer.publicKey, 'no/such/method', b4a.alloc(1))
  t.ok(unknown.startsWith('UNCODED:UNKNOWN_METHOD'), 'an unknown method gets the RPC layer code')
  const info = c.decode(
    c.json,
    await rpc.request(peer.publicKey, METHODS.info, b4a.alloc(0), { valueEncoding: c.raw })
  )
  t.is(info.publicKey, peer.id, 'the peer is still up')
})

test('a flood from one peer is bounded and honest peers are still served', async (t) => {
  const { peers, testnet } = await createPeers(t, 2)
  const [seller, honest] = peers
  const a = await seller.openAuction({ item: 'Pic#1', price: '75' })
  await until(() => honest.views.has(a.id), 5000, 'auction at the honest peer')

  const attacker = rawClient(t, testnet)
  const sync = m.encode(m.syncRequest, { heads: [] })
  const rssBefore = process.memoryUsage().rss
  const flood = []
  for (let i = 0; i < 3000; i++) flood.push(call(attacker, seller.publicKey, METHODS.sync, sync))
  const bid = honest.placeBid(a.id, '80')
  const codes = await Promise.all(flood)
  const busy = codes.filter((code) => code === 'BUSY').length
  const grew = (process.memoryUsage().rss - rssBefore) / 2 ** 20
  t.comment(`RSS of the test process grew ${grew.toFixed(1)} MiB during the flood`)
  t.ok(busy > 0, `${busy} of 3000 flooding requests were refused as BUSY`)
  t.ok(
    codes.every((code) => code === 'ok' || code === 'BUSY'),
    'the rest were served'
  )
  t.is((await bid).position, 0, 'the honest bid went through during the flood')
})

test('a network secret keeps out every peer without it', async (t) => {
  const testnet = await createBootstrap(t)
  const seller = await createPeer(t, testnet, { secret: 'sesame', name: 'seller' })
  const member = await createPeer(t, testnet, { secret: 'sesame', name: 'member' })
  const outsider = await createPeer(t, testnet, { name: 'outsider' })
  await until(
    () => seller.peerTable.has(member.id) && member.peerTable.has(seller.id),
    10000,
    'members meet'
  )

  const a = await seller.openAuction({ item: 'Pic#1', price: '75' })
  await until(() => member.views.has(a.id), 5000, 'member sees the auction')
  await member.placeBid(a.id, '80')

  const rpc = rawClient(t, testnet)
  for (const method of Object.values(METHODS)) {
    const code = await call(rpc, seller.publicKey, method, b4a.alloc(0))
    t.ok(
      code.startsWith('UNCODED:CHANNEL_CLOSED'),
      `${method} is closed to a client without the secret`
    )
  }
  await outsider.syncNow()
  t.is(outsider.views.size, 0, 'an outsider learns nothing')
  t.absent(seller.peerTable.has(outsider.id), 'and is not a peer')
})

test('forged events inside a sync reply are refused; genuine ones in the same page are kept', async (t) => {
  const testnet = await createBootstrap(t)
  const victim = await createPeer(t, testnet)

  const honestSeller = new Author()
  const genuine = honestSeller.open('Pic#1', '75')
  const id = genuine.evt.payload.id
  const bidder = new Author()
  const liar = new Author()
  const forgedAccept = liar.accept(bidder.bid(id, '80'), 0)
  const forgedClose = liar.close(id, null, 0)
  const altered = b4a.from(honestSeller.open('Pic#2', '1').buf)
  altered[40] ^= 1

  // A hostile peer: greets the victim, then serves forged events when the victim pulls
  const keyPair = DHT.keyPair()
  const hostile = new RPC({ keyPair, bootstrap: testnet.bootstrap })
  t.teardown(() => hostile.destroy())
  const server = hostile.createServer()
  const raw = { requestEncoding: c.raw, responseEncoding: c.raw }
  let served = 0
  server.respond(METHODS.hello, raw, () => m.encode(m.hello, { name: 'liar', peers: [] }))
  server.respond(METHODS.sync, raw, () => {
    served++
    return m.encode(m.syncResponse, {
      events: [genuine.buf, forgedAccept.buf, forgedClose.buf, altered],
      more: false
    })
  })
  await server.listen(keyPair)
  await hostile.request(
    victim.publicKey,
    METHODS.hello,
    m.encode(m.hello, { name: 'liar', peers: [] }),
    {
      valueEncoding: c.raw
    }
  )

  await until(() => served > 0 && victim.views.has(b4a.toString(id, 'hex')), 10000, 'the pull')
  const a = await victim.getAuction(b4a.toString(id, 'hex'))
  t.is(a.status, 'open', 'the forged close by a non-seller was refused')
  t.is(a.bids.length, 0, 'the forged acceptance by a non-seller was refused')
  t.is(victim.views.size, 1, 'the altered event was refused')
  t.absent(victim.heads.has(b4a.toString(liar.publicKey, 'hex')), 'nothing of the liar is stored')
})

test('signed messages with out-of-range fields are refused with their codes', async (t) => {
  const { peers, testnet } = await createPeers(t, 1)
  const [seller] = peers
  const a = await seller.openAuction({ item: 'Pic#1', price: '75' })
  const rpc = rawClient(t, testnet)
  const self = new Author(rpc.defaultKeyPair)
  const auction = b4a.from(a.id, 'hex')
  const digest = await seller.digest()

  // Amounts travel as unsigned 64-bit integers: zero and anything above 2^63-1 are refused
  const bidOf = (amount) => {
    const bid = self.bid(auction, '100')
    bid.amount = amount
    return m.encode(m.bid, signing.signBid(bid, self.keyPair))
  }
  t.is(await call(rpc, seller.publicKey, METHODS.bid, bidOf(0n)), 'INVALID_AMOUNT', 'zero')
  t.is(await call(rpc, seller.publicKey, METHODS.bid, bidOf(2n ** 63n)), 'INVALID_AMOUNT', '2^63')
  t.is(
    await call(rpc, seller.publicKey, METHODS.bid, bidOf(2n ** 64n - 1n)),
    'INVALID_AMOUNT',
    'max'
  )

  const opened = (payload) => {
    const author = new Author()
    return author.event(m.EVENT_OPENED, {
      id: signing.auctionId(author.publicKey, 0),
      item: 'ok',
      startPrice: 1n,
      currency: 'USDt',
      endsAt: 0,
      createdAt: Date.now(),
      ...payload
    }).buf
  }
  const push = (buf) => call(rpc, seller.publicKey, METHODS.event, buf)
  t.is(await push(opened({ item: 'x'.repeat(257) })), 'INVALID_ITEM', 'item over 256 bytes')
  t.is(await push(opened({ item: '' })), 'INVALID_ITEM', 'empty item')
  t.is(await push(opened({ startPrice: 0n })), 'INVALID_AMOUNT', 'zero start price')
  t.is(await push(opened({ currency: '$$$' })), 'INVALID_CURRENCY', 'bad currency')
  t.is(await push(opened({ endsAt: 1 })), 'INVALID_DURATION', 'ends before it opens')
  t.is(await push(opened({ id: b4a.alloc(16) })), 'INVALID_ID', 'an id not derived from its seller')
  t.is(await seller.digest(), digest, 'nothing was stored')
})
