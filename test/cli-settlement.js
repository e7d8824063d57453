const test = require('brittle')
const fs = require('fs')
const path = require('path')
const { freePort, spawnCli, runCli, runJson } = require('./helpers/processes')
const { createChain } = require('./helpers/chain')
const { until } = require('./helpers')

// A bootstrap and three `start` processes on the chain's endpoint, met; s(i) is Client#i's
// --storage
async function market(t, chain) {
  const dir = await t.tmp()
  const port = await freePort()
  await spawnCli(t, ['bootstrap', '--host', '127.0.0.1', '--port', String(port)], /listening/)
  const s = (i) => ['--storage', path.join(dir, 'client' + i)]
  for (let i = 1; i <= 3; i++) {
    const args = ['start', ...s(i), '--bootstrap', `127.0.0.1:${port}`, '--host', '127.0.0.1']
    await spawnCli(
      t,
      [...args, '--network', 'pay', '--name', `Client#${i}`, '--chain-rpc', chain.url],
      /Ready\./
    )
  }
  await until(
    async () => {
      for (let i = 1; i <= 3; i++) {
        if ((await runJson(['peers', ...s(i)])).length < 2) return false
      }
      return true
    },
    20000,
    'the three peers to meet'
  )
  return { dir, s }
}

test(
  'through the CLI: a sale in test USDt is paid with the built-in wallet and shown paid by every peer',
  { timeout: 120000 },
  async (t) => {
    const chain = await createChain(t, { buyers: 2 })
    const { dir, s } = await market(t, chain)

    const payTo = chain.accounts[chain.accounts.length - 1].address
    const terms = ['--pay-to', payTo, '--token', chain.token, '--chain-id', String(chain.chainId)]
    const a = await runJson(['open', 'Pic#1', '75', ...terms, '--pay-within', '10m', ...s(1)])
    t.is(a.settlement.payTo, payTo.toLowerCase(), 'the terms are in the auction')
    await until(
      async () => (await runCli(['show', a.id, ...s(2)])).code === 0,
      10000,
      'the auction at Client#2'
    )
    await runJson(['bid', a.id, '80', ...s(2)])
    await runJson(['close', a.id, ...s(1)])

    const wallet = path.join(dir, 'wallet')
    fs.writeFileSync(wallet, chain.buyers[0].mnemonic + '\n', { mode: 0o600 })
    const account = String(chain.buyers[0].index)
    const bad = await runCli(['pay', a.id, '--tx', '0x' + '12'.repeat(32), ...s(2)])
    t.is(bad.code, 1)
    t.ok(
      bad.stderr.startsWith('error: SIGNATURE_NEEDED:'),
      'a claim without a signature says what to sign'
    )
    const unknown = await runCli([
      'pay',
      a.id,
      '--tx',
      '0x' + '12'.repeat(32),
      '--signature',
      '0x' + '34'.repeat(65),
      ...s(2)
    ])
    t.ok(
      unknown.stderr.startsWith('error: UNKNOWN_TX:'),
      `an unknown transaction: ${unknown.stderr.trim()}`
    )

    const paid = await runCli(
      ['pay', a.id, '--wallet-file', wallet, '--account', account, ...s(2)],
      {
        timeout: 60000
      }
    )
    t.is(paid.code, 0, paid.stderr)
    t.ok(paid.stdout.startsWith('Pic#1: paid, 80 USDt by Client#2 (you)'), paid.stdout.trim())
    t.absent(
      paid.stdout.includes(chain.buyers[0].mnemonic.split(' ')[0] + ' '),
      'the seed is not printed'
    )

    await until(
      async () => {
        for (let i = 1; i <= 3; i++) {
          const shown = await runJson(['show', a.id, ...s(i)])
          if (!shown.payment || shown.payment.status !== 'paid') return false
        }
        return true
      },
      10000,
      'paid at every peer'
    )
    t.pass('every peer shows the sale paid')
    const plain = await runCli(['show', a.id, ...s(3)])
    t.ok(plain.stdout.includes('payment:     paid, 80 USDt by Client#2'), 'show says paid')
  }
)

test(
  'through the CLI: a claim of another buyer’s transfer or a short one is refused, and an unpaid sale goes to the next bidder',
  { timeout: 120000 },
  async (t) => {
    const chainLib = require('../lib/settlement/chain')
    const chain = await createChain(t, { buyers: 2 })
    const { dir, s } = await market(t, chain)
    const ids = []
    for (let i = 1; i <= 3; i++) ids.push((await runJson(['id', ...s(i)])).publicKey)

    const payTo = chain.accounts[chain.accounts.length - 1].address
    const terms = ['--pay-to', payTo, '--token', chain.token, '--chain-id', String(chain.chainId)]
    const a = await runJson(['open', 'Pic#1', '75', ...terms, '--pay-within', '8s', ...s(1)])
    await until(
      async () => (await runCli(['show', a.id, ...s(3)])).code === 0,
      10000,
      'the auction at Client#3'
    )
    await runJson(['bid', a.id, '76', ...s(3)])
    await runJson(['bid', a.id, '80', ...s(2)])
    await runJson(['close', a.id, ...s(1)])

    const [buyer, other] = chain.buyers
    const claim = async (from, tx) => {
      const message = chainLib.claimMessage({ auction: a.id, txHash: tx.hash, bidder: ids[1] })
      const signature = await chainLib.signClaim({ privateKey: from.privateKey, message })
      return runCli(['pay', a.id, '--tx', tx.hash, '--signature', signature, ...s(2)])
    }
    const send = (from, amount) =>
      chainLib.pay({
        url: chain.url,
        token: chain.token,
        to: payTo,
        amount,
        privateKey: from.privateKey
      })
    const stolen = await claim(buyer, await send(other, '80'))
    t.ok(
      stolen.stderr.startsWith('error: NOT_PAYER:'),
      `another buyer's transfer: ${stolen.stderr.trim()}`
    )
    const short = await claim(buyer, await send(buyer, '79'))
    t.ok(
      short.stderr.startsWith('error: SHORT_AMOUNT:'),
      `a short transfer: ${short.stderr.trim()}`
    )
    t.is((await runJson(['show', a.id, ...s(3)])).payment.status, 'due', 'nothing recorded')

    await until(
      async () => (await runJson(['show', a.id, ...s(3)])).payment.status === 'lapsed',
      30000,
      'the lapse at Client#3'
    )
    t.pass('past the deadline every peer sees the payment lapsed')
    const late = await runCli([
      'pay',
      a.id,
      '--tx',
      '0x' + '12'.repeat(32),
      '--signature',
      '0x00',
      ...s(2)
    ])
    t.ok(late.stderr.startsWith('error: DEADLINE_PASSED:'), 'a late payment is refused')

    const offered = await runCli(['second-chance', a.id, ...s(1)])
    t.is(offered.code, 0, offered.stderr)
    await until(
      async () => (await runJson(['show', a.id, ...s(3)])).payment.status === 'offered',
      10000,
      'the offer at Client#3'
    )
    const taken = await runCli(['accept-offer', a.id, ...s(3)])
    t.is(taken.code, 0, taken.stderr)
    const wallet = path.join(dir, 'wallet')
    fs.writeFileSync(wallet, other.mnemonic + '\n', { mode: 0o600 })
    const paid = await runCli(
      ['pay', a.id, '--wallet-file', wallet, '--account', String(other.index), ...s(3)],
      { timeout: 60000 }
    )
    t.is(paid.code, 0, paid.stderr)
    await until(
      async () => {
        for (let i = 1; i <= 3; i++) {
          const p = (await runJson(['show', a.id, ...s(i)])).payment
          if (p.status !== 'paid' || p.buyer !== ids[2] || p.amount !== '76') return false
        }
        return true
      },
      10000,
      'the second-chance sale paid everywhere'
    )
    t.pass('the next bidder took the offer and paid its own bid; every peer shows it')
  }
)
