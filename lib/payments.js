const b4a = require('b4a')
const AuctionError = require('./errors')
const EndTimers = require('./timers')
const m = require('./messages')
const rules = require('./rules')
const crypto = require('./crypto')
const { parseHex } = require('./args')
const { METHODS } = require('./rpc')
const { BID_TIMEOUT } = require('./constants')

// A payment claim waits for the seller to see enough confirmations
const PAY_TIMEOUT = 120000
const CONFIRM_TIMEOUT = 90000
// A due that comes while a claim is verified looks again this much later
const DUE_RECHECK = 1000
// Other sellers' payment records checked at once, and waiting
const MAX_CHECKS = 4
const MAX_CHECKS_WAITING = 4096
// A record is looked at again this many times, the first after CHECK_RETRY ms, each time twice
// as long after (5 s to 75 s in all, after the first look)
const CHECK_ATTEMPTS = 4
const CHECK_RETRY = 5000

// Settlement of sales with settlement terms, both sides: the buyer pays (built-in wallet or any
// wallet) and claims; the seller verifies the claim on its own chain endpoint and records it, or
// records the lapse when the time to pay runs out; a second chance offered is accepted here.
class Payments {
  constructor(opts) {
    this.net = opts.net
    this.view = opts.view
    this.logs = opts.logs
    this.sequencer = opts.sequencer
    this.keyPair = opts.keyPair
    this.publicKey = opts.keyPair.publicKey
    this.id = opts.id
    // This peer's own EVM endpoint: the seller verifies payments there, the built-in wallet pays,
    // other sellers' records are checked; and how long the first look again at one waits
    this.chainRpc = opts.chain.rpc || null
    this.checkRetry = opts.chain.retry || CHECK_RETRY
    // writable(): resolves once the own log may take an event; getView(idHex): the auction
    this.writable = opts.writable
    this.getView = opts.getView
    this.emitter = opts.emitter
    this.isClosing = opts.isClosing
    this.timeout = opts.timeout || BID_TIMEOUT
    // The own sales' payment dues: unpaid by then, the lapse is recorded
    this.dues = new EndTimers((idHex) => this._ondue(idHex))
    this._claiming = new Set()
    // Own auctions with a payment claim being verified
    this._paying = new Set()
    // Other sellers' records of payments: checked here too, on this peer's endpoint, a few at
    // a time (a log caught up from its start may hold many)
    this._checking = new Set()
    this._toCheck = []
    this._checks = 0
    this._retries = new Set()
    this.emitter.on('auction-paid', ({ auction }) => {
      if (this.chainRpc === null || auction.seller === this.id) return
      if (this._toCheck.length >= MAX_CHECKS_WAITING) return
      this._toCheck.push({ id: auction.id, attempt: 0 })
      this._nextCheck()
    })
  }

  _nextCheck() {
    while (this._checks < MAX_CHECKS && this._toCheck.length > 0 && !this.isClosing()) {
      this._checks++
      const { id, attempt } = this._toCheck.shift()
      this.check(id, attempt)
        .catch((err) => this.emitter.emit('warning', coded(err)))
        .finally(() => {
          this._checks--
          this._nextCheck()
        })
    }
  }

  // The check again later: the transaction may not have reached this peer's endpoint yet, or
  // not its confirmations
  _retry(idHex, attempt) {
    const timer = setTimeout(
      () => {
        this._retries.delete(timer)
        if (this._toCheck.length >= MAX_CHECKS_WAITING) return
        this._toCheck.push({ id: idHex, attempt })
        this._nextCheck()
      },
      this.checkRetry * 2 ** (attempt - 1)
    )
    timer.unref()
    this._retries.add(timer)
  }

  // Another seller's signed record that a sale was paid, checked on this peer's own endpoint as
  // the seller's node checks a claim: the transaction succeeded, it moved at least the price of
  // the sale's token to the seller's address, from the payer the record names, after the sale,
  // with the confirmations asked, and the claim signed by that payer (a record of a block
  // before version 3 has no claim: that the payer is the buyer is the seller's word). One look, no waiting: a
  // transaction the endpoint does not know yet, too few confirmations or an endpoint that cannot
  // tell are looked at again CHECK_ATTEMPTS times, further apart each time; then a transaction
  // still unknown is a false record, and anything else leaves the record unchecked. A record
  // found false is kept as disputed with the reason. Emits 'payment-checked'.
  async check(idHex, attempt = 0) {
    if (this._checking.has(idHex) || this.isClosing()) return
    this._checking.add(idHex)
    try {
      const view = await this.view.getAuction(idHex)
      if (view === null || view.paid === null || view.check || view.settlement === null) return
      const p = view.paid
      let failure = null
      try {
        await this._verifyOnChain(idHex, view, {
          txHash: p.txHash,
          amount: p.amount,
          buyer: p.buyer,
          payer: p.payer,
          signature: view.paidClaim || null
        })
      } catch (err) {
        failure = coded(err)
        const again = UNCHECKED.has(failure.code) || failure.code === 'UNKNOWN_TX'
        if (again && attempt < CHECK_ATTEMPTS) {
          this._retry(idHex, attempt + 1)
          return
        }
        if (UNCHECKED.has(failure.code)) throw failure
      }
      const now = await this.view.getAuction(idHex)
      if (now === null || now.paid === null || this.isClosing()) return
      const check = {
        state: failure === null ? m.CHECK_VERIFIED : m.CHECK_FAILED,
        reason: failure === null ? '' : failure.message,
        checkedAt: Date.now()
      }
      this.view.stageAuction({ ...now, check })
      this.view.scheduleFlush()
      this.emitter.emit('payment-checked', {
        auction: idHex,
        verified: failure === null ? 'verified' : 'disputed',
        reason: failure === null ? null : check.reason
      })
    } finally {
      this._checking.delete(idHex)
    }
  }

  // The dues of the own sales in the view
  async load() {
    for (const { id, dueAt } of await this.view.listDues()) this.dues.arm(id, dueAt)
  }

  close() {
    this.dues.close()
    for (const timer of this._retries) clearTimeout(timer)
    this._retries.clear()
    this._toCheck = []
  }

  // The buyer pays the sale view and claims the payment from the seller. Resolves true once this
  // peer holds the seller's record of it, false if that has not arrived within the timeout.
  async pay(view, opts) {
    const idHex = b4a.toString(view.id, 'hex')
    if (view.paid === null && view.lapsed.some((k) => b4a.equals(k, this.publicKey))) {
      throw AuctionError.DEADLINE_PASSED(
        'Your time to pay ran out; the seller may offer the item to another bidder'
      )
    }
    const buyer = rules.owing(view)
    if (!b4a.equals(buyer.bidder, this.publicKey)) {
      throw AuctionError.NOT_BUYER('This peer is not the buyer of this sale')
    }
    const progress = (step, data = {}) =>
      this.emitter.emit('payment-progress', { auction: idHex, step, ...data })
    const chain = require('./settlement/chain')
    const account = opts.index || 0
    if (!Number.isSafeInteger(account) || account < 0 || account >= 2 ** 31) {
      throw AuctionError.INVALID_ARGUMENT('The account index is a whole number from 0 to 2^31-1')
    }
    const wallet = { seed: opts.seed, index: account, privateKey: opts.privateKey }
    let { signature } = opts
    let txHash = opts.txHash
    if (txHash !== undefined) {
      txHash = '0x' + b4a.toString(parseHex(txHash, 32, 'A transaction hash'), 'hex')
    }
    try {
      if (txHash === undefined) {
        if (this.chainRpc === null) throw AuctionError.NO_CHAIN()
        const sent = await chain.pay({
          url: this.chainRpc,
          chainId: view.settlement.chainId,
          token: '0x' + b4a.toString(view.settlement.token, 'hex'),
          to: '0x' + b4a.toString(view.settlement.payTo, 'hex'),
          amount: buyer.amount,
          ...wallet,
          onprogress: (step, data) => progress(step, data)
        })
        txHash = sent.hash
        const message = chain.claimMessage({ auction: idHex, txHash, bidder: this.id })
        signature = await chain.signClaim({ ...wallet, message })
      } else if (signature === undefined) {
        const message = chain.claimMessage({ auction: idHex, txHash, bidder: this.id })
        // The text as it is, line breaks and all: a wallet signs the bytes it is given, and the
        // same words with escaped line breaks are another message
        const err = AuctionError.SIGNATURE_NEEDED(
          `Sign this text with the paying address (personal_sign, EIP-191), exactly as it is between the lines, and pass the signature with --signature:\n-----\n${message}\n-----\nThe same text in hex, for wallets that sign hex: 0x${b4a.toString(b4a.from(message), 'hex')}`
        )
        err.claim = message
        throw err
      }
    } catch (err) {
      throw coded(err)
    }
    const claim = {
      auction: view.id,
      txHash: parseHex(txHash, 32, 'A transaction hash'),
      signature: parseHex(signature, null, 'A signature')
    }
    progress('claimed', { txHash })
    const res = await this.net.request(view.seller, METHODS.pay, m.encode(m.payClaim, claim), {
      timeout: PAY_TIMEOUT
    })
    const { blockNumber, index } = m.decode(m.payReply, res, 'payment reply')
    progress('verified', { txHash, blockNumber })
    return this._recorded(view.seller, index)
  }

  // The bidder takes the second-chance offer made to it. Resolves true once this peer holds the
  // seller's record of it, false if that has not arrived within the timeout.
  async acceptOffer(view) {
    if (view.offer === null || !b4a.equals(view.offer.bid.bidder, this.publicKey)) {
      throw AuctionError.NO_OFFER('No second-chance offer to this peer is pending here')
    }
    const signature = crypto.signAcceptance(view.id, view.offer.bid, this.keyPair)
    const res = await this.net.request(
      view.seller,
      METHODS.accept,
      m.encode(m.acceptRequest, { auction: view.id, signature })
    )
    const { index } = m.decode(m.acceptReply, res, 'offer acceptance reply')
    return this._recorded(view.seller, index)
  }

  // The seller's answer said in which block of its log it recorded the event
  _recorded(seller, index) {
    return this.logs.waitFor(seller, index, this.timeout)
  }

  // A buyer's payment claim: verified on this peer's own endpoint only, never on what the buyer
  // sends besides the transaction hash, then recorded in the own log
  async onpay(claim, remote) {
    await this.writable()
    if (this.chainRpc === null) throw AuctionError.NO_CHAIN('The seller verifies no payments')
    const idHex = b4a.toString(claim.auction, 'hex')
    const view = await this.getView(idHex)
    if (!b4a.equals(view.seller, this.publicKey)) throw AuctionError.NOT_SELLER()
    const buyer = rules.owing(view)
    if (!b4a.equals(buyer.bidder, remote)) throw AuctionError.NOT_BUYER()
    if (Date.now() > view.dueAt) throw AuctionError.DEADLINE_PASSED()
    const txHex = b4a.toString(claim.txHash, 'hex')
    if (this._claiming.has(txHex) || (await this.view.getTx(txHex)) !== null) {
      throw AuctionError.TX_USED()
    }
    this._claiming.add(txHex)
    this._paying.add(idHex)
    try {
      let paid
      try {
        paid = await this._verifyOnChain(idHex, view, {
          txHash: claim.txHash,
          amount: buyer.amount,
          buyer: buyer.bidder,
          signature: claim.signature,
          timeout: CONFIRM_TIMEOUT
        })
      } catch (err) {
        throw coded(err)
      }
      const settled = await this.sequencer.settle(idHex, {
        buyer: buyer.bidder,
        txHash: claim.txHash,
        blockNumber: paid.blockNumber,
        payer: b4a.from(paid.from.slice(2), 'hex'),
        // Every peer with an endpoint checks it again
        claim: claim.signature
      })
      return { blockNumber: settled.view.paid.blockNumber, index: settled.index }
    } finally {
      this._claiming.delete(txHex)
      this._paying.delete(idHex)
    }
  }

  // The sale's payment of amount by buyer (a key) in transaction txHash, checked on this peer's
  // own endpoint, as the seller's node checks a claim and any other peer a seller's record: the
  // transfer (lib/settlement/verify.js; waiting timeout ms for its confirmations), its sender
  // the payer named if one is, and given the claim's signature, that the sender signed the
  // claim. Resolves with the transfer.
  async _verifyOnChain(
    idHex,
    view,
    { txHash, amount, buyer, payer = null, signature, timeout = 0 }
  ) {
    const chain = require('./settlement/chain')
    const s = view.settlement
    const paid = await chain.verifyPayment({
      url: this.chainRpc,
      chainId: s.chainId,
      token: hex(s.token),
      payTo: hex(s.payTo),
      amount,
      txHash: hex(txHash),
      confirmations: s.confirmations,
      timeout,
      // The sale, or the second chance taken: an older transfer paid something else
      notBefore: view.dueAt - s.payWithin
    })
    if (payer !== null && paid.from.toLowerCase() !== hex(payer)) {
      throw AuctionError.NOT_PAYER(
        `The transfer came from ${paid.from}, the record names ${hex(payer)}`
      )
    }
    if (signature !== null) {
      // The buyer's own claim: the payer signed that this transfer pays this sale
      const message = chain.claimMessage({
        auction: idHex,
        txHash: hex(txHash),
        bidder: b4a.toString(buyer, 'hex')
      })
      chain.verifyClaimSignature({ message, signature: hex(signature), from: paid.from })
    }
    return paid
  }

  async onaccept(auction, signature, remote) {
    await this.writable()
    const idHex = b4a.toString(auction, 'hex')
    const { index } = await this.sequencer.acceptOffer(idHex, remote, signature)
    return { index }
  }

  // The buyer's time ran out: recorded; the seller may then make a second-chance offer
  _ondue(idHex) {
    if (this.isClosing()) return
    // A claim that arrived in time and is being verified decides first
    if (this._paying.has(idHex)) {
      this.dues.arm(idHex, Date.now() + DUE_RECHECK)
      return
    }
    this.writable()
      .then(() => this.sequencer.lapse(idHex))
      .catch((err) => {
        if (['ALREADY_PAID', 'NOT_SOLD'].includes(err.code)) return
        this.emitter.emit('warning', err)
      })
  }
}

function hex(buf) {
  return '0x' + b4a.toString(buf, 'hex')
}

// A check that ends with one of these says nothing about the record: this peer's endpoint could
// not tell
const UNCHECKED = new Set(['ENDPOINT_UNREACHABLE', 'WRONG_CHAIN', 'NOT_CONFIRMED', 'RPC_ERROR'])

// Whatever the wallet or the chain threw reaches the caller as a coded error: its own code where
// it has one of ours
function coded(err) {
  if (err instanceof AuctionError) return err
  if (err && typeof err.code === 'string' && AuctionError.CODES.has(err.code)) {
    return AuctionError[err.code](String(err.message))
  }
  return AuctionError.PAYMENT_REFUSED(err && err.message)
}

module.exports = Payments
