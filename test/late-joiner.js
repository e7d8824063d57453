const test = require('brittle')
const m = require('../lib/messages')
const { Author } = require('./helpers/events')
const { createPeers, createPeer, converged, when, count, everywhere } = require('./helpers')

const SELLERS = 3000

test('a late joiner converges with the whole history, from peers, the seller offline', async (t) => {
  const { peers, testnet } = await createPeers(t, 3)
  const [c1, c2, c3] = peers
  const pic1 = await c1.openAuction({ item: 'Pic#1', price: '75' })
  const pic2 = await c2.openAuction({ item: 'Pic#2', price: '60' })
  await everywhere(peers, pic2.id)
  await everywhere(peers, pic1.id)
  await c2.placeBid(pic1.id, '75')
  await c3.placeBid(pic1.id, '75.5')
  await c2.placeBid(pic1.id, '80')
  await c1.closeAuction(pic1.id)
  await everywhere(peers, pic1.id, (a) => a.status === 'closed')
  // The seller is gone: its log is served by the peers that hold it
  await c1.close()

  const late = await createPeer(t, testnet, { name: 'late' })
  await converged([c2, c3, late])
  const a = await late.getAuction(pic1.id)
  t.alike(
    a.bids.map((b) => b.amount),
    ['75', '75.5', '80'],
    'every bid, in order'
  )
  t.alike(a.winner, { bidder: c2.id, amount: '80' }, 'and the sale, signed by both')
})

test(`a late joiner converges with ${SELLERS} sellers`, { timeout: 240000 }, async (t) => {
  const { peers, testnet } = await createPeers(t, 1)
  const [holder] = peers

  // The logs of many sellers as a long-running peer holds them: one opening each
  const started = Date.now()
  for (let i = 0; i < SELLERS; i++) {
    const author = new Author()
    const core = holder.store.get({ keyPair: author.keyPair })
    await core.append(m.encode(m.block, [author.open('Lot#' + i, '1').evt]))
    await core.close()
    holder.logs.follow(author.publicKey)
    if (i % 500 === 0) t.comment(`${i} logs in ${Date.now() - started} ms`)
  }
  const holdsAll = (peer) => async () => (await count(peer)) === SELLERS
  await when([holder], ['auction-opened'], holdsAll(holder), 60000, 'the holder to apply all')
  t.comment(`${SELLERS} logs made and applied in ${Date.now() - started} ms`)

  const joined = Date.now()
  const late = await createPeer(t, testnet, { name: 'late' })
  await when([late], ['auction-opened'], holdsAll(late), 120000, 'every seller’s auction')
  t.comment(`the late joiner held all ${SELLERS} logs ${Date.now() - joined} ms after it started`)
  await converged([holder, late], 30000)
  t.is((await late.info()).logs, SELLERS, `it follows ${SELLERS} logs`)
})
