const test = require('brittle')
const path = require('path')
const { spawnCli, runJson } = require('./helpers/processes')
const {
  createBootstrap,
  createPeer,
  converged,
  until,
  when,
  everywhere,
  PEER_EVENTS
} = require('./helpers')

function startSeller(t, testnet, storage) {
  const [{ host, port }] = testnet.bootstrap
  return spawnCli(
    t,
    [
      'start',
      '--storage',
      storage,
      '--bootstrap',
      `${host}:${port}`,
      '--host',
      '127.0.0.1',
      '--network',
      'test',
      '--name',
      'seller'
    ],
    /Ready\./
  )
}

test('seller SIGKILLed during a bid stream: every acknowledged bid survives in place', async (t) => {
  const testnet = await createBootstrap(t)
  const storage = path.join(await t.tmp(), 'seller')
  let seller = await startSeller(t, testnet, storage)
  const sellerKey = (await runJson(['id', '--storage', storage])).publicKey

  const bidders = [
    await createPeer(t, testnet, { name: 'b1' }),
    await createPeer(t, testnet, { name: 'b2' })
  ]
  await when(
    bidders,
    PEER_EVENTS,
    () => bidders.every((b) => b.peers().some((p) => p.publicKey === sellerKey)),
    10000,
    'bidders to meet the seller'
  )

  const auction = await runJson(['open', 'Pic#1', '1', '--storage', storage])
  await everywhere(bidders, auction.id)

  const acked = []
  let next = 1
  let stop = false
  const stream = async (bidder) => {
    while (!stop) {
      const amount = String(++next)
      try {
        acked.push(await bidder.placeBid(auction.id, amount))
      } catch (err) {
        if (!['SELLER_UNREACHABLE', 'BID_TOO_LOW'].includes(err.code)) throw err
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    }
  }
  const streams = bidders.map(stream)

  await until(() => acked.length >= 30, 10000, '30 acknowledged bids')
  seller.kill('SIGKILL')
  await seller.exited
  const ackedBeforeKill = acked.length

  const restartedAt = Date.now()
  seller = await startSeller(t, testnet, storage)
  await until(() => acked.length > ackedBeforeKill, 20000, 'a bid accepted after the restart')
  t.comment(`first bid accepted ${Date.now() - restartedAt} ms after the restart began`)
  await until(() => acked.length >= ackedBeforeKill + 10, 20000, 'bidding to go on after restart')
  stop = true
  await Promise.all(streams)

  const shown = await runJson(['show', auction.id, '--storage', storage])
  const byPosition = new Map(shown.bids.map((b) => [b.position, b]))
  let missing = 0
  for (const ack of acked) {
    const held = byPosition.get(ack.position)
    if (!held || held.amount !== ack.amount || held.bidder !== ack.bidder) missing++
  }
  t.is(missing, 0, `all ${acked.length} acknowledged bids are in the seller's history, in place`)
  t.ok(ackedBeforeKill >= 30, `${ackedBeforeKill} acknowledged before the kill`)

  const sale = await runJson(['close', auction.id, '--storage', storage])
  await everywhere(bidders, auction.id, (a) => a.status === 'closed')
  await converged(bidders)
  for (const bidder of bidders) {
    const view = await bidder.getAuction(auction.id)
    t.alike(
      view.bids.map((b) => [b.position, b.amount]),
      shown.bids.map((b) => [b.position, b.amount]),
      `${bidder.name} holds exactly the seller's bids`
    )
    t.alike(view.winner, sale.winner)
  }

  seller.kill('SIGTERM')
  t.is((await seller.exited).code, 0)
})

test('an observer SIGKILLed and restarted converges without loss', async (t) => {
  const testnet = await createBootstrap(t)
  const storage = path.join(await t.tmp(), 'observer')
  let observer = await startSeller(t, testnet, storage)
  const seller = await createPeer(t, testnet, { name: 's' })
  const bidder = await createPeer(t, testnet, { name: 'b' })
  const mesh = () => seller.peers().length === 2 && bidder.peers().length === 2
  await when([seller, bidder], PEER_EVENTS, mesh, 10000, 'mesh')

  const a = await seller.openAuction({ item: 'Pic#1', price: '1' })
  await everywhere([bidder], a.id)
  for (let i = 2; i < 12; i++) await bidder.placeBid(a.id, String(i))
  await until(
    async () => (await runJson(['show', a.id, '--storage', storage])).bids.length === 10,
    5000,
    'observer has the bids'
  )
  const before = await runJson(['status', '--storage', storage])

  observer.kill('SIGKILL')
  await observer.exited
  for (let i = 12; i < 17; i++) await bidder.placeBid(a.id, String(i))
  await seller.closeAuction(a.id)

  observer = await startSeller(t, testnet, storage)
  const digest = await seller.digest()
  await until(
    async () => (await runJson(['status', '--storage', storage])).digest === digest,
    15000,
    'observer to converge'
  )
  const after = await runJson(['show', a.id, '--storage', storage])
  t.is(after.bids.length, 15, 'no bid lost, the missed ones pulled')
  t.ok(
    before.blocks <= (await runJson(['status', '--storage', storage])).blocks,
    'nothing it had acknowledged was lost'
  )
  t.is(after.winner.amount, '16')
  observer.kill('SIGTERM')
  t.is((await observer.exited).code, 0)
})

test('a seller SIGKILLed and restarted takes the first bid sent after it is ready', async (t) => {
  const testnet = await createBootstrap(t)
  const storage = path.join(await t.tmp(), 'seller')
  let seller = await startSeller(t, testnet, storage)
  const sellerKey = (await runJson(['id', '--storage', storage])).publicKey
  const bidder = await createPeer(t, testnet, { name: 'b' })
  await when(
    [bidder],
    PEER_EVENTS,
    () => bidder.peers().some((p) => p.publicKey === sellerKey),
    10000,
    'the bidder to meet the seller'
  )
  const auction = await runJson(['open', 'Pic#1', '1', '--storage', storage])
  await everywhere([bidder], auction.id)
  await bidder.placeBid(auction.id, '2')

  seller.kill('SIGKILL')
  await seller.exited
  seller = await startSeller(t, testnet, storage)

  const started = Date.now()
  const bid = await bidder.placeBid(auction.id, '3')
  t.is(bid.position, 2, 'the first bid after the restart is accepted')
  t.comment(`accepted in ${Date.now() - started} ms`)
  seller.kill('SIGTERM')
  t.is((await seller.exited).code, 0)
})
