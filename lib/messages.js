const c = require('compact-encoding')
const AuctionError = require('./errors')

const EVENT_OPENED = 1
const EVENT_BID_ACCEPTED = 2
const EVENT_CLOSED = 3

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

function optional(enc) {
  return {
    preencode(state, m) {
      c.bool.preencode(state, m !== null)
      if (m !== null) enc.preencode(state, m)
    },
    encode(state, m) {
      c.bool.encode(state, m !== null)
      if (m !== null) enc.encode(state, m)
    },
    decode(state) {
      return c.bool.decode(state) ? enc.decode(state) : null
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

// The seller is the event's author, so it is not repeated in the payload
const auctionOpened = struct([
  ['id', id],
  ['item', c.string],
  ['startPrice', c.biguint64],
  ['currency', c.string],
  ['endsAt', c.uint],
  ['createdAt', c.uint]
])

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

const payloads = {
  [EVENT_OPENED]: auctionOpened,
  [EVENT_BID_ACCEPTED]: bidAccepted,
  [EVENT_CLOSED]: auctionClosed
}

function payloadEncoding(type) {
  const enc = payloads[type]
  if (enc === undefined) throw new Error('Unknown event type ' + type)
  return enc
}

const eventBody = {
  preencode(state, m) {
    c.uint.preencode(state, m.type)
    key.preencode(state, m.author)
    c.uint.preencode(state, m.seq)
    payloadEncoding(m.type).preencode(state, m.payload)
  },
  encode(state, m) {
    c.uint.encode(state, m.type)
    key.encode(state, m.author)
    c.uint.encode(state, m.seq)
    payloadEncoding(m.type).encode(state, m.payload)
  },
  decode(state) {
    const type = c.uint.decode(state)
    return {
      type,
      author: key.decode(state),
      seq: c.uint.decode(state),
      payload: payloadEncoding(type).decode(state)
    }
  }
}

const event = {
  preencode(state, m) {
    eventBody.preencode(state, m)
    signature.preencode(state, m.signature)
  },
  encode(state, m) {
    eventBody.encode(state, m)
    signature.encode(state, m.signature)
  },
  decode(state) {
    const m = eventBody.decode(state)
    m.signature = signature.decode(state)
    return m
  }
}

const hello = struct([
  ['name', c.string],
  ['peers', c.array(key)]
])

// length is the number of events held of that author, so the next wanted seq
const head = struct([
  ['author', key],
  ['length', c.uint]
])

const syncRequest = struct([['heads', c.array(head)]])

const syncResponse = struct([
  ['events', c.array(c.buffer)],
  ['more', c.bool]
])

const winner = struct([
  ['bidder', key],
  ['amount', c.biguint64],
  ['position', c.uint],
  ['seq', c.uint]
])

// Stored view row of an auction, derived from the seller's events
const auctionView = struct([
  ...auctionOpened.fields,
  ['seller', key],
  ['closed', c.bool],
  ['bidCount', c.uint],
  ['highestBid', optional(winner)],
  ['closedAt', c.uint]
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

module.exports = {
  decode,
  encode,
  EVENT_OPENED,
  EVENT_BID_ACCEPTED,
  EVENT_CLOSED,
  bidBody,
  bid,
  auctionOpened,
  bidAccepted,
  auctionClosed,
  eventBody,
  event,
  hello,
  syncRequest,
  syncResponse,
  auctionView
}
