const test = require('brittle')
const path = require('path')
const { spawn } = require('child_process')
const { monitorEventLoopDelay } = require('perf_hooks')
const AuctionPeer = require('..')
const Reads = require('../lib/reads')
const { createPeers, everywhere } = require('./helpers')

// The hostile readers in a child process; resolves with what it printed
function readers(t, opts) {
  const child = spawn(
    process.execPath,
    [path.join(__dirname, 'helpers', 'reader.js'), JSON.stringify(opts)],
    {
      stdio: ['ignore', 'pipe', 'inherit']
    }
  )
  t.teardown(() => child.kill('SIGKILL'))
  let out = ''
  child.stdout.on('data', (data) => (out += data))
  return new Promise((resolve, reject) => {
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`reader exited ${code}`))
    )
  })
}

test('4 keys x 64 requests for the largest page of 500 auctions: small answers, no stall, an honest bid goes through', async (t) => {
  const { peers, testnet } = await createPeers(t, 2)
  const [victim, bidder] = peers
  let last = null
  for (let i = 0; i < 500; i++) {
    last = await victim.openAuction({ item: 'Lot#' + i + ' ' + 'x'.repeat(120), price: '1' })
  }
  await everywhere([bidder], last.id, () => true, 30000)

  const delay = monitorEventLoopDelay({ resolution: 10 })
  delay.enable()
  const attack = readers(t, {
    bootstrap: testnet.bootstrap,
    victim: victim.id,
    method: AuctionPeer.METHODS.auctions,
    keys: 4,
    inFlight: 64,
    ms: 8000
  })
  await new Promise((resolve) => setTimeout(resolve, 2000))
  const bid = await bidder.placeBid(last.id, '2')
  t.ok(bid.confirmed, 'an honest bid goes through while they read')
  const seen = await attack
  delay.disable()
  const maxStall = delay.max / 1e6
  t.comment(
    `${seen.replies} answers, ${seen.busy} BUSY, largest ${seen.maxBytes} bytes, longest stall ${maxStall.toFixed(0)} ms, others ${JSON.stringify(seen.other)}`
  )
  t.ok(seen.replies > 0, 'the readers got answers')
  t.ok(
    seen.maxBytes <= Reads.MAX_REPLY,
    `every answer is at most 64 KiB (largest ${seen.maxBytes})`
  )
  t.ok(seen.busy > 0, 'past the shared budget they get BUSY')
  t.ok(
    maxStall < 200,
    `the victim's event loop never stalled 200 ms (longest ${maxStall.toFixed(0)} ms)`
  )
  t.is((await victim.getAuction(last.id)).highestBid.amount, '2', 'the victim holds the bid')
})

test('a page of auctions cut to 64 KiB names where the next begins, and pages read in turn hold every auction once', async (t) => {
  const { peers } = await createPeers(t, 1)
  const [peer] = peers
  // Items of 255 bytes in a script of 3 bytes a character: a page is counted in bytes
  for (let i = 0; i < 150; i++) {
    await peer.openAuction({ item: String(i).padStart(3, '0') + '拍'.repeat(84), price: '1' })
  }
  const reads = new Reads({
    auctions: (q) => peer.listAuctions(q),
    changes: () => peer.view.changes
  })
  const seen = new Set()
  let cursor = null
  let pages = 0
  do {
    const bytes = await reads.page(500, cursor)
    t.ok(bytes.byteLength <= Reads.MAX_REPLY, `page ${++pages}: ${bytes.byteLength} bytes`)
    const page = JSON.parse(bytes)
    for (const a of page.auctions) seen.add(a.id)
    cursor = page.cursor
  } while (cursor !== null)
  t.ok(pages > 1, `150 auctions of 255-byte items take ${pages} pages`)
  t.is(seen.size, 150, 'every auction comes once')
})
