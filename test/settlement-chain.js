const test = require('brittle')
const path = require('path')
const { spawnSync } = require('child_process')
const { Wallet, Interface } = require('ethers')
const { createChain, closedPort, proxyEndpoint, silentEndpoint } = require('./helpers/chain')
const { rejects } = require('./helpers')
const {
  pay,
  verifyPayment,
  mine,
  deployToken,
  startLocalChain,
  claimMessage,
  signClaim,
  verifyClaimSignature
} = require('../lib/settlement/chain')
const { request, waitForReceipt } = require('../lib/settlement/json-rpc')
const { abi } = require('../lib/settlement/token.json')

const PRICE = 80000000n // 80 USDt in micro-units
const AUCTION = '2692202db7baf0c5388d616141149d54'
const BIDDER = '86e69212'.repeat(8)

test('a buyer pays 80 USDt with the WDK wallet and the seller verifies it, then with 3 confirmations', async (t) => {
  const chain = await createChain(t)
  const buyer = chain.buyers[0]
  const seller = chain.accounts[chain.accounts.length - 1]

  const steps = []
  const paid = await pay({
    url: chain.url,
    chainId: chain.chainId,
    token: chain.token,
    seed: buyer.mnemonic,
    index: buyer.index,
    to: seller.address,
    amount: '80',
    onprogress: (step) => steps.push(step)
  })
  t.alike(steps, ['sent', 'mined'], 'progress: sent, then mined')
  t.is(paid.from, buyer.address, 'the WDK account of the seed is the buyer account')
  t.is(await balanceOf(chain, seller.address), PRICE, 'the seller holds 80 USDt')
  t.is(await balanceOf(chain, buyer.address), 920000000n, 'the buyer has 920 left')

  const claim = {
    url: chain.url,
    chainId: chain.chainId,
    token: chain.token,
    payTo: seller.address,
    amount: PRICE,
    txHash: paid.hash
  }
  const once = await verifyPayment({ ...claim, confirmations: 1 })
  t.is(once.txHash, paid.hash, 'verified: the claimed transaction')
  t.is(once.from, buyer.address, 'the payer is the Transfer sender')
  t.is(once.value, PRICE, 'the value paid')
  t.is(once.blockNumber, paid.blockNumber, 'in the block the wallet saw')
  t.is(once.confirmations, 1, 'with 1 confirmation')

  await rejects(t, verifyPayment({ ...claim, confirmations: 3 }), 'NOT_CONFIRMED', '1 of 3')
  await mine(chain.url, 2)
  const thrice = await verifyPayment({ ...claim, confirmations: 3 })
  t.is(thrice.confirmations, 3, '3 confirmations right after mining 2 blocks')
  t.is(thrice.blockHash, once.blockHash, 'still the same block')
})

test('verifying waits for confirmations up to its timeout and reports them', async (t) => {
  const chain = await createChain(t)
  const seller = chain.accounts[chain.accounts.length - 1]
  const paid = await payFrom(chain, chain.buyers[0], seller.address, '80')

  const seen = []
  let mining = null
  const result = await verifyPayment({
    url: chain.url,
    chainId: chain.chainId,
    token: chain.token,
    payTo: seller.address,
    amount: PRICE,
    txHash: paid.hash,
    confirmations: 3,
    timeout: 10000,
    interval: 50,
    onprogress: (step, info) => {
      seen.push(step === 'confirmations' ? `${info.confirmations} of ${info.required}` : step)
      // The two blocks come only once the wait has begun
      if (step === 'confirmations' && info.confirmations === 1) mining = mine(chain.url, 2)
    }
  })
  await mining
  t.is(result.confirmations, 3, 'verified once the blocks were mined')
  t.is(seen[0], '1 of 3', 'first report: 1 of 3')
  t.is(seen.at(-2), '3 of 3', 'last report: 3 of 3')
  t.is(seen.at(-1), 'verified', 'then verified')

  const err = await rejects(
    t,
    verifyPayment({
      url: chain.url,
      chainId: chain.chainId,
      token: chain.token,
      payTo: seller.address,
      amount: PRICE,
      txHash: paid.hash,
      confirmations: 10,
      timeout: 300,
      interval: 50
    }),
    'NOT_CONFIRMED',
    'not enough confirmations by the timeout'
  )
  t.is(err.confirmations, 3, 'the error says how many')
  t.is(err.required, 10, 'of how many')
  t.ok(/3 of 10/.test(err.message), err.message)
})

test('each bad payment is refused with its code', async (t) => {
  const chain = await createChain(t)
  const [alice, bob] = chain.buyers
  const seller = chain.accounts[chain.accounts.length - 1]
  const good = await payFrom(chain, alice, seller.address, '80')
  const claim = {
    url: chain.url,
    chainId: chain.chainId,
    token: chain.token,
    payTo: seller.address,
    amount: PRICE,
    txHash: good.hash
  }
  t.is((await verifyPayment(claim)).value, PRICE, 'the good payment passes')

  await rejects(t, verifyPayment({ ...claim, chainId: 1 }), 'WRONG_CHAIN', 'wrong chain id')

  const other = await deployToken({
    url: chain.url,
    privateKey: chain.accounts[0].privateKey,
    mint: [{ to: bob.address, amount: 1000000000n }]
  })
  const fake = await pay({
    url: chain.url,
    token: other,
    privateKey: bob.privateKey,
    to: seller.address,
    amount: '80'
  })
  await rejects(t, verifyPayment({ ...claim, txHash: fake.hash }), 'WRONG_TOKEN', 'another token')

  const short = await payFrom(chain, bob, seller.address, '79.999999')
  const err = await rejects(
    t,
    verifyPayment({ ...claim, txHash: short.hash }),
    'SHORT_AMOUNT',
    'a micro-unit short'
  )
  t.ok(/79\.999999/.test(err.message), err.message)

  const elsewhere = await payFrom(chain, bob, chain.buyers[2].address, '80')
  await rejects(
    t,
    verifyPayment({ ...claim, txHash: elsewhere.hash }),
    'WRONG_RECIPIENT',
    'paid to someone else'
  )

  await rejects(
    t,
    verifyPayment({ ...claim, txHash: '0x' + 'ab'.repeat(32) }),
    'UNKNOWN_TX',
    'a hash the chain never saw'
  )
  await rejects(t, verifyPayment({ ...claim, txHash: 'nonsense' }), 'UNKNOWN_TX', 'not a hash')
})

test('a transfer of more than the balance is mined, reverts, and is refused as TX_REVERTED', async (t) => {
  const chain = await createChain(t)
  const seller = chain.accounts[chain.accounts.length - 1]
  const buyer = chain.buyers[0]

  await rejects(
    t,
    pay({
      url: chain.url,
      token: chain.token,
      privateKey: buyer.privateKey,
      to: seller.address,
      amount: '5000'
    }),
    'PAYMENT_FAILED',
    'the wallet refuses to send a transfer the token would revert'
  )

  // A manual gas limit skips the estimate that refused it above, so the chain mines it
  const wallet = new Wallet(buyer.privateKey)
  const data = new Interface(abi).encodeFunctionData('transfer', [seller.address, 5000000000n])
  const raw = await wallet.signTransaction({
    type: 0,
    chainId: chain.chainId,
    nonce: Number(await request(chain.url, 'eth_getTransactionCount', [buyer.address, 'pending'])),
    gasPrice: BigInt(await request(chain.url, 'eth_gasPrice')),
    gasLimit: 100000,
    to: chain.token,
    data
  })
  const hash = await request(chain.url, 'eth_sendRawTransaction', [raw])
  // anvil mines a transaction right after it answers, not before
  const receipt = await waitForReceipt(chain.url, hash, { until: Date.now() + 10000 })
  t.is(receipt && receipt.status, '0x0', 'mined with status 0')

  await rejects(
    t,
    verifyPayment({
      url: chain.url,
      chainId: chain.chainId,
      token: chain.token,
      payTo: seller.address,
      amount: PRICE,
      txHash: hash
    }),
    'TX_REVERTED',
    'reverted'
  )
})

test('a receipt whose block is no longer on the chain is REORGED', async (t) => {
  const chain = await createChain(t)
  const seller = chain.accounts[chain.accounts.length - 1]
  const paid = await payFrom(chain, chain.buyers[0], seller.address, '80')

  // A node that still serves the receipt while another block now stands at its height
  const url = await proxyEndpoint(t, chain.url, (method, result) =>
    method === 'eth_getBlockByNumber' ? { ...result, hash: '0x' + '11'.repeat(32) } : result
  )
  await rejects(
    t,
    verifyPayment({
      url,
      chainId: chain.chainId,
      token: chain.token,
      payTo: seller.address,
      amount: PRICE,
      txHash: paid.hash
    }),
    'REORGED',
    'block hash differs'
  )
})

test('an endpoint that is down is ENDPOINT_UNREACHABLE within seconds, for the seller and the buyer', async (t) => {
  const url = `http://127.0.0.1:${await closedPort()}`
  const address = '0x' + '22'.repeat(20)

  let started = Date.now()
  await rejects(
    t,
    verifyPayment({
      url,
      chainId: 1337,
      token: address,
      payTo: address,
      amount: PRICE,
      txHash: '0x' + 'ab'.repeat(32),
      timeout: 60000
    }),
    'ENDPOINT_UNREACHABLE',
    'verify'
  )
  t.ok(Date.now() - started < 5000, `verify gave up in ${Date.now() - started} ms`)

  started = Date.now()
  await rejects(
    t,
    pay({ url, token: address, privateKey: '0x' + '01'.repeat(32), to: address, amount: '80' }),
    'ENDPOINT_UNREACHABLE',
    'pay'
  )
  t.ok(Date.now() - started < 5000, `pay gave up in ${Date.now() - started} ms`)

  const silent = await silentEndpoint(t)
  started = Date.now()
  await rejects(
    t,
    verifyPayment({
      url: silent,
      chainId: 1337,
      token: address,
      payTo: address,
      amount: PRICE,
      txHash: '0x' + 'ab'.repeat(32),
      requestTimeout: 1000
    }),
    'ENDPOINT_UNREACHABLE',
    'an endpoint that never answers'
  )
  t.ok(Date.now() - started < 3000, `verify gave up in ${Date.now() - started} ms`)
})

test('only the paying address can claim the payment', async (t) => {
  const chain = await createChain(t)
  const [alice, bob] = chain.buyers
  const seller = chain.accounts[chain.accounts.length - 1]
  const paid = await payFrom(chain, alice, seller.address, '80')
  const { from } = await verifyPayment({
    url: chain.url,
    chainId: chain.chainId,
    token: chain.token,
    payTo: seller.address,
    amount: PRICE,
    txHash: paid.hash
  })

  const message = claimMessage({ auction: AUCTION, txHash: paid.hash, bidder: BIDDER })
  t.ok(
    message.includes(paid.hash) && message.includes(AUCTION) && message.includes(BIDDER),
    'the message names the transaction, the auction and the bidder'
  )

  const signature = await signClaim({ seed: alice.mnemonic, index: alice.index, message })
  t.is(verifyClaimSignature({ message, signature, from }), alice.address, 'the payer signed it')

  const stolen = await signClaim({ privateKey: bob.privateKey, message })
  t.is(
    codeOf(() => verifyClaimSignature({ message, signature: stolen, from })),
    'NOT_PAYER',
    'another address'
  )

  const other = claimMessage({ auction: AUCTION, txHash: paid.hash, bidder: 'ff'.repeat(32) })
  t.is(
    codeOf(() => verifyClaimSignature({ message: other, signature, from })),
    'NOT_PAYER',
    'the claim for another bidder'
  )
  t.is(
    codeOf(() => verifyClaimSignature({ message, signature: '0x1234', from })),
    'NOT_PAYER',
    'garbage'
  )
})

test('back-to-back payments from one account all land, and close() frees the chain', async (t) => {
  const chain = await createChain(t)
  const buyer = chain.buyers[0]
  const seller = chain.accounts[chain.accounts.length - 1]

  const first = await payFrom(chain, buyer, seller.address, '1')
  const second = await payFrom(chain, buyer, seller.address, '2')
  const together = await Promise.all(
    ['3', '4'].map((amount) => payFrom(chain, buyer, seller.address, amount))
  )
  const hashes = new Set([first, second, ...together].map((p) => p.hash))
  t.is(hashes.size, 4, 'four distinct transactions')
  t.is(await balanceOf(chain, seller.address), 10000000n, 'the seller holds 1 + 2 + 3 + 4 USDt')

  await chain.close()
  await chain.close()
  await rejects(
    t,
    request(chain.url, 'eth_chainId'),
    'ENDPOINT_UNREACHABLE',
    'nothing listens after close()'
  )
})

test('a local chain that cannot start is a clear error, not a hang', async (t) => {
  const busy = await silentEndpoint(t)
  const port = Number(new URL(busy).port)
  await rejects(t, startLocalChain({ port }), 'LOCAL_CHAIN_FAILED', 'the port is taken')

  const started = Date.now()
  await rejects(t, startLocalChain({ timeout: 100 }), 'LOCAL_CHAIN_FAILED', 'past its deadline')
  t.ok(Date.now() - started < 2000, `gave up in ${Date.now() - started} ms`)
})

test('requiring the settlement code loads no wallet kit, ethers or local chain', (t) => {
  const run = spawnSync(
    process.execPath,
    [
      '-e',
      "require('./lib/settlement/chain'); process.stdout.write(JSON.stringify(Object.keys(require.cache)))"
    ],
    { cwd: path.join(__dirname, '..'), encoding: 'utf8' }
  )
  const loaded = JSON.parse(run.stdout).filter((f) => /ethers|wdk|anvil|local-chain-worker/.test(f))
  t.alike(loaded, [], 'none of them loaded')
})

function payFrom(chain, buyer, to, amount) {
  return pay({
    url: chain.url,
    chainId: chain.chainId,
    token: chain.token,
    seed: buyer.mnemonic,
    index: buyer.index,
    to,
    amount
  })
}

async function balanceOf(chain, address) {
  const iface = new Interface(abi)
  const data = iface.encodeFunctionData('balanceOf', [address])
  return BigInt(await request(chain.url, 'eth_call', [{ to: chain.token, data }, 'latest']))
}

function codeOf(fn) {
  try {
    fn()
    return 'ok'
  } catch (err) {
    return err.code
  }
}
