const test = require('brittle')
const b4a = require('b4a')
const chainLib = require('../lib/settlement/chain')
const { createBootstrap, createPeer, meshed, everywhere, rejects, once } = require('./helpers')
const { createChain, closedPort } = require('./helpers/chain')

// A seller, two bidders and an observer on one chain; the seller is paid at an account that
// holds no USDt, the bidders pay from the chain's buyer accounts 1 and 2
async function market(t, opts = {}) {
  const chain = await createChain(t, { buyers: 3 })
  const testnet = await createBootstrap(t)
  const rpc = { chainRpc: chain.url }
  const seller = await createPeer(t, testnet, { name: 'seller', ...rpc, ...opts.seller })
  const alice = await createPeer(t, testnet, { name: 'alice', ...rpc })
  const bob = await createPeer(t, testnet, { name: 'bob', ...rpc, ...opts.bob })
  const observer = await createPeer(t, testnet, { name: 'observer' })
  const peers = [seller, alice, bob, observer]
  await meshed(peers)
  const payTo = chain.accounts[chain.accounts.length - 1].address
  const wallets = { alice: chain.buyers[0], bob: chain.buyers[1], carol: chain.buyers[2] }
  const sale = async (terms = {}) => {
    const a = await seller.openAuction({
      item: 'Pic#1',
      price: '75',
      settlement: {
        chainId: chain.chainId,
        token: chain.token,
        payTo,
        payWithin: 60000,
        confirmations: 1,
        ...terms
      }
    })
    await everywhere(peers, a.id)
    await bob.placeBid(a.id, '75')
    await alice.placeBid(a.id, '80')
    await seller.closeAuction(a.id)
    await everywhere(peers, a.id, (x) => x.payment && x.payment.status === 'due')
    return a
  }
  return { chain, seller, alice, bob, observer, peers, payTo, wallets, sale }
}

const pk = (w) => ({ privateKey: w.privateKey })

test('a sale paid with the built-in wallet is verified by the seller and shown paid everywhere', async (t) => {
  const { seller, alice, bob, peers, sale, wallets, payTo } = await market(t)
  const a = await sale()
  t.is((await alice.getAuction(a.id)).payment.buyer, alice.id, 'alice owes the price')
  const checked = once(bob, 'payment-checked', (c) => c.auction === a.id, 30000, 'bob’s check')

  await rejects(
    t,
    alice.pay(a.id, { seed: wallets.alice.mnemonic, index: -1 }),
    'INVALID_ARGUMENT',
    'an account index below 0 is refused before the wallet is asked'
  )
  const steps = []
  alice.on('payment-progress', (p) => steps.push(p.step))
  const paid = await alice.pay(a.id, { seed: wallets.alice.mnemonic, index: wallets.alice.index })
  t.is(paid.payment.status, 'paid')
  t.is(paid.confirmed, true, 'pay resolves once alice holds the seller’s signed record')
  t.alike(steps, ['sent', 'mined', 'claimed', 'verified'], 'each step is reported')
  await everywhere(peers, a.id, (x) => x.payment.status === 'paid')
  const shown = await peers[3].getAuction(a.id)
  t.is(shown.payment.amount, '80')
  t.is(shown.payment.payer, wallets.alice.address.toLowerCase(), 'the observer sees who paid')
  t.is(shown.settlement.payTo, payTo.toLowerCase())
  t.is(
    shown.payment.verified,
    'seller-record',
    'the observer, with no endpoint, has the seller’s word'
  )
  t.is((await seller.getAuction(a.id)).payment.verified, 'verified', 'the seller’s node checked it')
  t.is((await checked).verified, 'verified', 'bob checks it on his own endpoint')
  t.is((await bob.getAuction(a.id)).payment.verified, 'verified', 'and shows it verified')
  await rejects(
    t,
    alice.pay(a.id, pk(wallets.alice)),
    'ALREADY_PAID',
    'a second payment is refused'
  )
  t.is((await seller.getAuction(a.id)).payment.txHash, paid.payment.txHash)
})

test('bad payment claims are refused with their code and nothing is recorded', async (t) => {
  const m = await market(t)
  const { chain, alice, bob, seller, wallets, payTo } = m
  // A transfer mined a minute before the sale, on a chain whose clock was set back for it
  // (anvil's evm_setTime takes seconds)
  const { request } = require('../lib/settlement/json-rpc')
  const seconds = (ms) => Math.floor(ms / 1000)
  await request(chain.url, 'evm_setTime', [seconds(Date.now() - 60000)])
  const early = await chainLib.pay({
    url: chain.url,
    token: chain.token,
    to: payTo,
    amount: '80',
    privateKey: wallets.alice.privateKey
  })
  await request(chain.url, 'evm_setTime', [seconds(Date.now())])
  const a = await m.sale()
  const claim = async (from, tx) => {
    const message = chainLib.claimMessage({ auction: a.id, txHash: tx.hash, bidder: alice.id })
    const signature = await chainLib.signClaim({ privateKey: from.privateKey, message })
    return alice.pay(a.id, { txHash: tx.hash, signature })
  }
  const transfer = (from, opts) =>
    chainLib.pay({
      url: chain.url,
      token: chain.token,
      to: payTo,
      amount: '80',
      ...pk(from),
      ...opts
    })

  await rejects(
    t,
    claim(wallets.alice, await transfer(wallets.alice, { amount: '79.99' })),
    'SHORT_AMOUNT',
    'short amount'
  )
  const other = await chainLib.deployToken({
    url: chain.url,
    privateKey: chain.accounts[0].privateKey,
    mint: [{ to: wallets.alice.address, amount: 100000000n }]
  })
  await rejects(
    t,
    claim(wallets.alice, await transfer(wallets.alice, { token: other })),
    'WRONG_TOKEN',
    'another token'
  )
  await rejects(
    t,
    claim(wallets.alice, await transfer(wallets.alice, { to: wallets.carol.address })),
    'WRONG_RECIPIENT',
    'paid to someone else'
  )
  await rejects(
    t,
    claim(wallets.alice, { hash: '0x' + 'ab'.repeat(32) }),
    'UNKNOWN_TX',
    'unknown transaction'
  )
  await rejects(t, claim(wallets.alice, early), 'TX_TOO_OLD', 'a transfer from before the sale')
  // Bob pays the seller 80 too; alice claims his transfer with her own signature
  const bobs = await transfer(wallets.bob)
  await rejects(t, claim(wallets.alice, bobs), 'NOT_PAYER', 'another buyer’s transfer')
  const message = chainLib.claimMessage({ auction: a.id, txHash: bobs.hash, bidder: bob.id })
  const signature = await chainLib.signClaim({ privateKey: wallets.bob.privateKey, message })
  await rejects(t, bob.pay(a.id, { txHash: bobs.hash, signature }), 'NOT_BUYER', 'bob did not win')
  await rejects(
    t,
    alice.pay(a.id, { txHash: bobs.hash }),
    'SIGNATURE_NEEDED',
    'a claim without a signature asks for one, with the text to sign'
  )

  for (const peer of m.peers) {
    t.is((await peer.getAuction(a.id)).payment.status, 'due', `${peer.name}: nothing recorded`)
  }

  const good = await transfer(wallets.alice)
  // What to sign is printed as it is, line breaks and all; the same words signed with escaped
  // line breaks (as a one-line print would show them) are told apart
  const needed = await rejects(
    t,
    alice.pay(a.id, { txHash: good.hash }),
    'SIGNATURE_NEEDED',
    'a claim without a signature'
  )
  t.ok(needed.claim.includes('\n'), 'the text to sign has line breaks')
  t.ok(needed.message.includes(needed.claim), 'and is printed as it is')
  const escaped = JSON.stringify(needed.claim).slice(1, -1)
  const wrong = await chainLib.signClaim({ privateKey: wallets.alice.privateKey, message: escaped })
  const err = await rejects(
    t,
    alice.pay(a.id, { txHash: good.hash, signature: wrong }),
    'NOT_PAYER',
    'a signature over the escaped text is refused'
  )
  t.ok(/line breaks/.test(err.message), `and the error says why: ${err.message}`)
  await claim(wallets.alice, good)
  await everywhere(m.peers, a.id, (x) => x.payment.status === 'paid')
  t.pass('the right transfer is then accepted')

  const b = await m.sale()
  const again = chainLib.claimMessage({ auction: b.id, txHash: good.hash, bidder: alice.id })
  await rejects(
    t,
    alice.pay(b.id, {
      txHash: good.hash,
      signature: await chainLib.signClaim({ privateKey: wallets.alice.privateKey, message: again })
    }),
    'TX_USED',
    'one transfer pays one sale'
  )
  t.is((await seller.getAuction(b.id)).payment.status, 'due')
})

test('the seller verifies through its own endpoint only', async (t) => {
  const port = await closedPort()
  const m = await market(t, { seller: { chainRpc: `http://127.0.0.1:${port}` } })
  const a = await m.sale()
  await rejects(
    t,
    m.alice.pay(a.id, { seed: m.wallets.alice.mnemonic, index: m.wallets.alice.index }),
    'ENDPOINT_UNREACHABLE',
    'the seller’s endpoint is down: refused, whatever the buyer’s shows'
  )
  const b = await m.sale({ chainId: 999 })
  await rejects(
    t,
    m.alice.pay(b.id, { seed: m.wallets.alice.mnemonic, index: m.wallets.alice.index }),
    'WRONG_CHAIN',
    'the buyer’s wallet will not pay on another chain than the terms say'
  )
  t.is((await m.observer.getAuction(a.id)).payment.status, 'due')
})

test('an unpaid winner past the deadline: the lapse is recorded and the next bidder takes a second chance', async (t) => {
  const m = await market(t)
  const { alice, bob, seller, peers, wallets } = m
  const a = await m.sale({ payWithin: 1500 })

  await everywhere(peers, a.id, (x) => x.payment.status === 'lapsed', 15000)
  t.alike(
    (await m.observer.getAuction(a.id)).payment.lapsed,
    [alice.id],
    'every peer sees alice lapsed'
  )
  await rejects(t, alice.pay(a.id, pk(wallets.alice)), 'DEADLINE_PASSED', 'alice may no longer pay')

  await seller.offerSecondChance(a.id)
  await everywhere(peers, a.id, (x) => x.payment.status === 'offered')
  const offer = (await bob.getAuction(a.id)).payment.offer
  t.alike([offer.bidder, offer.amount], [bob.id, '75'], 'bob is offered the item at his own bid')
  await rejects(t, alice.acceptOffer(a.id), 'NO_OFFER', 'only bob can take it')

  const taken = await bob.acceptOffer(a.id)
  t.is(taken.confirmed, true, 'acceptOffer resolves once bob holds the seller’s record')
  t.is(taken.payment.buyer, bob.id, 'in which bob is the buyer now')
  await everywhere(peers, a.id, (x) => x.payment.status === 'due' && x.payment.buyer === bob.id)
  const paid = await bob.pay(a.id, { seed: wallets.bob.mnemonic, index: wallets.bob.index })
  t.is(paid.payment.amount, '75', 'bob pays his own bid')
  await everywhere(peers, a.id, (x) => x.payment.status === 'paid' && x.payment.buyer === bob.id)
  t.pass('every peer shows the second-chance sale paid')
})

test('a seller’s record of a payment that never happened is shown disputed by peers with an endpoint', async (t) => {
  // Bob looks again 4 times before he calls an unknown transaction false: 0.2 s, then twice as long
  const { seller, alice, bob, observer, peers, sale, wallets } = await market(t, {
    bob: { paymentCheckRetry: 200 }
  })
  const a = await sale()
  const checked = once(bob, 'payment-checked', (c) => c.auction === a.id, 30000, 'bob’s check')
  const started = Date.now()
  // The seller's node records a payment past its own checks, as a dishonest seller would
  await seller.sequencer.settle(a.id, {
    buyer: alice.publicKey,
    txHash: b4a.alloc(32, 7),
    blockNumber: 1,
    payer: b4a.from(wallets.alice.address.slice(2), 'hex')
  })
  await everywhere(peers, a.id, (x) => x.payment.status === 'paid')
  const check = await checked
  t.is(check.verified, 'disputed', 'bob finds the record false')
  t.ok(Date.now() - started >= 3000, 'after looking again for 3 s (0.2 + 0.4 + 0.8 + 1.6)')
  t.ok(check.reason.startsWith('UNKNOWN_TX'), `with the reason: ${check.reason}`)
  const shown = await bob.getAuction(a.id)
  t.is(shown.payment.verified, 'disputed', 'and shows the payment disputed')
  t.ok(shown.payment.verifyError.startsWith('UNKNOWN_TX'))
  t.is(
    (await observer.getAuction(a.id)).payment.verified,
    'seller-record',
    'a peer with no endpoint has the seller’s word only'
  )
})

test('a seller’s record of a real transfer with a claim the payer did not sign is shown disputed', async (t) => {
  const m = await market(t, { bob: { paymentCheckRetry: 200 } })
  const { chain, seller, alice, bob, peers, sale, wallets, payTo } = m
  const a = await sale()
  // Bob pays the seller's address for something else; the seller records it as alice's payment,
  // with a claim carol signed
  const bobs = await chainLib.pay({
    url: chain.url,
    token: chain.token,
    to: payTo,
    amount: '80',
    ...pk(wallets.bob)
  })
  const message = chainLib.claimMessage({ auction: a.id, txHash: bobs.hash, bidder: alice.id })
  const claim = await chainLib.signClaim({ privateKey: wallets.carol.privateKey, message })
  const checked = once(bob, 'payment-checked', (c) => c.auction === a.id, 30000, 'bob’s check')
  await seller.sequencer.settle(a.id, {
    buyer: alice.publicKey,
    txHash: b4a.from(bobs.hash.slice(2), 'hex'),
    blockNumber: bobs.blockNumber,
    payer: b4a.from(wallets.bob.address.slice(2), 'hex'),
    claim: b4a.from(claim.slice(2), 'hex')
  })
  await everywhere(peers, a.id, (x) => x.payment.status === 'paid')
  const check = await checked
  t.is(check.verified, 'disputed', 'bob finds the claim was not signed by the payer')
  t.ok(check.reason.startsWith('NOT_PAYER'), `with the reason: ${check.reason}`)
})
