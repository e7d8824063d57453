const c = require('compact-encoding')
const AuctionError = require('./errors')

const EVENT_OPENED = 1
const EVENT_BID_ACCEPTED = 2
const EVENT_CLOSED = 3
const EVENT_CANCELLED = 4
const EVENT_REFUSED = 5
const EVENT_SETTLED = 6
const EVENT_LAPSED = 7
const EVENT_OFFERED = 8
const EVENT_OFFER_ACCEPTED = 9
const EVENT_BLOCKED = 10

// Version 1 blocks (hyperauction 0.2.0) open auctions without terms
// 3: AuctionSettled carries the buyer's claim signature (0.5)
// 4: AuctionOpened may carry a picture; BidderBlocked (0.6)
const BLOCK_VERSION = 4

const id = c.fixed(16)
const key = c.fixed32
const signature = c.fixed64

// A compact-encoding struct from [name, encoding] pairs, encoded in that order.
// New fields go at the end, never in between.
function struct(fields) {
  return {
    fields,
    preencode(state, m) {
      for (const [name, enc] of fields) enc.preencode(state, m[name])
    },
    encode(state, m) {
      for (const [name, enc] of fields) enc.encode(state, m[name])
    },
    decode(state) {
      const m = {}
      for (const [name, enc] of fields) m[name] = enc.decode(state)
      return m
    }
  }
}

// null (or left out) or the value
function optional(enc) {
  return {
    preencode(state, m) {
      c.bool.preencode(state, m !== null && m !== undefined)
      if (m !== null && m !== undefined) enc.preencode(state, m)
    },
    encode(state, m) {
      c.bool.encode(state, m !== null && m !== undefined)
      if (m !== null && m !== undefined) enc.encode(state, m)
    },
    decode(state) {
      return c.bool.decode(state) ? enc.decode(state) : null
    }
  }
}

// Fields added to a stored row after its first version: null in a row written before
function trailing(enc) {
  return {
    preencode: enc.preencode,
    encode: enc.encode,
    decode(state) {
      return state.start < state.end ? enc.decode(state) : null
    }
  }
}

const bidBody = struct([
  ['auction', id],
  ['bidder', key],
  ['amount', c.biguint64],
  ['nonce', id],
  ['createdAt', c.uint]
])

const bid = struct([...bidBody.fields, ['signature', signature]])

// The seller's terms, signed into the opening. Zero means the term is not set.
const terms = struct([
  // Below it the auction ends unsold
  ['reserve', c.biguint64],
  // The smallest raise: the larger of an amount and a share of the highest bid (basis points)
  ['increment', c.biguint64],
  ['incrementRate', c.uint],
  // A bid this close to the end (ms) moves the end to this long after it, at most maxExtensions
  // times (0: no cap)
  ['softClose', c.uint],
  ['maxExtensions', c.uint],
  // A bid of exactly this ends the auction at once; a higher one is refused
  ['buyNow', c.biguint64]
])

const NO_TERMS = {
  reserve: 0n,
  increment: 0n,
  incrementRate: 0,
  softClose: 0,
  maxExtensions: 0,
  buyNow: 0n
}

// The seller is the log's author and the id follows from where the event stands in the log
const auctionOpenedV1 = struct([
  ['item', c.string],
  ['startPrice', c.biguint64],
  ['currency', c.string],
  ['endsAt', c.uint],
  ['createdAt', c.uint]
])

const address = c.fixed(20)
const txHash = c.fixed32

// Optional terms of payment in an ERC-20 token (USDt) on an EVM chain: the winner pays payTo
// within payWithin ms of the sale, and the seller's node counts it once it has confirmations
const settlement = struct([
  ['chainId', c.uint],
  ['token', address],
  ['payTo', address],
  ['payWithin', c.uint],
  ['confirmations', c.uint]
])

const auctionOpenedV3 = struct([
  ...auctionOpenedV1.fields,
  ['terms', terms],
  ['settlement', optional(settlement)]
])

// A picture of the item, in the seller's own Hyperblobs core: where its bytes are, and their
// BLAKE2b-256 hash, which a peer that fetches them checks
const picture = struct([
  ['core', key],
  ['blockOffset', c.uint],
  ['blockLength', c.uint],
  ['byteOffset', c.uint],
  ['byteLength', c.uint],
  ['hash', c.fixed32],
  ['type', c.string]
])

const auctionOpened = struct([...auctionOpenedV3.fields, ['picture', optional(picture)]])

const bidAccepted = struct([
  ['bid', bid],
  ['position', c.uint],
  ['acceptedAt', c.uint]
])

const auctionClosed = struct([
  ['auction', id],
  ['winningBid', optional(bid)],
  ['bidCount', c.uint],
  ['closedAt', c.uint]
])

// Only while no bid stands: the auction ends with no sale
const auctionCancelled = struct([
  ['auction', id],
  ['cancelledAt', c.uint]
])

// The seller takes no more bids from this bidder on this auction, and its accepted bids no
// longer count: the highest bid left by anyone else leads again
const bidderRefused = struct([
  ['auction', id],
  ['bidder', key],
  ['refusedAt', c.uint]
])

// The buyer paid: the seller's node found this transfer on its own endpoint
const auctionSettledV2 = struct([
  ['auction', id],
  ['buyer', key],
  ['txHash', txHash],
  ['blockNumber', c.uint],
  ['payer', address],
  ['amount', c.biguint64],
  ['settledAt', c.uint]
])

// And the payer's EIP-191 signature of the claim the seller checked, so that every peer can
// check it too (block version 3; a record of an older block has claim null)
const auctionSettled = struct([...auctionSettledV2.fields, ['claim', optional(c.buffer)]])

// The buyer did not pay in time: the sale to it is void
const paymentLapsed = struct([
  ['auction', id],
  ['buyer', key],
  ['lapsedAt', c.uint]
])

// The item offered to an earlier bidder at that bidder's own signed bid, until expiresAt
const secondChanceOffered = struct([
  ['auction', id],
  ['position', c.uint],
  ['bid', bid],
  ['expiresAt', c.uint],
  ['offeredAt', c.uint]
])

// The bidder's signed yes to a second-chance offer: it is the buyer now
const offerAccepted = struct([
  ['auction', id],
  ['bidder', key],
  ['signature', signature],
  ['acceptedAt', c.uint]
])

// The seller takes no bids from this bidder on any of its auctions (blocked false: again)
const bidderBlocked = struct([
  ['bidder', key],
  ['blocked', c.bool],
  ['blockedAt', c.uint]
])

const payloads = {
  [EVENT_OPENED]: auctionOpened,
  [EVENT_BID_ACCEPTED]: bidAccepted,
  [EVENT_CLOSED]: auctionClosed,
  [EVENT_CANCELLED]: auctionCancelled,
  [EVENT_REFUSED]: bidderRefused,
  [EVENT_SETTLED]: auctionSettled,
  [EVENT_LAPSED]: paymentLapsed,
  [EVENT_OFFERED]: secondChanceOffered,
  [EVENT_OFFER_ACCEPTED]: offerAccepted,
  [EVENT_BLOCKED]: bidderBlocked
}

// Blocks of version 3 open auctions without a picture and block nobody
const payloadsV3 = { ...payloads, [EVENT_OPENED]: withField(auctionOpenedV3, 'picture') }
delete payloadsV3[EVENT_BLOCKED]
// Blocks of version 2 also wrote the settlement record without the claim
const payloadsV2 = { ...payloadsV3, [EVENT_SETTLED]: withField(auctionSettledV2, 'claim') }

function withField(enc, name) {
  return {
    decode(state) {
      return { ...enc.decode(state), [name]: null }
    }
  }
}

const payloadsV1 = {
  [EVENT_OPENED]: auctionOpenedV1,
  [EVENT_BID_ACCEPTED]: bidAccepted,
  [EVENT_CLOSED]: auctionClosed
}

function payloadEncoding(type, table = payloads) {
  const enc = table[type]
  if (enc === undefined) throw new Error('Unknown event type ' + type)
  return enc
}

const event = {
  preencode(state, m) {
    c.uint.preencode(state, m.type)
    payloadEncoding(m.type).preencode(state, m.payload)
  },
  encode(state, m) {
    c.uint.encode(state, m.type)
    payloadEncoding(m.type).encode(state, m.payload)
  },
  decode(state) {
    const type = c.uint.decode(state)
    return { type, payload: payloadEncoding(type).decode(state) }
  }
}

function eventOf(table) {
  return {
    decode(state) {
      const type = c.uint.decode(state)
      return { type, payload: payloadEncoding(type, table).decode(state) }
    }
  }
}

const eventV3 = eventOf(payloadsV3)
const eventV2 = eventOf(payloadsV2)

const eventV1 = {
  decode(state) {
    const type = c.uint.decode(state)
    const payload = payloadEncoding(type, payloadsV1).decode(state)
    if (type === EVENT_OPENED) {
      payload.terms = { ...NO_TERMS }
      payload.settlement = null
      payload.picture = null
    }
    return { type, payload }
  }
}

// One block of a log: a version, then the events appended together
const block = {
  preencode(state, events) {
    c.uint.preencode(state, BLOCK_VERSION)
    c.array(event).preencode(state, events)
  },
  encode(state, events) {
    c.uint.encode(state, BLOCK_VERSION)
    c.array(event).encode(state, events)
  },
  decode(state) {
    const version = c.uint.decode(state)
    if (version === 1) return c.array(eventV1).decode(state)
    if (version === 2) return c.array(eventV2).decode(state)
    if (version === 3) return c.array(eventV3).decode(state)
    if (version !== BLOCK_VERSION) throw new Error('Unknown block version ' + version)
    return c.array(event).decode(state)
  }
}

// length: how long the sender's own log is; yours: how much of the receiver's log it holds;
// instance: new at every start, so a receiver knows its older connections to the sender are dead
// A tree hash, all zeros where the sender says none (left out when encoding)
const NO_TREE = new Uint8Array(32)
const tree = {
  preencode(state) {
    state.end += 32
  },
  encode(state, hash) {
    c.fixed32.encode(state, hash || NO_TREE)
  },
  decode(state) {
    return c.fixed32.decode(state)
  }
}

// A log's signed tree at one length: what its author signed there
// (the signature in Hypercore's encoding, as a core holds it)
const signedTree = struct([
  ['length', c.uint],
  ['fork', c.uint],
  ['treeHash', c.fixed32],
  ['signature', c.buffer]
])

// tree: the hash of the sender's own log's tree at length (zeros when empty)
const hello = struct([
  ['name', c.string],
  ['length', c.uint],
  ['yours', c.uint],
  ['instance', id],
  ['peers', c.array(key)],
  ['tree', tree]
])

const logsRequest = struct([['after', optional(key)]])

// A log and how far the sender holds it; tree: the hash of its tree at that length where the
// sender holds it signed there (else zeros), so that two histories of one length are caught;
// disputed: the sender holds proof that the author signed two histories
const logEntry = struct([
  ['author', key],
  ['length', c.uint],
  ['tree', tree],
  ['disputed', c.bool]
])

// Asks for the signed tree the remote holds of a log (answered with a signedTree)
const treeRequest = struct([['author', key]])

// The proof that an author signed two histories: two signed trees of one length that differ
const disputeProof = struct([
  ['a', signedTree],
  ['b', signedTree]
])

// The logs the sender holds, and how far: sent where Hypercore would not tell it by itself
const news = struct([['logs', c.array(logEntry)]])

const logsResponse = struct([
  ['logs', c.array(logEntry)],
  ['more', c.bool]
])

// The buyer's claim of a payment: the transfer, and the paying address's signature of the
// claim (EIP-191), so nobody claims a transfer it did not make
const payClaim = struct([
  ['auction', id],
  ['txHash', txHash],
  ['signature', c.buffer]
])

// The seller recorded the payment in block index of its log
const payReply = struct([
  ['blockNumber', c.uint],
  ['index', c.uint]
])

// The seller recorded the acceptance in block index of its log
const acceptReply = struct([['index', c.uint]])

const acceptRequest = struct([
  ['auction', id],
  ['signature', signature]
])

// Where the seller put an accepted bid: the bidder checks it against the seller's signed log
const bidReply = struct([
  ['index', c.uint],
  ['offset', c.uint],
  ['position', c.uint],
  ['acceptedAt', c.uint]
])

// The highest accepted bid, with what the close needs to carry the bidder's signed bid
const highest = struct([
  ['bidder', key],
  ['amount', c.biguint64],
  ['position', c.uint],
  ['nonce', id],
  ['createdAt', c.uint],
  ['signature', signature]
])

// Stored view row of an auction, derived from its seller's log
// What this peer found when it checked a remote seller's record of a payment on its own chain
// endpoint: state CHECK_VERIFIED or CHECK_FAILED (with the reason), and when
const CHECK_VERIFIED = 1
const CHECK_FAILED = 2
const paymentCheck = struct([
  ['state', c.uint],
  ['reason', c.string],
  ['checkedAt', c.uint]
])

const auctionView = struct([
  ['id', id],
  ['seller', key],
  ['index', c.uint],
  ['offset', c.uint],
  ...auctionOpenedV3.fields,
  ['closed', c.bool],
  ['bidCount', c.uint],
  ['highestBid', optional(highest)],
  ['closedAt', c.uint],
  // endsAt above is the end as bids moved it; this many times
  ['extensions', c.uint],
  ['cancelled', c.bool],
  ['refused', c.array(key)],
  // After a sale with settlement terms: who must pay (the winner, or who took a second-chance
  // offer) and by when, the payment once settled, buyers whose time ran out, a pending offer
  ['buyer', optional(highest)],
  ['dueAt', c.uint],
  // The record as stored before 0.5; its claim signature is the trailing paidClaim
  ['paid', optional(auctionSettledV2)],
  ['lapsed', c.array(key)],
  ['offer', optional(secondChanceOffered)],
  // Kept by this peer only, never in a log
  ['check', trailing(optional(paymentCheck))],
  ['paidClaim', trailing(optional(c.buffer))],
  ['picture', trailing(optional(picture))]
])

const bidRow = struct([
  ['bid', bid],
  ['position', c.uint],
  ['acceptedAt', c.uint],
  ['index', c.uint],
  ['offset', c.uint]
])

// How far a log is applied to the view; whether its author signed two histories, or broke a
// rule; how many of its auctions are open (rows of 0.2.0 end before it)
const logRowV2 = struct([
  ['applied', c.uint],
  ['disputed', c.bool],
  ['invalid', c.bool]
])

const logRow = {
  preencode(state, m) {
    logRowV2.preencode(state, m)
    c.uint.preencode(state, m.open || 0)
  },
  encode(state, m) {
    logRowV2.encode(state, m)
    c.uint.encode(state, m.open || 0)
  },
  decode(state) {
    const m = logRowV2.decode(state)
    m.open = state.start < state.end ? c.uint.decode(state) : 0
    return m
  }
}

// The other signed history of a disputed log, as Hypercore's conflict proof carried it
// The other history's signed tree and, where this peer has it (rows since 0.4), its own
const disputeRow = struct([
  ['length', c.uint],
  ['fork', c.uint],
  ['signature', c.buffer],
  ['treeHash', c.buffer],
  ['detectedAt', c.uint],
  ['own', trailing(optional(signedTree))]
])

// Strict decode for untrusted bytes: any failure, trailing bytes included, is a coded error
function decode(enc, buf, what = 'message') {
  if (!Buffer.isBuffer(buf)) throw AuctionError.BAD_REQUEST(`Malformed ${what}: not bytes`)
  let m
  try {
    const state = c.state(0, buf.byteLength, buf)
    m = enc.decode(state)
    if (state.start !== state.end) throw new Error('trailing bytes')
  } catch (err) {
    throw AuctionError.BAD_REQUEST(`Malformed ${what}: ${err.message}`)
  }
  return m
}

function encode(enc, m) {
  return c.encode(enc, m)
}

function byteLength(enc, m) {
  const state = c.state()
  enc.preencode(state, m)
  return state.end
}

module.exports = {
  decode,
  encode,
  byteLength,
  CHECK_VERIFIED,
  CHECK_FAILED,
  EVENT_OPENED,
  EVENT_BID_ACCEPTED,
  EVENT_CLOSED,
  EVENT_CANCELLED,
  EVENT_REFUSED,
  EVENT_SETTLED,
  EVENT_LAPSED,
  EVENT_OFFERED,
  EVENT_OFFER_ACCEPTED,
  EVENT_BLOCKED,
  NO_TERMS,
  bidBody,
  bid,
  auctionOpened,
  bidAccepted,
  auctionClosed,
  auctionCancelled,
  bidderRefused,
  auctionSettled,
  paymentLapsed,
  secondChanceOffered,
  offerAccepted,
  bidderBlocked,
  picture,
  settlement,
  terms,
  event,
  block,
  hello,
  news,
  logsRequest,
  logsResponse,
  bidReply,
  payClaim,
  payReply,
  acceptRequest,
  acceptReply,
  signedTree,
  treeRequest,
  disputeProof,
  auctionView,
  bidRow,
  logRow,
  disputeRow
}
