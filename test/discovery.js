const test = require('brittle')
const { createBootstrap, createPeer, until, everywhere } = require('./helpers')

const PEERS = 32
const MAX_CONNECTIONS = 8

test(
  `${PEERS} peers with at most ${MAX_CONNECTIONS} connections each: events reach every one through the others`,
  { timeout: 120000 },
  async (t) => {
    const testnet = await createBootstrap(t)
    const peers = []
    for (let i = 0; i < PEERS; i++) {
      peers.push(await createPeer(t, testnet, { name: 'p' + i, maxConnections: MAX_CONNECTIONS }))
    }
    await until(
      () => peers.every((p) => p.stats().connections >= 2),
      30000,
      'every peer to have connections'
    )

    const a = await peers[0].openAuction({ item: 'Pic#1', price: '75' })
    await everywhere(peers, a.id, () => true, 30000)
    t.pass('every peer holds the auction')

    await peers[PEERS - 1].placeBid(a.id, '80')
    await everywhere(peers, a.id, (x) => x.bidCount === 1, 30000)
    t.pass('every peer holds the bid')

    // Newcomers get a moment before they may be evicted, so the bound holds again shortly after
    const most = () => Math.max(...peers.map((p) => p.stats().connections))
    t.comment(`most connections of one peer after the bid: ${most()}`)
    await until(() => most() <= MAX_CONNECTIONS, 20000, 'the bound to hold')
    t.pass(`no peer holds more than ${MAX_CONNECTIONS} connections`)
    const direct = peers.filter((p) => p.stats().connections < PEERS - 1).length
    t.is(direct, PEERS, 'no peer is connected to every other')
  }
)
