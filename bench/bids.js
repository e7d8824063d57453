// Bids from full bidder peers here (each replicates the seller's log and applies every accepted
// bid) to a seller AuctionPeer in a child process
const path = require('path')
const { Bidders, RemoteBidders } = require('./bidders')
const {
  createPeer,
  watchWarnings,
  spawnRemote,
  waitFor,
  auctionAt,
  percentile,
  now,
  log
} = require('./harness')

// One bidder, one bid at a time, amounts rising. followers: more full peers in this process that
// bid nothing but apply every bid, as other peers of one machine would (figures named key...)
async function bidLatency(bootstrap, dir, { sequential, warmup, followers = 0, key = 'bid' }) {
  log(`  accepted-bid latency${followers ? `, ${followers + 1} full peers in one process` : ''}`)
  const remote = await spawnRemote('seller', bootstrap, { storage: path.join(dir, 'seller') })
  const bidder = createPeer(path.join(dir, 'bidder'), bootstrap, { name: 'bidder' })
  const others = []
  for (let i = 0; i < followers; i++) {
    others.push(createPeer(path.join(dir, 'follower-' + i), bootstrap, { name: 'follower-' + i }))
  }
  const id = remote.info.auctions[0]
  const warnings = watchWarnings(bidder)
  let applied = 0
  bidder.on('bid-accepted', () => applied++)
  try {
    await Promise.all([bidder, ...others].map((peer) => peer.ready()))
    for (const peer of [bidder, ...others]) {
      await waitFor(() => auctionAt(peer, id), 'the auction at ' + peer.name, 30000, 20)
    }
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
      [key + 'P50']: percentile(samples, 50),
      [key + 'P99']: percentile(samples, 99),
      [key + 'Warnings']: warnings.counts
    }
  } finally {
    for (const peer of [bidder, ...others]) await peer.close()
    await remote.stop()
  }
}

// bidders x inFlight bids in flight on one auction for ms; a bid found too low (overtaken by
// another in flight) is retried higher; only accepted bids count. The bidders run in this
// process (processes = 0) or spread over that many child processes. Figures are named key...
async function sellerThroughput(bootstrap, dir, opts) {
  const { key = 'seller', parallelMs, bidders, inFlight, processes = 0, separate = false } = opts
  const where = processes ? `in ${processes} child processes` : 'here'
  const on = separate ? 'each on its own auction' : 'on one auction'
  log(`  seller throughput, ${bidders} bidder peers x ${inFlight} ${on} (${where})`)
  const remote = await spawnRemote('seller', bootstrap, {
    storage: path.join(dir, 'seller'),
    auctions: separate ? bidders : 1
  })
  const auction = remote.info.auctions[0]
  const auctions = separate ? remote.info.auctions : null
  const groups = []
  if (processes === 0) {
    groups.push(new Bidders(bootstrap, dir, { count: bidders, auction, auctions }))
  } else {
    for (let i = 0; i < processes; i++) {
      const count =
        Math.ceil((bidders * (i + 1)) / processes) - Math.ceil((bidders * i) / processes)
      const first = Math.ceil((bidders * i) / processes)
      groups.push(new RemoteBidders(bootstrap, dir, { count, first, auction, auctions }))
    }
  }
  try {
    let accepted = 0
    for (const info of await Promise.all(groups.map((g) => g.ready()))) accepted += info.warmup

    const sellerCpu = (await remote.ask('cpu')).cpu
    const length = (await remote.ask('length')).length
    const runs = await Promise.all(groups.map((g) => g.run(parallelMs, inFlight)))
    const seconds = Math.max(...runs.map((r) => r.seconds))
    const sellerUse = ((await remote.ask('cpu')).cpu - sellerCpu) / (seconds * 1000)
    const blocks = (await remote.ask('length')).length - length
    const done = runs.reduce((all, r) => all + r.done, 0)
    const refused = sum(runs.map((r) => r.refused))
    accepted += done

    // Every bidder is a full peer: it has to hold every accepted bid
    const t = now()
    let error = null
    let last = null
    try {
      await waitFor(
        async () => {
          last = await Promise.all(groups.map((g) => g.applied()))
          const invalid = last.find((a) => a.invalid)
          if (invalid) throw new Error(invalid.invalid)
          return last.every((a) => a.min >= accepted)
        },
        'every bidder to apply every bid',
        60000,
        5
      )
    } catch (err) {
      // The rate stands as measured, but bidders that stopped applying bids did less work
      error = err.message
    }
    return {
      [key + 'Error']: error,
      [key + 'BidsPerSec']: done / seconds,
      [key + 'TooLowPerSec']: (refused.BID_TOO_LOW || 0) / seconds,
      [key + 'Refused']: refused,
      [key + 'SellerCpu']: sellerUse,
      // Bids are the only events in the window: one block may hold several (group commit)
      [key + 'EventsPerBlock']: done / Math.max(1, blocks),
      [key + 'SellerCpuPerBidMs']: (sellerUse * seconds * 1000) / Math.max(1, done),
      [key + 'BiddersCpu']: runs.map((r) => r.cpuShare),
      [key + 'BidderProcesses']: processes,
      [key + 'LagMs']: now() - t,
      [key + 'Warnings']: sum((last || []).map((a) => a.warnings))
    }
  } finally {
    for (const group of groups) await group.close()
    await remote.stop()
  }
}

function sum(counts) {
  const out = {}
  for (const c of counts) for (const code in c) out[code] = (out[code] || 0) + c[code]
  return out
}

module.exports = { bidLatency, sellerThroughput }
