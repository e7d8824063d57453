const test = require('brittle')
const DHT = require('hyperdht')
const b4a = require('b4a')
const { createBootstrap, bareNetwork, until } = require('./helpers')

// A Network whose connections are made up by the test; nothing is greeted on its own
async function bare(t, maxConnections) {
  return bareNetwork(t, await createBootstrap(t), {
    maxConnections,
    greet: () => new Promise(() => {})
  })
}

// A connection to a new key, connected for age ms; proven: the key answered a greeting
function connect(net, { age = 0, outgoing = false, proven = false } = {}) {
  const publicKey = DHT.keyPair().publicKey
  const hex = b4a.toString(publicKey, 'hex')
  const since = Date.now() - age
  const conn = {
    hex,
    outgoing,
    since,
    used: since,
    dropped: false,
    replicating: false,
    destroy: () => net.bound.remove(conn)
  }
  if (proven) {
    net.peerTable.add(publicKey, 'p', Date.now())
    net.succeed(hex)
  }
  net.bound.add(conn)
  return hex
}

test('an eighth of the bound stays free for arrivals: past it a newcomer goes, proven peers stay as many as fit, and an arrival is looked at again once 2 s old', async (t) => {
  const net = await bare(t, 8)
  t.is(net.reserve, 1, 'one slot of 8 is kept for arrivals')
  // One of its own (it would choose 2), and 6 proven peers connected for a minute: the bound
  // less the reserve
  const own = [connect(net, { outgoing: true })]
  const old = []
  for (let i = 0; i < 6; i++) old.push(connect(net, { age: 60000, proven: true }))
  t.is(net.bound.evict(), null, '7 connections: nobody goes')
  t.absent(net.bound.room(), 'and the reserve leaves no room for a second one of its own choosing')

  const arrival = connect(net)
  t.is(net.bound.evict(), null, 'an arrival takes the reserve and is not evicted at once')
  t.is(net.connections, 8, 'at the bound')
  const another = connect(net)
  t.is(net.bound.evict(), null, 'nor is a second one, younger than 2 s')
  t.is(net.connections, 9, 'past the bound until they are 2 s old')
  await until(() => net.connections === 7, 5000, 'the arrivals to be evicted once 2 s old')
  t.absent(net.connected(arrival) || net.connected(another), 'both arrivals went')
  t.ok(
    [...own, ...old].every((hex) => net.connected(hex)),
    'its own and the proven peers stayed'
  )
})

test('protection is capped: past the bound a proven peer beyond the cap goes, but only when no unproven key can', async (t) => {
  const net = await bare(t, 8)
  connect(net, { outgoing: true })
  connect(net, { outgoing: true })
  const old = []
  for (let i = 0; i < 6; i++) old.push(connect(net, { age: 60000 - i * 1000, proven: true }))
  const unproven = connect(net, { age: 30000 })
  t.is(net.connections, 9, 'two past the bound less the reserve')
  t.is(net.bound.evict(), unproven, 'the unproven key goes first')
  t.is(net.bound.evict(), old[5], 'then the newest proven peer beyond the 5 that fit')
  t.is(net.bound.evict(), null, 'then nobody: 7 connections')
  t.ok(
    old.slice(0, 5).every((hex) => net.connected(hex)),
    'the 5 longest connected stayed'
  )
})

test('a tiny bound keeps room for the connections of its own choosing', async (t) => {
  const net = await bare(t, 1)
  t.is(net.reserve, 0, 'no reserve at a bound of 1')
  t.ok(net.bound.room(), 'room for its one own connection')
})

test('keys with a request under way stay, but take no protected peer’s place', async (t) => {
  const net = await bare(t, 8)
  connect(net, { outgoing: true })
  connect(net, { outgoing: true })
  const old = []
  for (let i = 0; i < 5; i++) old.push(connect(net, { age: 60000, proven: true }))
  const asking = []
  for (let i = 0; i < 3; i++) {
    const hex = connect(net, { age: 30000 })
    net.bound.beginRequest(hex)
    asking.push(hex)
  }
  t.is(net.connections, 10, 'three past the bound less the reserve')
  t.is(net.bound.evict(), null, 'nobody may go')
  t.ok(
    old.every((hex) => net.connected(hex)),
    'the proven peers stay'
  )
  t.ok(
    asking.every((hex) => net.connected(hex)),
    'and so do the keys asking'
  )
  for (const hex of asking) net.bound.endRequest(hex)
  t.ok(asking.includes(net.bound.evict()), 'once their requests end, one of them goes')
})

test('past twice the bound an arrival goes at once, chosen at random among those without a request under way', async (t) => {
  const net = await bare(t, 4)
  // 9 arrivals in the same second, none 2 s old (dated ahead, so that they stay arrivals
  // however slow the machine): one past twice the bound
  const young = { age: -60000 }
  const arrivals = []
  for (let i = 0; i < 9; i++) arrivals.push(connect(net, young))
  const asking = arrivals[8]
  net.bound.beginRequest(asking)
  const seen = new Set()
  for (let i = 0; i < 40; i++) {
    const newest = connect(net, young)
    const gone = net.bound.evict()
    t.not(gone, null, 'one goes at once')
    t.not(gone, asking, 'never the one with a request under way')
    seen.add(gone === newest ? 'newest' : 'other')
    t.is(net.connections, 9, 'one went for the one that came')
  }
  // A bidder that just came would go every time if the newest went: 40 in a row at random
  // among 9 happens with odds of (1/9)^40
  t.ok(seen.has('other'), 'not always the newest')
  t.ok(net.connected(asking), 'the key asking stayed throughout')
})
