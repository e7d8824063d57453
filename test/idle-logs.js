const test = require('brittle')
const path = require('path')
const { createBootstrap, createPeer, meshed, everywhere, until, converged } = require('./helpers')

test('a remote log without news is closed, still counted, and opened again by news', async (t) => {
  const testnet = await createBootstrap(t)
  const storage = path.join(await t.tmp(), 'seller')
  const opts = { idleLog: 300 }
  const seller = await createPeer(t, testnet, { storage, name: 'seller', ...opts })
  const bidder = await createPeer(t, testnet, { name: 'bidder', ...opts })
  const observer = await createPeer(t, testnet, { name: 'observer', ...opts })
  await meshed([seller, bidder, observer])

  const a = await seller.openAuction({ item: 'Pic#1', price: '1' })
  await everywhere([bidder], a.id)
  await bidder.placeBid(a.id, '2')
  await everywhere([observer], a.id, (x) => x.bidCount === 1)
  t.is(observer.stats().logsOpen, 1, 'the observer holds the seller’s log open while it has news')
  const digest = await seller.digest()
  await seller.close()

  await until(() => observer.stats().logsOpen === 0, 10000, 'the idle log to be closed')
  t.pass('with its author gone and no news, the log is closed')
  t.is((await observer.info()).logs, 1, 'and still held')
  t.is(await observer.digest(), digest, 'its history counts in the digest as before')
  t.is((await observer.getAuction(a.id)).bidCount, 1, 'and its auctions are still shown')

  const back = await createPeer(t, testnet, { storage, name: 'seller', ...opts })
  const b = await back.openAuction({ item: 'Pic#2', price: '1' })
  await everywhere([observer, bidder], b.id)
  t.pass('news opens it again and the new event is applied')
  await converged([back, bidder, observer])
})
