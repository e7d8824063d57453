const path = require('path')
const fs = require('fs')
const { spawnCli, runCli, runJson } = require('./processes')
const { until } = require('.')

// The reference scenario driven only through the CLI: three `start` processes on the
// bootstrap at 127.0.0.1:port, then SIGTERM. Asserts what every client sees.
async function cliScenario(t, dir, port) {
  const storage = (i) => path.join(dir, 'client' + i)
  const peers = []
  for (let i = 1; i <= 3; i++) {
    peers.push(
      await spawnCli(
        t,
        [
          'start',
          '--storage',
          storage(i),
          '--bootstrap',
          `127.0.0.1:${port}`,
          '--host',
          '127.0.0.1',
          '--network',
          'e2e',
          '--name',
          `Client#${i}`
        ],
        /Ready\./
      )
    )
  }
  const s = (i) => ['--storage', storage(i)]

  const sock = fs.statSync(path.join(storage(1), 'control.sock'))
  t.is(sock.mode & 0o777, 0o600, 'control socket is for its owner only')

  await until(
    async () => {
      for (let i = 1; i <= 3; i++) if ((await runJson(['peers', ...s(i)])).length < 2) return false
      return true
    },
    20000,
    'peers to find each other'
  )

  const ids = []
  for (let i = 1; i <= 3; i++) ids.push((await runJson(['id', ...s(i)])).publicKey)
  t.ok(
    ids.every((id) => /^[0-9a-f]{64}$/.test(id)),
    'id --json gives hex public keys'
  )

  const watcher = await spawnCli(t, ['watch', '--json', ...s(3)], /"event":"watching"/)

  const pic1 = await runJson(['open', 'Pic#1', '75', '--currency', 'USDt', ...s(1)])
  t.is(pic1.item, 'Pic#1')
  t.is(pic1.startPrice, '75')
  await runJson(['open', 'Pic#2', '60', ...s(2)])
  await until(
    async () =>
      (await runJson(['list', ...s(2)])).length === 2 &&
      (await runJson(['list', ...s(3)])).length === 2,
    10000,
    'both auctions everywhere'
  )

  const bid = await runCli(['bid', pic1.id.slice(0, 8), '75', ...s(2)])
  t.is(bid.code, 0, 'a unique id prefix is enough')
  t.ok(bid.stdout.includes('accepted'), 'plain output says accepted')
  await runJson(['bid', pic1.id, '75.5', ...s(3)])
  await runJson(['bid', pic1.id, '80', ...s(2)])

  const low = await runCli(['bid', pic1.id, '79', ...s(3)])
  t.is(low.code, 1, 'a refused bid exits non-zero')
  t.is(low.stderr.trim(), 'error: BID_TOO_LOW: Bid must be higher than 80 USDt', 'one coded line')

  const sale = await runJson(['close', pic1.id, ...s(1)])
  t.alike(sale.winner, { bidder: ids[1], amount: '80' })

  await until(
    async () => {
      for (let i = 1; i <= 3; i++) {
        if ((await runJson(['show', pic1.id, ...s(i)])).status !== 'closed') return false
      }
      return true
    },
    10000,
    'the sale everywhere'
  )
  for (let i = 1; i <= 3; i++) {
    const shown = await runJson(['show', pic1.id, ...s(i)])
    t.alike(
      shown.bids.map((b) => [b.bidder, b.amount]),
      [
        [ids[1], '75'],
        [ids[2], '75.5'],
        [ids[1], '80']
      ],
      `Client#${i} has the bids in order`
    )
    t.alike(
      shown.winner,
      { bidder: ids[1], amount: '80' },
      `Client#${i}: Client#2 bought it for 80`
    )
    t.alike(shown.highestBid, { bidder: ids[1], amount: '80' })
    t.is(shown.seller, ids[0])
  }

  const plain = await runCli(['show', pic1.id, ...s(3)])
  // Names are chosen by each peer: another peer's comes with a prefix of its key
  const client2 = `Client#2 (${ids[1].slice(0, 8)})`
  t.ok(plain.stdout.includes(`winner:      ${client2} for 80 USDt`), 'plain show names the winner')
  t.ok(
    peers[2].output.includes(`auction closed: Pic#1 sold to ${client2} for 80 USDt`),
    'start prints the sale'
  )

  await until(() => watcher.output.includes('"auction-closed"'), 10000, 'the sale at the watcher')
  const seen = watcher.output
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line))
  t.alike(
    seen.map((e) => e.event),
    [
      'watching',
      'auction-opened',
      'auction-opened',
      'bid-accepted',
      'bid-accepted',
      'bid-accepted',
      'outbid',
      'auction-closed'
    ],
    'watch --json prints one object per notification, in order'
  )
  t.is(seen[6].data.previous, '75.5', 'Client#3 hears it was outbid')
  t.alike(seen[7].data.winner, { bidder: ids[1], amount: '80' })

  const stopped = peers.map((p) => p.exited)
  for (const p of peers) p.kill('SIGTERM')
  for (const { code } of await Promise.all(stopped)) t.is(code, 0, 'a peer exits 0 on SIGTERM')
  t.is((await watcher.exited).code, 1, 'watch ends with an error when its peer stops')
  t.ok(
    watcher.output.includes('{"error":{"code":"PEER_NOT_RUNNING","message":"The peer stopped"}}'),
    'watch --json says so in JSON'
  )
  const s1 = ['--storage', storage(1)]
  const gone = await runCli(['list', ...s1])
  t.is(gone.code, 1)
  t.ok(gone.stderr.startsWith('error: PEER_NOT_RUNNING:'), 'commands say when no peer runs')
}

module.exports = { cliScenario }
