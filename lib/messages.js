const c = require('compact-encoding')
const AuctionError = require('./errors')

const EVENT_OPENED = 1
const EVENT_BID_ACCEPTED = 2
const EVENT_CLOSED = 3

const id = c.fixed(16)
const key = c.fixed32
const signature = c.fixed64

const bidBody = {
  preencode(state, m) {
    id.preencode(state, m.auction)
    key.preencode(state, m.bidder)
    c.biguint64.preencode(state, m.amount)
    id.preencode(state, m.nonce)
    c.uint.preencode(state, m.createdAt)
  },
  encode(state, m) {
    id.encode(state, m.auction)
    key.encode(state, m.bidder)
    c.biguint64.encode(state, m.amount)
    id.encode(state, m.nonce)
    c.uint.encode(state, m.createdAt)
  },
  decode(state) {
    return {
      auction: id.decode(state),
      bidder: key.decode(state),
      amount: c.biguint64.decode(state),
      nonce: id.decode(state),
      createdAt: c.uint.decode(state)
    }
  }
}

const bid = {
  preencode(state, m) {
    bidBody.preencode(state, m)
    signature.preencode(state, m.signature)
  },
  encode(state, m) {
    bidBody.encode(state, m)
    signature.encode(state, m.signature)
  },
  decode(state) {
    const m = bidBody.decode(state)
    m.signature = signature.decode(state)
    return m
  }
}

const optionalBid = {
  preencode(state, m) {
    c.bool.preencode(state, m !== null)
    if (m !== null) bid.preencode(state, m)
  },
  encode(state, m) {
    c.bool.encode(state, m !== null)
    if (m !== null) bid.encode(state, m)
  },
  decode(state) {
    return c.bool.decode(state) ? bid.decode(state) : null
  }
}

// The seller is the event's author, so it is not repeated in the payload
const auctionOpened = {
  preencode(state, m) {
    id.preencode(state, m.id)
    c.string.preencode(state, m.item)
    c.biguint64.preencode(state, m.startPrice)
    c.string.preencode(state, m.currency)
    c.uint.preencode(state, m.endsAt)
    c.uint.preencode(state, m.createdAt)
  },
  encode(state, m) {
    id.encode(state, m.id)
    c.string.encode(state, m.item)
    c.biguint64.encode(state, m.startPrice)
    c.string.encode(state, m.currency)
    c.uint.encode(state, m.endsAt)
    c.uint.encode(state, m.createdAt)
  },
  decode(state) {
    return {
      id: id.decode(state),
      item: c.string.decode(state),
      startPrice: c.biguint64.decode(state),
      currency: c.string.decode(state),
      endsAt: c.uint.decode(state),
      createdAt: c.uint.decode(state)
    }
  }
}

const bidAccepted = {
  preencode(state, m) {
    bid.preencode(state, m.bid)
    c.uint.preencode(state, m.position)
    c.uint.preencode(state, m.acceptedAt)
  },
  encode(state, m) {
    bid.encode(state, m.bid)
    c.uint.encode(state, m.position)
    c.uint.encode(state, m.acceptedAt)
  },
  decode(state) {
    return {
      bid: bid.decode(state),
      position: c.uint.decode(state),
      acceptedAt: c.uint.decode(state)
    }
  }
}

const auctionClosed = {
  preencode(state, m) {
    id.preencode(state, m.auction)
    optionalBid.preencode(state, m.winningBid)
    c.uint.preencode(state, m.bidCount)
    c.uint.preencode(state, m.closedAt)
  },
  encode(state, m) {
    id.encode(state, m.auction)
    optionalBid.encode(state, m.winningBid)
    c.uint.encode(state, m.bidCount)
    c.uint.encode(state, m.closedAt)
  },
  decode(state) {
    return {
      auction: id.decode(state),
      winningBid: optionalBid.decode(state),
      bidCount: c.uint.decode(state),
      closedAt: c.uint.decode(state)
    }
  }
}

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

const hello = {
  preencode(state, m) {
    c.string.preencode(state, m.name)
    c.array(key).preencode(state, m.peers)
  },
  encode(state, m) {
    c.string.encode(state, m.name)
    c.array(key).encode(state, m.peers)
  },
  decode(state) {
    return {
      name: c.string.decode(state),
      peers: c.array(key).decode(state)
    }
  }
}

// length is the number of events held of that author, so the next wanted seq
const head = {
  preencode(state, m) {
    key.preencode(state, m.author)
    c.uint.preencode(state, m.length)
  },
  encode(state, m) {
    key.encode(state, m.author)
    c.uint.encode(state, m.length)
  },
  decode(state) {
    return { author: key.decode(state), length: c.uint.decode(state) }
  }
}

const syncRequest = {
  preencode(state, m) {
    c.array(head).preencode(state, m.heads)
  },
  encode(state, m) {
    c.array(head).encode(state, m.heads)
  },
  decode(state) {
    return { heads: c.array(head).decode(state) }
  }
}

const syncResponse = {
  preencode(state, m) {
    c.array(c.buffer).preencode(state, m.events)
    c.bool.preencode(state, m.more)
  },
  encode(state, m) {
    c.array(c.buffer).encode(state, m.events)
    c.bool.encode(state, m.more)
  },
  decode(state) {
    return {
      events: c.array(c.buffer).decode(state),
      more: c.bool.decode(state)
    }
  }
}

const winner = {
  preencode(state, m) {
    key.preencode(state, m.bidder)
    c.biguint64.preencode(state, m.amount)
    c.uint.preencode(state, m.position)
    c.uint.preencode(state, m.seq)
  },
  encode(state, m) {
    key.encode(state, m.bidder)
    c.biguint64.encode(state, m.amount)
    c.uint.encode(state, m.position)
    c.uint.encode(state, m.seq)
  },
  decode(state) {
    return {
      bidder: key.decode(state),
      amount: c.biguint64.decode(state),
      position: c.uint.decode(state),
      seq: c.uint.decode(state)
    }
  }
}

const optionalWinner = {
  preencode(state, m) {
    c.bool.preencode(state, m !== null)
    if (m !== null) winner.preencode(state, m)
  },
  encode(state, m) {
    c.bool.encode(state, m !== null)
    if (m !== null) winner.encode(state, m)
  },
  decode(state) {
    return c.bool.decode(state) ? winner.decode(state) : null
  }
}

// Stored view row of an auction, derived from the seller's events
const auctionView = {
  preencode(state, m) {
    auctionOpened.preencode(state, m)
    key.preencode(state, m.seller)
    c.bool.preencode(state, m.closed)
    c.uint.preencode(state, m.bidCount)
    optionalWinner.preencode(state, m.highestBid)
    c.uint.preencode(state, m.closedAt)
  },
  encode(state, m) {
    auctionOpened.encode(state, m)
    key.encode(state, m.seller)
    c.bool.encode(state, m.closed)
    c.uint.encode(state, m.bidCount)
    optionalWinner.encode(state, m.highestBid)
    c.uint.encode(state, m.closedAt)
  },
  decode(state) {
    const m = auctionOpened.decode(state)
    m.seller = key.decode(state)
    m.closed = c.bool.decode(state)
    m.bidCount = c.uint.decode(state)
    m.highestBid = optionalWinner.decode(state)
    m.closedAt = c.uint.decode(state)
    return m
  }
}

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
