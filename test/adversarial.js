const test = require('brittle')
const c = require('compact-encoding')
const b4a = require('b4a')
const AuctionPeer = require('..')
const AuctionError = require('../lib/errors')
const crypto = require('../lib/crypto')
const m = require('../lib/messages')
const {
  createPeers,
  createBootstrap,
  createPeer,
  everywhere,
  meshed,
  until,
  rawNode,
  rawClient,
  emptyHello,
  RAW
} = require('./helpers')
const { Author } = require('./helpers/events')

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

// One connection of a raw client, kept for every request it sends
function rawConnection(t, rpc, publicKey) {
  const client = rpc.connect(publicKey)
  t.teardown(() => client.destroy())
  return client
}

// 'ok', a coded error's code, or 'UNCODED' for anything a client could not branch on
async function answer(request) {
  try {
    await request
    return 'ok'
  } catch (err) {
    const code = err.cause && err.cause.code
    return AuctionError.CODES.has(code) ? code : 'UNCODED:' + err.code + ':' + err.message
  }
}

// The read-only JSON methods take the RPC's default framing, as any standard client sends it;
// the binary ones take raw bytes
const JSON_METHODS = new Set([METHODS.info, METHODS.auctions, METHODS.auction])

function encodingOf(method) {
  return JSON_METHODS.has(method) ? {} : { valueEncoding: c.raw }
}

function call(rpc, publicKey, method, buf) {
  return answer(rpc.request(publicKey, method, buf, encodingOf(method)))
}

// The read-only methods take plain UTF-8 JSON, as hp-rpc-cli sends it
function json(value) {
  return b4a.from(JSON.stringify(value))
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
  await everywhere([honest], a.id)
  await honest.placeBid(a.id, '80')
  const digest = await seller.digest()

  const rpc = rawClient(t, testnet)
  const attacker = rawConnection(t, rpc, seller.publicKey)
  const self = new Author(rpc.defaultKeyPair)
  const other = new Author()
  const valid = {
    [METHODS.hello]: emptyHello('x', [other.publicKey]),
    [METHODS.news]: m.encode(m.news, { logs: [{ author: other.publicKey, length: 0 }] }),
    [METHODS.logs]: m.encode(m.logsRequest, { after: other.publicKey }),
    [METHODS.bid]: m.encode(m.bid, self.bid(b4a.from(a.id, 'hex'), '1000')),
    [METHODS.bye]: b4a.alloc(0),
    [METHODS.pay]: m.encode(m.payClaim, {
      auction: b4a.from(a.id, 'hex'),
      txHash: b4a.alloc(32, 1),
      signature: b4a.alloc(65, 2)
    }),
    [METHODS.accept]: m.encode(m.acceptRequest, {
      auction: b4a.from(a.id, 'hex'),
      signature: b4a.alloc(64, 3)
    }),
    [METHODS.info]: json({}),
    [METHODS.auctions]: json({ limit: 2, cursor: null }),
    [METHODS.auction]: json({ id: a.id }),
    [METHODS.tree]: m.encode(m.treeRequest, { author: seller.publicKey }),
    [METHODS.dispute]: m.encode(m.treeRequest, { author: other.publicKey })
  }
  t.alike(Object.keys(valid).sort(), Object.values(METHODS).sort(), 'every method is covered')

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
      answer(attacker.request(method, buf, encodingOf(method)))
    )
    sent += codes.length
    for (const code of codes) if (code.startsWith('UNCODED')) uncoded.push(method + ' ' + code)
  }

  t.comment(`${sent} hostile payloads sent`)
  t.ok(sent >= RANDOM_PER_METHOD * Object.keys(METHODS).length, `${sent} payloads`)
  t.alike(uncoded, [], 'every answer is a success or a coded error')
  t.is(await seller.digest(), digest, 'the history is unchanged')
  t.is((await seller.getAuction(a.id)).bids.length, 1, 'the one honest bid is still there')
  const later = await honest.placeBid(a.id, '81')
  t.is(later.position, 2, 'honest peers are still served')
})

test('inputs that raise TypeError, RangeError or SyntaxError inside a handler do not escape', async (t) => {
  const testnet = await createBootstrap(t)
  const peer = await createPeer(t, testnet)
  const rpc = rawClient(t, testnet)
  const send = (method, buf) => call(rpc, peer.publicKey, method, buf)
  const hello = (...tail) =>
    b4a.concat([c.encode(c.uint, 0), c.encode(c.uint, 0), c.encode(c.uint, 0), ...tail])

  t.is(await send(METHODS.auction, b4a.from('{"id":')), 'BAD_REQUEST', 'SyntaxError bait')
  t.is(
    await send(METHODS.auction, json({ id: { length: 32 } })),
    'INVALID_ID',
    'TypeError bait: an object for a string'
  )
  t.is(await send(METHODS.auction, json(null)), 'BAD_REQUEST', 'null for a query')
  t.is(
    await send(METHODS.auctions, json({ cursor: { length: 33 } })),
    'BAD_REQUEST',
    'TypeError bait: an object for a cursor'
  )
  t.is(
    await send(METHODS.auctions, json({ limit: 1e308 })),
    'BAD_REQUEST',
    'RangeError bait: a limit past any array'
  )
  t.is(
    await send(METHODS.hello, hello(b4a.alloc(16), c.encode(c.uint, 2 ** 52))),
    'BAD_REQUEST',
    'RangeError bait: a hello naming 2^52 peers'
  )
  t.is(await send(METHODS.hello, c.encode(c.uint, 2 ** 40)), 'BAD_REQUEST', 'a name of 2^40 bytes')
  t.is(await send(METHODS.logs, c.encode(c.uint, 2 ** 52)), 'BAD_REQUEST', 'absurd logs request')
  t.is(await send(METHODS.news, b4a.from([0xff, 1])), 'BAD_REQUEST', 'a cut-off list')
  t.is(
    await send(METHODS.news, c.encode(c.uint, 2 ** 52)),
    'BAD_REQUEST',
    'RangeError bait: news of 2^52 logs'
  )
  t.is(await send(METHODS.bid, b4a.alloc(1)), 'BAD_REQUEST', 'a one-byte bid')

  for (const method of Object.values(METHODS)) {
    t.is(await send(method, b4a.alloc(70 * 1024)), 'PAYLOAD_TOO_LARGE', `70 KiB to ${method}`)
  }
  const unknown = await send('no/such/method', b4a.alloc(1))
  t.ok(unknown.startsWith('UNCODED:UNKNOWN_METHOD'), 'an unknown method gets the RPC layer code')

  const unframed = await answer(
    rpc.request(peer.publicKey, METHODS.info, b4a.from([0xff, 0xff]), { valueEncoding: c.raw })
  )
  t.ok(unframed.startsWith('UNCODED:'), 'bytes a JSON method cannot unframe: the RPC layer says so')

  // A client with @hyperswarm/rpc's defaults and JSON.parse, as hp-rpc-cli reads a peer
  const info = JSON.parse(b4a.toString(await rpc.request(peer.publicKey, METHODS.info, json({}))))
  t.is(info.publicKey, peer.id, 'the peer still answers info, in plain JSON')
})

test('a flood from one peer is bounded and honest peers are still served', async (t) => {
  const { peers, testnet } = await createPeers(t, 2)
  const [seller, honest] = peers
  const a = await seller.openAuction({ item: 'Pic#1', price: '75' })
  await everywhere([honest], a.id)

  const attacker = rawClient(t, testnet)
  const logs = m.encode(m.logsRequest, { after: null })
  const flood = []
  for (let i = 0; i < 3000; i++) flood.push(call(attacker, seller.publicKey, METHODS.logs, logs))
  const bid = honest.placeBid(a.id, '80')
  const codes = await Promise.all(flood)
  const busy = codes.filter((code) => code === 'BUSY').length
  const served = codes.filter((code) => code === 'ok').length
  t.comment(`${busy} BUSY, ${served} served`)
  t.ok(busy > 0, `${busy} of 3000 flooding requests were refused as BUSY`)
  t.ok(served >= 64, `${served} were served`)
  t.is(busy + served, 3000, 'and nothing else happened to any of them')
  t.is((await bid).position, 1, 'the honest bid went through during the flood')
})

test('a network secret keeps out every peer without it', async (t) => {
  const testnet = await createBootstrap(t)
  const seller = await createPeer(t, testnet, { secret: 'sesame', name: 'seller' })
  const member = await createPeer(t, testnet, { secret: 'sesame', name: 'member' })
  await meshed([seller, member])

  const a = await seller.openAuction({ item: 'Pic#1', price: '75' })
  await everywhere([member], a.id)
  await member.placeBid(a.id, '80')

  const rpc = rawClient(t, testnet)
  for (const method of Object.values(METHODS)) {
    const code = await call(rpc, seller.publicKey, method, b4a.alloc(0))
    t.ok(
      code.startsWith('UNCODED:CHANNEL_CLOSED'),
      `${method} is closed to a client without the secret`
    )
  }

  // A member and an outsider join at the same time: the member meets everyone and gets the
  // auction; by then the outsider's greetings have ended, and taught it nothing
  const [outsider, late] = await Promise.all([
    createPeer(t, testnet, { name: 'outsider', lookupInterval: 200 }),
    createPeer(t, testnet, { secret: 'sesame', name: 'late', lookupInterval: 200 })
  ])
  await meshed([seller, member, late])
  await everywhere([late], a.id)
  await outsider.net.greeted()
  await seller.net.greeted()

  t.is((await outsider.listAuctions()).length, 0, 'an outsider learns no auction')
  t.alike(outsider.peers(), [], 'and no peer')
  const known = (peer) => peer.peers().some((p) => p.publicKey === outsider.id)
  t.absent(known(seller), 'the seller does not count it as a peer')
  t.absent(known(member) || known(late), 'nor do the members')
})

// In a network with a secret, @hyperswarm/rpc makes a client's RPC only once its stream has
// opened: a dial that failed, or was given up while connecting, must not stay a connection
test('with a network secret, a failed or abandoned dial leaves no connection behind', async (t) => {
  const testnet = await createBootstrap(t)
  const member = await createPeer(t, testnet, { secret: 'sesame', name: 'member' })
  const capability = crypto.hash(b4a.from('sesame'))
  const hello = emptyHello('x')
  const listen = async (node, firewall) => {
    const server = node.rpc.createServer({ capability, firewall })
    server.respond(METHODS.hello, RAW, () => hello)
    await server.listen(node.keyPair)
  }

  // A member that is offline, then comes back
  const back = rawNode(t, testnet, { firewalled: false })
  const err = await member.net
    .request(back.keyPair.publicKey, METHODS.hello, hello, { timeout: 1000 })
    .catch((err) => err)
  t.ok(['REQUEST_TIMEOUT', 'PEER_UNREACHABLE'].includes(err.code), `offline: ${err.code}`)
  await until(() => member.stats().connections === 0, 5000, 'the failed dial forgotten')
  await listen(back, () => false)
  const res = await member.net.request(back.keyPair.publicKey, METHODS.hello, hello)
  t.is(m.decode(m.hello, res).name, 'x', 'back online, it is dialed again and answers')

  // A dial given up while the remote still holds its handshake back
  const held = rawNode(t, testnet, { firewalled: false })
  await listen(held, () => new Promise((resolve) => setTimeout(() => resolve(false), 1500)))
  const hex = b4a.toString(held.keyPair.publicKey, 'hex')
  const given = member.net.request(held.keyPair.publicKey, METHODS.hello, hello).catch((e) => e)
  await new Promise((resolve) => setTimeout(resolve, 200))
  member.net.disconnect(hex)
  await until(() => !member.net.connected(hex), 5000, 'the abandoned dial closed')
  t.ok((await given) instanceof Error, 'its request failed')
  t.is(member.stats().connections, 1, 'only the member that came back is connected')
})

test('signed bids with out-of-range amounts are refused and nothing is stored', async (t) => {
  const testnet = await createBootstrap(t)
  const seller = await createPeer(t, testnet)
  const a = await seller.openAuction({ item: 'Pic#1', price: '75' })
  const rpc = rawClient(t, testnet)
  const self = new Author(rpc.defaultKeyPair)
  const auction = b4a.from(a.id, 'hex')
  const digest = await seller.digest()

  // Amounts travel as unsigned 64-bit integers: zero and anything above 2^63-1 are refused
  const bidOf = (amount) => {
    const bid = self.bid(auction, '100')
    bid.amount = amount
    return m.encode(m.bid, crypto.signBid(bid, self.keyPair))
  }
  const send = (amount) => call(rpc, seller.publicKey, METHODS.bid, bidOf(amount))
  t.is(await send(0n), 'INVALID_AMOUNT', 'zero')
  t.is(await send(2n ** 63n), 'INVALID_AMOUNT', '2^63')
  t.is(await send(2n ** 64n - 1n), 'INVALID_AMOUNT', '2^64 - 1')
  t.is(await seller.digest(), digest, 'nothing was stored')
  t.is((await seller.getAuction(a.id)).bidCount, 0, 'the auction has no bid')
  t.is(await send(2n ** 63n - 1n), 'ok', 'the largest amount is a valid bid')
})

test('the auctions method is paged with a cursor, in opening order', async (t) => {
  const testnet = await createBootstrap(t)
  const seller = await createPeer(t, testnet)
  const opened = []
  for (let i = 0; i < 5; i++) {
    // Opening order is kept to the millisecond: each auction opens on a later one
    const last = opened.length ? opened[opened.length - 1].createdAt : 0
    await until(() => Date.now() > last, 1000, 'the clock to move')
    opened.push(await seller.openAuction({ item: 'Lot#' + i, price: '1' }))
  }

  const rpc = rawClient(t, testnet)
  // One page, parsed as plain JSON the way hp-rpc-cli and other tools read it; null if it is not
  const page = async (query) => {
    const buf = query === undefined ? b4a.alloc(0) : json(query)
    const reply = await rpc.request(seller.publicKey, METHODS.auctions, buf)
    try {
      return JSON.parse(b4a.toString(reply))
    } catch (err) {
      t.fail(`the reply is not plain JSON: ${err.message}`)
      return null
    }
  }

  const first = await page({ limit: 2 })
  if (first === null) return
  t.is(first.auctions.length, 2, 'a page holds at most limit auctions')
  t.is(typeof first.cursor, 'string', 'and a cursor to the next one')

  const ids = []
  const sizes = []
  let cursor = null
  do {
    const res = await page({ limit: 2, cursor })
    ids.push(...res.auctions.map((x) => x.id))
    sizes.push(res.auctions.length)
    cursor = res.cursor
  } while (cursor !== null && sizes.length < 10)
  t.alike(sizes, [2, 2, 1], 'three pages, the last without a cursor')
  t.alike(
    ids,
    opened.map((x) => x.id),
    'every auction once, in opening order'
  )
  t.alike(
    (await page()).auctions.map((x) => x.id),
    ids,
    'an empty request is one default page'
  )

  const send = (query) => call(rpc, seller.publicKey, METHODS.auctions, json(query))
  for (const limit of [0, 1000, 'x', -1, 1.5]) {
    t.is(await send({ limit }), 'BAD_REQUEST', `limit ${JSON.stringify(limit)}`)
  }
  for (const bad of ['nope', 42, first.cursor + '0', first.cursor.toUpperCase()]) {
    t.is(await send({ limit: 2, cursor: bad }), 'BAD_REQUEST', `cursor ${JSON.stringify(bad)}`)
  }
  t.is(await send([1, 2]), 'BAD_REQUEST', 'an array for a query')
})
