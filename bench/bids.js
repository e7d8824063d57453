// Bids from full bidder peers here (each replicates the seller's log and applies every accepted
// bid) to a seller AuctionPeer in a child process
const path = require('path')
const {
  createPeer,
  watchWarnings,
  spawnRemote,
  saturate,
  waitFor,
  auctionAt,
  cpuTime,
  percentile,
  now,
  log
} = require('./harness')

// One bidder, one bid at a time, amounts rising
async function bidLatency(bootstrap, dir, { sequential, warmup }) {
  log('  accepted-bid latency')
  const remote = await spawnRemote('seller', bootstrap, { storage: path.join(dir, 'seller') })
  const bidder = createPeer(path.join(dir, 'bidder'), bootstrap, { name: 'bidder' })
  const id = remote.info.auctions[0]
  const warnings = watchWarnings(bidder)
  let applied = 0
  bidder.on('bid-accepted', () => applied++)
  try {
    await bidder.ready()
    await waitFor(() => auctionAt(bidder, id), 'the auction at the bidder', 30000, 20)
    let amount = 1
    for (let i = 0; i < warmup; i++) await bidder.placeBid(id, String(++amount))
    const samples = []
    for (let i = 0; i < sequential; i++) {
      const t = now()
      await bidder.placeBid(id, String(++amount))
      samples.push(now() - t)
    }
    await waitFor(
      () => warnings.check() && applied === warmup + sequential,
      'the bidder to apply its bids'
    )
    return {
      bidP50: percentile(samples, 50),
      bidP99: percentile(samples, 99),
      bidWarnings: warnings.counts
    }
  } finally {
    await bidder.close()
    await remote.stop()
  }
}

// bidders x inFlight bids in flight on one auction for ms; a bid found too low (overtaken by
// another in flight) is retried higher; only accepted bids count
async function sellerThroughput(bootstrap, dir, { parallelMs, bidders, inFlight }) {
  log('  seller throughput')
  const remote = await spawnRemote('seller', bootstrap, { storage: path.join(dir, 'seller') })
  const id = remote.info.auctions[0]
  const peers = []
  const applied = []
  const warnings = []
  for (let i = 0; i < bidders; i++) {
    const peer = createPeer(path.join(dir, 'bidder-' + i), bootstrap, { name: 'bidder-' + i })
    applied.push(0)
    peer.on('bid-accepted', () => applied[i]++)
    warnings.push(watchWarnings(peer))
    peers.push(peer)
  }
  try {
    await Promise.all(peers.map((peer) => peer.ready()))
    for (const peer of peers) {
      await waitFor(() => auctionAt(peer, id), 'the auction at every bidder', 30000, 20)
    }
    let amount = 1
    const bid = (peer) => peer.placeBid(id, String(++amount))
    for (const peer of peers) await bid(peer)

    const sellerCpu = (await remote.ask('cpu')).cpu
    const biddersCpu = cpuTime()
    const res = await saturate(parallelMs, peers, inFlight, bid)
    const ms = res.seconds * 1000
    const sellerUse = ((await remote.ask('cpu')).cpu - sellerCpu) / ms
    const biddersUse = (cpuTime() - biddersCpu) / ms

    // Every bidder is a full peer: it has to hold every accepted bid
    const accepted = bidders + res.done
    const t = now()
    let error = null
    try {
      await waitFor(
        () => warnings.every((w) => w.check()) && applied.every((n) => n >= accepted),
        'every bidder to apply every bid',
        60000
      )
    } catch (err) {
      // The rate stands as measured, but bidders that stopped applying bids did less work
      error = err.message
    }
    return {
      sellerError: error,
      sellerBidsPerSec: res.perSec,
      sellerTooLowPerSec: (res.refused.BID_TOO_LOW || 0) / res.seconds,
      sellerRefused: res.refused,
      sellerCpuShare: sellerUse,
      biddersCpuShare: biddersUse,
      biddersLagMs: now() - t,
      sellerWarnings: sum(warnings.map((w) => w.counts))
    }
  } finally {
    for (const peer of peers) await peer.close()
    await remote.stop()
  }
}

function sum(counts) {
  const out = {}
  for (const c of counts) for (const code in c) out[code] = (out[code] || 0) + c[code]
  return out
}

module.exports = { bidLatency, sellerThroughput }
