const test = require('brittle')
const b4a = require('b4a')
const AuctionPeer = require('..')
const crypto = require('../lib/crypto')
const {
  createBootstrap,
  createPeer,
  everywhere,
  rawNode,
  until,
  emptyHello,
  RAW
} = require('./helpers')

const SLOW = 2500
// Just within a greeting's 3 s: an answer counts as slow past 2 s less the longest stall of the
// greeter's own event loop, which on a loaded machine reaches half a second and more
const SLOWEST = 2900
let greeted = 0

// A key on the network's topic that answers every method, but only after delay ms: a slot
// taken by it would serve nobody
async function slowSybil(t, testnet, others, delay = SLOW) {
  const { dht, rpc, keyPair } = rawNode(t, testnet, { firewalled: false })
  const server = rpc.createServer()
  const timers = new Set()
  const later = (value) =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer)
        resolve(value)
      }, delay)
      timers.add(timer)
    })
  const hello = () => {
    greeted++
    return emptyHello('sybil', others.slice(0, 64))
  }
  for (const method of Object.values(AuctionPeer.METHODS)) {
    server.respond(method, RAW, () =>
      later(method === AuctionPeer.METHODS.hello ? hello() : b4a.alloc(0))
    )
  }
  await server.listen(keyPair)
  await dht.announce(crypto.topic('test'), keyPair).finished()
  t.teardown(() => {
    for (const timer of timers) clearTimeout(timer)
  })
  return keyPair.publicKey
}

// A key off the topic that answers a hello at once; firewall may hold its handshakes back
async function quickPeer(t, testnet, firewall = () => false) {
  const { rpc, keyPair } = rawNode(t, testnet, { firewalled: false })
  const server = rpc.createServer({ firewall })
  server.respond(AuctionPeer.METHODS.hello, RAW, () => emptyHello('quick'))
  await server.listen(keyPair)
  return keyPair
}

test('slow Sybils on the topic get no lasting slot, are never saved, and events still spread', async (t) => {
  const testnet = await createBootstrap(t)
  const sybils = []
  for (let i = 0; i < 6; i++) sybils.push(await slowSybil(t, testnet, sybils, SLOWEST))
  const honest = []
  for (let i = 0; i < 4; i++) honest.push(await createPeer(t, testnet, { name: 'h' + i }))

  const a = await honest[0].openAuction({ item: 'Pic#1', price: '1' })
  await everywhere(honest, a.id, () => true, 20000)
  await honest[3].placeBid(a.id, '2')
  await everywhere(honest, a.id, (x) => x.bidCount === 1, 20000)
  t.pass('honest peers hold the auction and the bid')

  // Every greeting of a Sybil has had time to come back slow
  await new Promise((resolve) => setTimeout(resolve, SLOWEST + 1500))
  t.ok(greeted > 0, `the honest peers greeted Sybils ${greeted} times`)
  const sybilKeys = new Set(sybils.map((k) => b4a.toString(k, 'hex')))
  for (const peer of honest) {
    const saved = (await peer.view.listPeers()).map((p) => b4a.toString(p.publicKey, 'hex'))
    t.is(saved.filter((hex) => sybilKeys.has(hex)).length, 0, `${peer.name} saved no Sybil`)
    t.ok(saved.length >= 1, `${peer.name} saved honest peers`)
  }
  await until(
    () =>
      honest.every((p) =>
        p.peers().every((info) => !sybilKeys.has(info.publicKey) || info.failures > 0)
      ),
    10000,
    'every Sybil known to be failing'
  )
  t.pass('every Sybil an honest peer knows counts as failing')
})

test('a peer slow to connect but quick to answer proves itself; one quick to connect but slow to answer does not', async (t) => {
  const testnet = await createBootstrap(t)
  const peer = await createPeer(t, testnet, { name: 'honest' })

  // Its handshake waits SLOW ms (a busy DHT, a far network), then it answers at once
  const keyPair = await quickPeer(
    t,
    testnet,
    () => new Promise((resolve) => setTimeout(() => resolve(false), SLOW))
  )
  const far = b4a.toString(keyPair.publicKey, 'hex')
  const sybil = b4a.toString(await slowSybil(t, testnet, []), 'hex')

  const started = Date.now()
  peer.net.discovered(keyPair.publicKey)
  peer.net.discovered(b4a.from(sybil, 'hex'))
  await until(() => peer.net.proven(far), 15000, 'the slow-to-connect peer proven')
  t.ok(Date.now() - started >= SLOW, `its greeting took ${Date.now() - started} ms in all`)
  t.absent(peer.net.suspected(far), 'and it is not suspected')
  await until(() => peer.net.suspected(sybil), 15000, 'the slow-to-answer key suspected')
  t.absent(peer.net.proven(sybil), 'and not proven')
})
