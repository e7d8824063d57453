const test = require('brittle')
const { runCli } = require('./helpers/processes')

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
