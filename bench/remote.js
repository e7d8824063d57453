// The far side of a benchmark, in its own process: a raw RPC echo server ('rpc'),
// a seller peer with open auctions ('seller'), or a peer holding a long history for a late
// joiner to pull ('history'). Prints one JSON line when ready; exits when its stdin closes.
const RPC = require('@hyperswarm/rpc')
const DHT = require('hyperdht')
const c = require('compact-encoding')
const AuctionPeer = require('..')
const { Author } = require('../test/helpers/events')

const [mode, bootstrapArg, storage, count = '1'] = process.argv.slice(2)
const [host, port] = bootstrapArg.split(':')
const bootstrap = [{ host, port: Number(port) }]

async function main() {
  let close
  if (mode === 'rpc') {
    const keyPair = DHT.keyPair()
    const dht = new DHT({ keyPair, bootstrap, host: '127.0.0.1', firewalled: false })
    const rpc = new RPC({ dht, keyPair })
    const server = rpc.createServer()
    // Answers with as many bytes as a bid acceptance, so both sides move the same data
    const reply = Buffer.alloc(260)
    server.respond('echo', { requestEncoding: c.raw, responseEncoding: c.raw }, () => reply)
    await server.listen()
    print({ publicKey: keyPair.publicKey.toString('hex') })
    close = () => rpc.destroy()
  } else {
    const peer = new AuctionPeer(storage, {
      bootstrap,
      host: '127.0.0.1',
      firewalled: false,
      network: 'bench',
      name: 'seller'
    })
    await peer.ready()
    if (mode === 'history') {
      print({ publicKey: peer.id, ...(await loadHistory(peer, Number(count))) })
    } else {
      const ids = []
      for (let i = 0; i < Number(count); i++) {
        ids.push((await peer.openAuction({ item: 'Lot#' + i, price: '1' })).id)
      }
      print({ publicKey: peer.id, auctions: ids })
    }
    close = () => peer.close()
  }
  process.stdin.resume()
  process.stdin.on('end', async () => {
    await close()
    process.exit(0)
  })
}

// One auction with count - 1 accepted bids from three bidders, signed as the network would
// have made them, stored without the network
async function loadHistory(peer, count) {
  const seller = new Author()
  const bidders = [new Author(), new Author(), new Author()]
  const opened = seller.open('Lot', '1')
  let flushed = peer._ingest(opened.buf, null).flushed
  for (let i = 1; i < count; i++) {
    const bid = bidders[i % 3].bid(opened.evt.payload.id, String(1 + i))
    flushed = peer._ingest(seller.accept(bid, i - 1).buf, null).flushed
  }
  await flushed
  return { author: seller.publicKey.toString('hex'), events: count }
}

function print(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n')
}

main()
