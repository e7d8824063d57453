// A hostile reader, in its own process so that its work does not count as the victim's: keys
// raw RPC clients, each with inFlight requests for the largest page of auctions at once, for ms.
// Prints one JSON line: { replies, maxBytes, busy, other }.
const DHT = require('hyperdht')
const RPC = require('@hyperswarm/rpc')
const b4a = require('b4a')

const { bootstrap, victim, method, keys, inFlight, ms } = JSON.parse(process.argv[2])

async function main() {
  const nodes = []
  const out = { replies: 0, maxBytes: 0, busy: 0, other: {} }
  const request = b4a.from(JSON.stringify({ limit: 500 }))
  const until = Date.now() + ms
  for (let k = 0; k < keys; k++) {
    const keyPair = DHT.keyPair()
    const dht = new DHT({ keyPair, bootstrap, host: '127.0.0.1' })
    nodes.push({ dht, rpc: new RPC({ dht, keyPair }) })
  }
  const lane = async ({ rpc }) => {
    while (Date.now() < until) {
      try {
        const res = await rpc.request(b4a.from(victim, 'hex'), method, request)
        out.replies++
        out.maxBytes = Math.max(out.maxBytes, res.byteLength)
      } catch (err) {
        const code = (err.cause && err.cause.code) || err.code
        if (code === 'BUSY') out.busy++
        else out.other[code] = (out.other[code] || 0) + 1
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
    }
  }
  const lanes = []
  for (const node of nodes) for (let i = 0; i < inFlight; i++) lanes.push(lane(node))
  await Promise.all(lanes)
  for (const { rpc, dht } of nodes) {
    await rpc.destroy()
    await dht.destroy()
  }
  process.stdout.write(JSON.stringify(out) + '\n')
}

main().catch((err) => {
  process.stderr.write(err.stack + '\n')
  process.exit(1)
})
