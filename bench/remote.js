// The far side of a benchmark, in its own process:
//   rpc      a raw @hyperswarm/rpc echo server
//   seller   an AuctionPeer with open auctions
//   history  an AuctionPeer whose log holds one auction and many bids, accepted from bidders
//            in this process with several bids in flight, as a busy seller's log would
//   bidders  a group of full bidder peers on a seller's auction (bench/bidders.js)
//   propagation  N AuctionPeers meshed in this process (bench/propagation.js); prints the figures
// Prints one JSON line when ready, answers each command line with one JSON line, in order
// ('cpu': ms of CPU used so far; seller: 'length' of its log; bidders: 'run <ms> <inFlight>', 'applied'), and closes
// everything when its stdin ends.
const b4a = require('b4a')
const AuctionPeer = require('..')
const m = require('../lib/messages')
const crypto = require('../lib/crypto')
const { measure } = require('./propagation')
const { Bidders } = require('./bidders')
const {
  RAW,
  createPeer,
  createRpc,
  codeOf,
  serveCommands,
  cpuTime,
  now,
  log
} = require('./harness')

const [mode, json] = process.argv.slice(2)
const opts = JSON.parse(json)

async function main() {
  let info
  let close
  const commands = { cpu: () => ({ cpu: cpuTime() }) }
  if (mode === 'rpc') {
    const node = createRpc(opts.bootstrap)
    const server = node.rpc.createServer()
    const reply = b4a.alloc(opts.replyBytes)
    server.respond('echo', RAW, () => reply)
    await server.listen(node.keyPair)
    info = { publicKey: b4a.toString(node.keyPair.publicKey, 'hex') }
    close = () => node.destroy()
  } else if (mode === 'bidders') {
    const bidders = new Bidders(opts.bootstrap, opts.dir, opts)
    close = () => bidders.close()
    info = await bidders.ready()
    commands.run = (ms, inFlight) => bidders.run(Number(ms), Number(inFlight))
    commands.applied = () => bidders.applied()
  } else if (mode === 'propagation') {
    info = await measure(opts.bootstrap, opts.dir, opts.n, opts)
    close = () => Promise.resolve()
  } else {
    const peer = createPeer(opts.storage, opts.bootstrap, { name: 'seller' })
    await peer.ready()
    close = () => peer.close()
    const auctions = []
    for (let i = 0; i < (opts.auctions || 1); i++) {
      auctions.push((await peer.openAuction({ item: 'Lot#' + i, price: '1' })).id)
    }
    info = { publicKey: peer.id, auctions }
    commands.length = () => ({ length: peer.log.core.length })
    if (mode === 'history') {
      const t = now()
      await loadBids(peer, auctions[0], opts)
      info.loadSeconds = (now() - t) / 1000
      info.blocks = peer.log.core.length
      info.events = auctions.length + opts.bids
      info.logKey = b4a.toString(crypto.logKey(peer.publicKey), 'hex')
    }
  }

  serveCommands('remote ' + mode, info, commands, close)
}

// opts.bids accepted bids from opts.bidders raw RPC bidders, opts.inFlight each, amounts rising;
// a bid overtaken by a higher one is retried higher
async function loadBids(peer, auction, { bootstrap, bids, bidders, inFlight }) {
  const node = createRpc(bootstrap)
  const id = b4a.from(auction, 'hex')
  let amount = 1
  let sent = 0
  const bid = async (bidder) => {
    const body = { auction: id, bidder: bidder.keyPair.publicKey, nonce: crypto.randomNonce() }
    body.amount = BigInt(++amount) * 1000000n
    body.createdAt = Date.now()
    const req = m.encode(m.bid, crypto.signBid(body, bidder.keyPair))
    try {
      await bidder.client.request(AuctionPeer.METHODS.bid, req, RAW)
      return true
    } catch (err) {
      if (codeOf(err) !== 'BID_TOO_LOW') throw err
      return false
    }
  }
  // A lane takes a bid to send, and gives it back if the bid was too low
  const lane = async (bidder) => {
    while (sent < bids) {
      sent++
      if (!(await bid(bidder))) sent--
    }
  }
  try {
    const lanes = []
    for (let i = 0; i < bidders; i++) {
      const keyPair = crypto.keyPair()
      const bidder = { keyPair, client: node.rpc.connect(peer.publicKey, { keyPair }) }
      for (let j = 0; j < inFlight; j++) lanes.push(lane(bidder))
    }
    await Promise.all(lanes)
  } finally {
    await node.destroy()
  }
}

main().catch((err) => {
  log(err.stack)
  process.exit(1)
})
