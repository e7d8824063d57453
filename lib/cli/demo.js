const createTestnet = require('hyperdht/testnet')
const fs = require('fs')
const os = require('os')
const path = require('path')
const AuctionPeer = require('../..')
const WebServer = require('../web/server')
const format = require('./format')
const png = require('./png')

const NAMES = ['Client#1', 'Client#2', 'Client#3']
const STEP_TIMEOUT = 15000

// The reference scenario on an embedded private DHT (127.0.0.1), three peers in one process,
// then the payment of the sale in test USDt on an embedded local chain (127.0.0.1). With web,
// two more auctions with pictures, and each peer's board served on 127.0.0.1 until SIGINT or
// SIGTERM (or until the stop promise given resolves).
async function runDemo({ print = console.log, web = false, stop = null } = {}) {
  const { startLocalChain } = require('../settlement/chain')
  const testnet = await createTestnet(3, { host: '127.0.0.1' })
  let chain = null
  let peers = []
  const boards = []
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'hyperauction-demo-'))

  try {
    chain = await startLocalChain({ buyers: 3 })
    peers = NAMES.map(
      (name) =>
        new AuctionPeer(path.join(dir, name), {
          bootstrap: testnet.bootstrap,
          host: '127.0.0.1',
          firewalled: false,
          network: 'demo',
          name,
          chainRpc: chain.url
        })
    )
    print(`Private DHT bootstrap on ${testnet.bootstrap.map((b) => `${b.host}:${b.port}`)}`)
    print(`Local chain ${chain.chainId} at ${chain.url}, test USDt at ${chain.token}`)
    const meshed = peers.map((peer) => waitFor(peer, 'peer-add', NAMES.length - 1))
    for (const peer of peers) await peer.ready()
    await Promise.all(meshed)

    const names = new Map(peers.map((p) => [p.id, p.name]))
    const nameOf = (hex) => names.get(hex) || format.short(hex)
    for (const peer of peers) print(`${peer.name} is ${peer.id}`)

    for (const peer of peers) {
      for (const event of [
        'auction-opened',
        'bid-accepted',
        'outbid',
        'auction-closed',
        'auction-paid'
      ]) {
        peer.on(event, (data) => {
          print(`    [${peer.name}] ${format.notification(event, data, nameOf)}`)
        })
      }
    }

    const [c1, c2, c3] = peers
    const step = async (title, event, fn) => {
      print(`\n${title}`)
      const seen = peers.map((peer) => waitFor(peer, event, 1))
      const res = await fn()
      await Promise.all(seen)
      return res
    }

    // Client#1 is paid at an address of its own on the chain; Client#2 pays from buyer 1
    const payTo = chain.accounts[chain.accounts.length - 1].address
    const wallet = chain.buyers[0]
    const pic1 = await step('1. Client#1 opens: sell Pic#1 for 75 USDt', 'auction-opened', () =>
      c1.openAuction({
        item: 'Pic#1',
        price: '75',
        currency: 'USDt',
        settlement: {
          chainId: chain.chainId,
          token: chain.token,
          payTo,
          payWithin: 10 * 60 * 1000,
          confirmations: 1
        }
      })
    )
    await step('2. Client#2 opens: sell Pic#2 for 60 USDt', 'auction-opened', () =>
      c2.openAuction({ item: 'Pic#2', price: '60', currency: 'USDt' })
    )
    await step("3. Client#2 bids 75 on Client#1's Pic#1", 'bid-accepted', () =>
      c2.placeBid(pic1.id, '75')
    )
    await step('4. Client#3 bids 75.5 on Pic#1', 'bid-accepted', () => c3.placeBid(pic1.id, '75.5'))
    await step('5. Client#2 bids 80 on Pic#1', 'bid-accepted', () => c2.placeBid(pic1.id, '80'))
    await step('6. Client#1 closes Pic#1', 'auction-closed', () => c1.closeAuction(pic1.id))

    c2.on('payment-progress', (p) => {
      print(`    [Client#2] ${format.notification('payment-progress', p, nameOf)}`)
    })
    await step(
      `7. Client#2 pays 80 USDt to Client#1's address ${payTo} with its built-in wallet`,
      'auction-paid',
      () => c2.pay(pic1.id, { seed: wallet.mnemonic, index: wallet.index })
    )

    print('\nThe sale as every peer holds it:')
    const sales = []
    for (const peer of peers) {
      const a = await peer.getAuction(pic1.id)
      const bids = a.bids.map((b) => `${b.amount} by ${nameOf(b.bidder)}`).join(', ')
      const paid =
        a.payment && a.payment.status === 'paid' ? `, paid in block ${a.payment.blockNumber}` : ''
      print(
        `  ${peer.name}: ${a.item} sold to ${nameOf(a.winner.bidder)} for ${a.winner.amount} ${a.currency}${paid} (bids: ${bids})`
      )
      sales.push(a.winner)
    }

    const digests = await Promise.all(peers.map((p) => p.digest()))
    const same = digests.every((d) => d === digests[0])
    print(same ? `\nAll three peers hold the same history (digest ${digests[0]})` : '')
    if (!same) throw new Error('Peers disagree: ' + digests.join(' '))
    if (web) await serveBoards(peers, boards, print, stop)
    return { winner: nameOf(sales[0].bidder), amount: sales[0].amount }
  } finally {
    for (const board of boards) await board.close()
    for (const peer of peers) await peer.close()
    if (chain !== null) await chain.close()
    await testnet.destroy()
    await fs.promises.rm(dir, { recursive: true, force: true })
  }
}

// Auctions with pictures to look at, then each peer's board, until asked to stop
async function serveBoards(peers, boards, print, stop) {
  const [c1, c2] = peers
  const hour = 60 * 60 * 1000
  // Every board shows both when its URL is printed
  const seen = peers.map((peer) => waitFor(peer, 'auction-opened', 2))
  await c1.openAuction({
    item: 'Pic#3, a sunset',
    price: '40',
    duration: hour,
    picture: { data: png(320, 200, { from: [250, 120, 40], to: [60, 20, 90] }) }
  })
  await c2.openAuction({
    item: 'Pic#4, the sea',
    price: '55',
    duration: 2 * hour,
    reserve: '70',
    picture: { data: png(320, 200, { from: [20, 90, 160], to: [200, 240, 250] }) }
  })
  await Promise.all(seen)
  print('\nThe board of each peer, live (Ctrl+C ends the demo):')
  for (const peer of peers) {
    const board = new WebServer(peer, peer.storage, null)
    await board.listen()
    boards.push(board)
    print(`web: ${peer.name} ${board.url}`)
  }
  await (stop || signalled())
}

// Everything is closed after it, and the process ends by itself
function signalled() {
  return new Promise((resolve) => {
    const onsignal = () => {
      process.off('SIGINT', onsignal)
      process.off('SIGTERM', onsignal)
      resolve()
    }
    process.on('SIGINT', onsignal)
    process.on('SIGTERM', onsignal)
  })
}

function waitFor(emitter, event, count) {
  return new Promise((resolve, reject) => {
    let seen = 0
    const timer = setTimeout(() => {
      emitter.off(event, onevent)
      reject(new Error(`Timed out waiting for ${event}`))
    }, STEP_TIMEOUT)
    const onevent = () => {
      if (++seen < count) return
      clearTimeout(timer)
      emitter.off(event, onevent)
      resolve()
    }
    emitter.on(event, onevent)
  })
}

module.exports = runDemo
