// Two peers on a private DHT on 127.0.0.1: one sells, one bids, both see the sale.
const createTestnet = require('hyperdht/testnet')
const os = require('os')
const path = require('path')
const fs = require('fs')
const AuctionPeer = require('.')

async function main() {
  const testnet = await createTestnet(3, { host: '127.0.0.1' })
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hyperauction-example-'))
  const opts = { bootstrap: testnet.bootstrap, host: '127.0.0.1', firewalled: false }

  const alice = new AuctionPeer(path.join(dir, 'alice'), { ...opts, name: 'alice' })
  const bob = new AuctionPeer(path.join(dir, 'bob'), { ...opts, name: 'bob' })
  const met = new Promise((resolve) => bob.once('peer-add', resolve))
  await alice.ready()
  await bob.ready()
  await met

  const seen = new Promise((resolve) => bob.once('auction-opened', resolve))
  const a = await alice.openAuction({ item: 'Pic#1', price: '75', currency: 'USDt' })
  await seen

  await bob.placeBid(a.id, '80')
  const sold = new Promise((resolve) => bob.once('auction-closed', resolve))
  await alice.closeAuction(a.id)
  const sale = await sold
  console.log(
    `bob sees: ${sale.auction.item} sold for ${sale.winner.amount} ${sale.auction.currency}`
  )

  await bob.close()
  await alice.close()
  await testnet.destroy()
  fs.rmSync(dir, { recursive: true, force: true })
}

main()
