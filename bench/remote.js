// The far side of a benchmark, in its own process: a raw RPC echo server ('rpc')
// or a seller peer with open auctions ('seller'). Prints one JSON line when ready;
// exits when its stdin closes.
const RPC = require('@hyperswarm/rpc')
const DHT = require('hyperdht')
const c = require('compact-encoding')
const AuctionPeer = require('..')

const [mode, bootstrapArg, storage, auctions = '1'] = process.argv.slice(2)
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
    const ids = []
    for (let i = 0; i < Number(auctions); i++) {
      ids.push((await peer.openAuction({ item: 'Lot#' + i, price: '1' })).id)
    }
    print({ publicKey: peer.id, auctions: ids })
    close = () => peer.close()
  }
  process.stdin.resume()
  process.stdin.on('end', async () => {
    await close()
    process.exit(0)
  })
}

function print(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n')
}

main()
