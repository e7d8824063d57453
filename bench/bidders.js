// A group of full bidder peers on one auction, or each on its own (auctions: one per bidder, in
// order), in this process or (through remote.js) in a child process: both answer ready(),
// run(ms, inFlight), applied() and close()
const path = require('path')
const { formatAmount } = require('../lib/money')
const {
  createPeer,
  watchWarnings,
  spawnRemote,
  saturate,
  waitFor,
  auctionAt,
  cpuTime,
  codeOf
} = require('./harness')

const WARMUP_TRIES = 20

class Bidders {
  constructor(bootstrap, dir, { count, first = 0, auction, auctions = null }) {
    // The auction each bidder peer bids on
    this.auctions = new Map()
    this.peers = []
    this.counts = []
    this.warnings = []
    for (let i = first; i < first + count; i++) {
      const peer = createPeer(path.join(dir, 'bidder-' + i), bootstrap, { name: 'bidder-' + i })
      const n = this.counts.push(0) - 1
      peer.on('bid-accepted', () => this.counts[n]++)
      this.warnings.push(watchWarnings(peer))
      this.peers.push(peer)
      this.auctions.set(peer, auctions === null ? auction : auctions[i])
    }
  }

  // Every bidder holds the auction and had one bid accepted (which connects it to the seller)
  async ready() {
    await Promise.all(this.peers.map((peer) => peer.ready()))
    for (const peer of this.peers) {
      const auction = this.auctions.get(peer)
      await waitFor(() => auctionAt(peer, auction), 'the auction at every bidder', 30000, 20)
    }
    for (const peer of this.peers) {
      for (let i = 0; ; i++) {
        try {
          await this._bid(peer)
          break
        } catch (err) {
          if (codeOf(err) !== 'BID_TOO_LOW' || i === WARMUP_TRIES) throw err
        }
      }
    }
    return { warmup: this.peers.length }
  }

  async run(ms, inFlight) {
    const cpu = cpuTime()
    const res = await saturate(ms, this.peers, inFlight, (peer) => this._bid(peer))
    return { ...res, cpuShare: (cpuTime() - cpu) / (res.seconds * 1000) }
  }

  // The fewest accepted bids any bidder here has applied; invalid once one stopped following
  applied() {
    let invalid = null
    try {
      for (const w of this.warnings) w.check()
    } catch (err) {
      invalid = err.message
    }
    const warnings = {}
    for (const w of this.warnings) {
      for (const code in w.counts) warnings[code] = (warnings[code] || 0) + w.counts[code]
    }
    return { min: Math.min(...this.counts), invalid, warnings }
  }

  async close() {
    for (const peer of this.peers) await peer.close()
  }

  _bid(peer) {
    return peer.placeBid(this.auctions.get(peer), risingAmount())
  }
}

// The same group in a child process
class RemoteBidders {
  constructor(bootstrap, dir, opts) {
    this.remote = spawnRemote('bidders', bootstrap, { dir, ...opts })
  }

  async ready() {
    this.remote = await this.remote
    return this.remote.info
  }

  run(ms, inFlight) {
    return this.remote.ask(`run ${ms} ${inFlight}`)
  }

  applied() {
    return this.remote.ask('applied')
  }

  async close() {
    const remote = await this.remote
    await remote.stop()
  }
}

let last = 0n

// Rising amounts without coordination between processes: the machine's monotonic clock in
// micro-units (process.hrtime is CLOCK_MONOTONIC on Linux, shared by every process)
function risingAmount() {
  let units = process.hrtime.bigint() / 1000n
  if (units <= last) units = last + 1n
  last = units
  return formatAmount(units)
}

module.exports = { Bidders, RemoteBidders }
