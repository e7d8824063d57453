const test = require('brittle')
const { runCli, spawnCli } = require('./helpers/processes')

test(
  'the demo tells the reference scenario to the end, the payment included',
  { timeout: 120000 },
  async (t) => {
    const res = await runCli(['demo'], { timeout: 90000 })
    t.is(res.code, 0, res.stderr)
    const out = res.stdout
    for (const name of ['Client#1', 'Client#2', 'Client#3']) {
      t.ok(
        new RegExp(`${name}: Pic#1 sold to Client#2 for 80 USDt, paid in block \\d+`).test(out),
        `${name} holds the sale, paid`
      )
    }
    t.ok(/All three peers hold the same history/.test(out), 'and the same history')
  }
)

test(
  'demo --web leaves each peer’s board running, pictures included, until Ctrl+C',
  { timeout: 150000 },
  async (t) => {
    const demo = await spawnCli(t, ['demo', '--web'], /web: Client#3 \S+\n/, { timeout: 120000 })
    const boards = [...demo.output.matchAll(/^web: (Client#\d) (\S+)$/gm)].map((m) => ({
      name: m[1],
      url: new URL(m[2])
    }))
    t.alike(
      boards.map((b) => b.name),
      ['Client#1', 'Client#2', 'Client#3'],
      'one board per peer'
    )
    // Client#3 sells nothing: what it shows of the others' auctions came over the network
    const { url } = boards[2]
    const get = async (route) => {
      const res = await fetch(new URL(route, url), {
        headers: { authorization: 'Bearer ' + url.searchParams.get('token') }
      })
      return { status: res.status, type: res.headers.get('content-type'), res }
    }
    t.is((await fetch(new URL('/api/auctions', url))).status, 401, 'not without the token')
    const list = await get('/api/auctions')
    t.is(list.status, 200)
    const { auctions } = await list.res.json()
    const items = auctions.map((a) => a.item).sort()
    t.alike(
      items,
      ['Pic#1', 'Pic#2', 'Pic#3, a sunset', 'Pic#4, the sea'],
      'the board lists all four'
    )
    const pic1 = auctions.find((a) => a.item === 'Pic#1')
    t.is(pic1.outcome, 'sold')
    t.is(pic1.payment.status, 'paid', 'the sale, paid')
    const sunset = auctions.find((a) => a.item === 'Pic#3, a sunset')
    t.is(sunset.picture.type, 'image/png')
    const picture = await get(`/api/auctions/${sunset.id}/picture`)
    t.is(picture.status, 200, 'and the picture of Client#1’s item')
    t.is(picture.type, 'image/png')
    const bytes = Buffer.from(await picture.res.arrayBuffer())
    t.is(bytes.byteLength, sunset.picture.size, 'whole')
    t.is(bytes.subarray(1, 4).toString(), 'PNG')

    demo.kill('SIGINT')
    t.is((await demo.exited).code, 0, 'Ctrl+C ends the demo cleanly')
  }
)
