const test = require('brittle')
const { createBootstrap, createPeer, until, everywhere } = require('./helpers')

const PEERS = 32

test(`discovery beyond one lookup: ${PEERS} peers all receive an auction`, async (t) => {
  const testnet = await createBootstrap(t)
  const peers = []
  for (let i = 0; i < PEERS; i++) peers.push(await createPeer(t, testnet, { name: 'p' + i }))

  await until(
    () => peers.every((p) => p.peers().length === PEERS - 1),
    30000,
    'every peer to know every other'
  )
  t.pass(`each of ${PEERS} peers knows the other ${PEERS - 1}`)

  const a = await peers[0].openAuction({ item: 'Pic#1', price: '75' })
  await everywhere(peers, a.id)
  t.pass('every peer holds the auction')

  await peers[PEERS - 1].placeBid(a.id, '80')
  await everywhere(peers, a.id, (x) => x.bidCount === 1)
  t.pass('every peer holds the bid')
})
