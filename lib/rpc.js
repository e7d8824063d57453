const b4a = require('b4a')
const AuctionError = require('./errors')
const { FRAMED } = require('./network')
const m = require('./messages')
const Reads = require('./reads')
const { PROTOCOL, MAX_HELLO_PEERS, MAX_NEWS, LOGS_PAGE } = require('./constants')

const METHODS = {
  hello: PROTOCOL + '/hello',
  news: PROTOCOL + '/news',
  logs: PROTOCOL + '/logs',
  bid: PROTOCOL + '/bid',
  bye: PROTOCOL + '/bye',
  pay: PROTOCOL + '/pay',
  accept: PROTOCOL + '/accept',
  info: PROTOCOL + '/info',
  auctions: PROTOCOL + '/auctions',
  auction: PROTOCOL + '/auction',
  tree: PROTOCOL + '/tree',
  dispute: PROTOCOL + '/dispute'
}

const AUCTIONS_PAGE = 100
const AUCTION_BIDS = 100
const AUCTIONS_PAGE_MAX = 500
// Disputed sellers named in an info answer
const INFO_DISPUTED = 64

// The responders of a peer, over its table of handlers (handlers() below): hello(remote,
// hello, stream) -> hello, news(remote, logs, stream), logs(after, limit) -> page, bid(bid,
// remote, stream) -> reply, pay(claim, remote) -> reply, accept(auction, signature, remote) -> reply,
// tree(author) -> signed tree, dispute(author) -> proof, bye(remote), info(), changes() -> a
// number that moves when the view does, auctions(query),
// auction(id, opts). Binary methods decode their bytes
// strictly; the read-only ones (info, auctions, auction) take and answer UTF-8 JSON in the RPC's
// default framing, so hp-rpc-cli and any @hyperswarm/rpc client with default options can call
// them.
function respond(network, handlers) {
  // The read-only methods anyone connected may call: bounded in bytes, cached, and limited
  // across all keys together (lib/reads.js)
  const reads = new Reads({ auctions: handlers.auctions, changes: handlers.changes })

  network.respond(METHODS.hello, (req, remote, stream) => {
    const hello = m.decode(m.hello, req, 'hello')
    if (hello.peers.length > MAX_HELLO_PEERS) throw AuctionError.BAD_REQUEST('Too many peers')
    return m.encode(m.hello, handlers.hello(remote, hello, stream))
  })

  network.respond(METHODS.news, (req, remote, stream) => {
    const { logs } = m.decode(m.news, req, 'news')
    if (logs.length > MAX_NEWS) throw AuctionError.BAD_REQUEST('Too many logs in one news')
    handlers.news(remote, logs, stream)
  })

  network.respond(METHODS.logs, async (req) => {
    const { after } = m.decode(m.logsRequest, req, 'logs request')
    return m.encode(m.logsResponse, await handlers.logs(after, LOGS_PAGE))
  })

  network.respond(METHODS.bid, async (req, remote, stream) => {
    const row = await handlers.bid(m.decode(m.bid, req, 'bid'), remote, stream)
    return m.encode(m.bidReply, row)
  })

  network.respond(METHODS.pay, async (req, remote) => {
    const claim = m.decode(m.payClaim, req, 'payment claim')
    if (claim.signature.byteLength > 128) throw AuctionError.BAD_REQUEST('Signature too long')
    return m.encode(m.payReply, await handlers.pay(claim, remote))
  })

  network.respond(METHODS.accept, async (req, remote) => {
    const { auction, signature } = m.decode(m.acceptRequest, req, 'offer acceptance')
    return m.encode(m.acceptReply, await handlers.accept(auction, signature, remote))
  })

  network.respond(METHODS.tree, async (req) => {
    const { author } = m.decode(m.treeRequest, req, 'tree request')
    return m.encode(m.signedTree, await handlers.tree(author))
  })

  network.respond(METHODS.dispute, async (req) => {
    const { author } = m.decode(m.treeRequest, req, 'dispute request')
    return m.encode(m.disputeProof, await handlers.dispute(author))
  })

  network.respond(METHODS.bye, (req, remote) => {
    handlers.bye(remote)
  })

  network.respond(
    METHODS.info,
    async () => {
      reads.check()
      const info = await handlers.info().catch((err) => {
        reads.refund()
        throw err
      })
      // The disputed sellers named, not all of them: the count says how many there are
      info.disputedCount = info.disputed.length
      info.disputed = info.disputed.slice(0, INFO_DISPUTED)
      return reads.spend(json(info))
    },
    FRAMED
  )

  network.respond(
    METHODS.auctions,
    (req) => {
      const query = parseJson(req, '{ "limit": 100, "cursor": null }', true)
      const limit = query.limit === undefined ? AUCTIONS_PAGE : query.limit
      if (!Number.isSafeInteger(limit) || limit < 1 || limit > AUCTIONS_PAGE_MAX) {
        throw AuctionError.BAD_REQUEST(`limit is a whole number from 1 to ${AUCTIONS_PAGE_MAX}`)
      }
      const cursor = query.cursor === undefined ? null : query.cursor
      if (
        cursor !== null &&
        (typeof cursor !== 'string' || !/^[0-9]{16}\/[0-9a-f]{32}$/.test(cursor))
      ) {
        throw AuctionError.BAD_REQUEST('cursor is the value a previous page returned')
      }
      return reads.page(limit, cursor)
    },
    FRAMED
  )

  network.respond(
    METHODS.auction,
    async (req) => {
      const query = parseJson(req, '{ "id": "<auction id hex>" }', false)
      reads.check()
      // A reply is bounded whatever the bid count: the latest bids only
      const auction = await handlers.auction(query.id, { lastBids: AUCTION_BIDS }).catch((err) => {
        reads.refund()
        throw err
      })
      return reads.spend(json(auction))
    },
    FRAMED
  )
}

// Plain UTF-8 JSON, as hp-rpc-cli and JSON.parse read it
function json(value) {
  return b4a.from(JSON.stringify(value))
}

// An empty request stands for {} where allowed
function parseJson(req, shape, emptyOk) {
  if (emptyOk && req.byteLength === 0) return {}
  let query
  try {
    query = JSON.parse(b4a.toString(req))
  } catch {
    throw AuctionError.BAD_REQUEST(`Expected JSON ${shape}`)
  }
  if (query === null || typeof query !== 'object' || Array.isArray(query)) {
    throw AuctionError.BAD_REQUEST(`Expected JSON ${shape}`)
  }
  return query
}

// What the RPC methods of peer (an AuctionPeer) call; writable() resolves once the peer may
// append to its own log
function handlers(peer, writable) {
  return {
    hello: (remote, hello, stream) => peer.greeting.onhello(remote, hello, stream),
    news: (remote, logs, stream) => peer.news.onnews(remote, logs, stream),
    logs: (after, limit) => peer.directory.page(after, limit),
    bid: (bid, remote, stream) =>
      writable().then(() => peer.sequencer.bid(bid, remote, stream.userData)),
    pay: (claim, remote) => peer.payments.onpay(claim, remote),
    accept: (auction, signature, remote) => peer.payments.onaccept(auction, signature, remote),
    tree: (author) => peer.forks.tree(author),
    dispute: (author) => peer.forks.proof(author),
    bye: (remote) => peer.greeting.onbye(remote),
    info: () => peer.info(),
    changes: () => peer.view.changes,
    auctions: (query) => peer.listAuctions(query),
    auction: (id, opts) => peer.getAuction(id, opts)
  }
}

module.exports = { METHODS, respond, handlers }
