const fs = require('fs')
const b4a = require('b4a')
const AuctionError = require('../errors')
const { parseDuration } = require('./cli-args')
const { MAX_PICTURE_BYTES: MAX_PICTURE } = require('../constants')

const DAY = 24 * 60 * 60 * 1000
// A page of `list` (the HTTP API's GET /api/auctions): 50 auctions by default, 200 at most,
// each with its latest 100 bids
const LIST_LIMIT = 50
const MAX_LIST_LIMIT = 200
const LIST_BIDS = 100
const MAX_QUERY = 256
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

// The commands a running peer answers, for the control socket and the console alike.
// args is untrusted JSON: every field is checked here.
const COMMANDS = {
  id(peer) {
    return { publicKey: peer.id, name: peer.name }
  },

  open(peer, args) {
    const opts = {
      item: args.item,
      price: args.price,
      currency: args.currency,
      duration: duration(args.duration, 'INVALID_DURATION'),
      reserve: args.reserve,
      increment: args.increment,
      buyNow: args.buyNow,
      softClose: duration(args.softClose, 'INVALID_TERMS'),
      maxExtensions: args.maxExtensions,
      settlement: settlement(args.settlement)
    }
    if (args.picture !== undefined && args.picture !== null) opts.picture = picture(args.picture)
    return peer.openAuction(opts)
  },

  async picture(peer, args) {
    const p = await peer.getPicture(await resolveId(peer, args.id))
    return {
      type: p.type,
      data: b4a.toString(p.data, 'base64'),
      size: p.size,
      hash: b4a.isBuffer(p.hash) ? b4a.toString(p.hash, 'hex') : p.hash
    }
  },

  async pay(peer, args, ctx) {
    const id = await resolveId(peer, args.id)
    if (args.txHash !== undefined) {
      return peer.pay(id, { txHash: args.txHash, signature: args.signature })
    }
    // Without a wallet of its own, the caller pays with the daemon's (start --wallet-file, or
    // HYPERAUCTION_WALLET_SEED where it runs): the HTTP API never passes one
    let seed = args.seed === undefined && ctx ? ctx.walletSeed : args.seed
    if (args.walletFile !== undefined) {
      if (typeof args.walletFile !== 'string') {
        throw AuctionError.INVALID_ARGUMENT('--wallet-file is a path')
      }
      try {
        seed = fs.readFileSync(args.walletFile, 'utf-8').trim()
      } catch (err) {
        throw AuctionError.INVALID_ARGUMENT(
          `The wallet file cannot be read: ${err.code || err.message}`
        )
      }
    }
    if (typeof seed !== 'string' || seed.length === 0) {
      throw AuctionError.INVALID_ARGUMENT(
        'No wallet to pay with: pay with --tx HASH --signature SIG (txHash and signature over HTTP), or --wallet-file FILE, or start the peer with --wallet-file FILE or HYPERAUCTION_WALLET_SEED'
      )
    }
    if (args.index !== undefined && !Number.isSafeInteger(args.index)) {
      throw AuctionError.INVALID_ARGUMENT('--account is a whole number')
    }
    return peer.pay(id, { seed, index: args.index })
  },

  async 'second-chance'(peer, args) {
    return peer.offerSecondChance(await resolveId(peer, args.id))
  },

  async 'accept-offer'(peer, args) {
    return peer.acceptOffer(await resolveId(peer, args.id))
  },

  async bid(peer, args) {
    return peer.placeBid(await resolveId(peer, args.id), args.amount)
  },

  async close(peer, args) {
    return peer.closeAuction(await resolveId(peer, args.id))
  },

  async cancel(peer, args) {
    return peer.cancelAuction(await resolveId(peer, args.id))
  },

  async refuse(peer, args) {
    const id = await resolveId(peer, args.id)
    return peer.refuseBidder(id, await resolveBidder(peer, id, args.bidder))
  },

  block(peer, args) {
    return peer.blockBidder(resolveKey(peer, args.bidder, []))
  },

  async unblock(peer, args) {
    const key = resolveKey(peer, args.bidder, await peer.blockedBidders())
    return peer.blockBidder(key, { blocked: false })
  },

  blocked(peer) {
    return peer.blockedBidders()
  },

  list(peer, args) {
    const paged = ['q', 'status', 'sort', 'offset', 'limit'].some((k) => args[k] !== undefined)
    if (!paged) return peer.listAuctions({ bids: true })
    return listPage(peer, args)
  },

  async show(peer, args) {
    return peer.getAuction(await resolveId(peer, args.id))
  },

  peers(peer) {
    return peer.peers()
  },

  async status(peer, args, ctx) {
    const info = await peer.info()
    let auctions = 0
    let open = 0
    for (const a of await peer.listAuctions()) {
      auctions++
      if (a.status === 'open') open++
    }
    return {
      publicKey: info.publicKey,
      name: info.name,
      network: info.network,
      storage: ctx.storage,
      peers: info.peers,
      auctions,
      open,
      logs: info.logs,
      blocks: info.blocks,
      disputed: info.disputed,
      digest: await peer.digest(),
      uptime: Date.now() - ctx.startedAt,
      web: ctx.web || null
    }
  }
}

// One page of the auctions this peer knows: q (the item contains it, in any case), status (open,
// ended or all), sort (ending: open ones ending soonest first, then open ones with no end, then
// ended ones newest first; newest: newest opened first), offset and limit
async function listPage(peer, args) {
  const q = args.q === undefined ? '' : args.q
  if (typeof q !== 'string' || q.length > MAX_QUERY) {
    throw AuctionError.INVALID_ARGUMENT(`The search is text of at most ${MAX_QUERY} characters`)
  }
  const status = oneOf(args.status, ['all', 'open', 'ended'], 'status')
  const sort = oneOf(args.sort, ['ending', 'newest'], 'sort')
  const offset = count(args.offset, 0, 'offset')
  const limit = Math.min(count(args.limit, LIST_LIMIT, 'limit'), MAX_LIST_LIMIT)
  if (limit === 0) throw AuctionError.INVALID_ARGUMENT('The limit is at least 1')

  const needle = q.toLowerCase()
  const found = (await peer.listAuctions()).filter(
    (a) =>
      (status === 'all' || (status === 'open') === (a.status === 'open')) &&
      (needle === '' || a.item.toLowerCase().includes(needle))
  )
  found.sort(sort === 'newest' ? byNewest : byEnding)

  const auctions = []
  for (const a of found.slice(offset, offset + limit)) {
    try {
      auctions.push(await peer.getAuction(a.id, { lastBids: LIST_BIDS }))
    } catch (err) {
      // Forgotten since it was listed (a dropped log): shown as listed
      if (err.code !== 'AUCTION_NOT_FOUND') throw err
      auctions.push({ ...a, bids: [] })
    }
  }
  return { auctions, total: found.length, offset, limit }
}

// The list's order reversed: the view orders openings by (createdAt, id)
function byNewest(a, b) {
  return b.createdAt - a.createdAt || compareIds(b, a)
}

function byEnding(a, b) {
  const rank = (x) => (x.status !== 'open' ? 2 : x.endsAt ? 0 : 1)
  const ra = rank(a)
  const rb = rank(b)
  if (ra !== rb) return ra - rb
  if (ra === 0) return a.endsAt - b.endsAt || compareIds(a, b)
  if (ra === 2) return (b.closedAt || b.createdAt) - (a.closedAt || a.createdAt) || compareIds(b, a)
  return byNewest(a, b)
}

function compareIds(a, b) {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}

function oneOf(value, choices, what) {
  if (value === undefined) return choices[0]
  if (!choices.includes(value)) {
    throw AuctionError.INVALID_ARGUMENT(`The ${what} is one of ${choices.join(', ')}`)
  }
  return value
}

// A whole number, given as a number or as decimal digits (a query string's)
function count(value, fallback, what) {
  if (value === undefined) return fallback
  const n = typeof value === 'string' && /^[0-9]{1,9}$/.test(value) ? Number(value) : value
  if (!Number.isSafeInteger(n) || n < 0) {
    throw AuctionError.INVALID_ARGUMENT(`The ${what} is a whole number, 0 or more`)
  }
  return n
}

// A duration as the CLI gives it (milliseconds), or as text like "90s", "10m", "1h30m", "2d"
function duration(value, code) {
  if (typeof value !== 'string') return value
  try {
    return parseDuration(value)
  } catch (err) {
    throw AuctionError[code](err.message.replace(err.code + ': ', ''))
  }
}

// Settlement terms as JSON gives them: the chain id may be a decimal string, the time to pay
// text like "1d" (1 day if not given)
function settlement(s) {
  if (s === undefined || s === null) return s
  if (typeof s !== 'object' || Array.isArray(s)) {
    throw AuctionError.INVALID_TERMS('The settlement terms are { payTo, token, chainId }')
  }
  const chainId =
    typeof s.chainId === 'string' && /^[1-9][0-9]{0,14}$/.test(s.chainId)
      ? Number(s.chainId)
      : s.chainId
  return {
    payTo: s.payTo,
    token: s.token,
    chainId,
    payWithin: s.payWithin === undefined ? DAY : duration(s.payWithin, 'INVALID_TERMS'),
    confirmations: s.confirmations === undefined ? 1 : s.confirmations
  }
}

// { type, data }: data in base64, at most 2 MiB once decoded
function picture(p) {
  if (typeof p !== 'object' || Array.isArray(p) || typeof p.type !== 'string') {
    throw AuctionError.INVALID_ARGUMENT('A picture is { type, data } with data in base64')
  }
  const data = p.data
  if (
    typeof data !== 'string' ||
    data.length === 0 ||
    data.length % 4 !== 0 ||
    !BASE64.test(data)
  ) {
    throw AuctionError.INVALID_ARGUMENT('The picture’s data is not well-formed base64')
  }
  const padding = data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0
  if ((data.length / 4) * 3 - padding > MAX_PICTURE) {
    throw AuctionError.PAYLOAD_TOO_LARGE('A picture is at most 2 MiB')
  }
  return { type: p.type, data: b4a.from(data, 'base64') }
}

// A unique prefix of an auction id is enough, as with git hashes
async function resolveId(peer, id) {
  if (typeof id !== 'string' || !/^[0-9a-f]{1,32}$/i.test(id)) {
    throw AuctionError.INVALID_ID('An auction id is up to 32 hex characters')
  }
  const prefix = id.toLowerCase()
  if (prefix.length === 32) return prefix
  const found = await peer.findAuctions(prefix, 2)
  if (found.length === 0) throw AuctionError.AUCTION_NOT_FOUND(`No auction starts with ${prefix}`)
  if (found.length > 1) throw AuctionError.INVALID_ID(`${prefix} matches more than one auction`)
  return found[0]
}

// A bidder by its full key, or by a unique prefix of the key or the name of one who bid
async function resolveBidder(peer, id, bidder) {
  if (typeof bidder !== 'string' || bidder.length === 0 || bidder.length > 64) {
    throw AuctionError.INVALID_ARGUMENT('A bidder is a public key, a prefix of it or a name')
  }
  if (/^[0-9a-f]{64}$/i.test(bidder)) return bidder.toLowerCase()
  const names = new Map(peer.peers().map((p) => [p.publicKey, p.name]))
  const keys = new Set((await peer.getAuction(id)).bids.map((b) => b.bidder))
  const found = [...keys].filter(
    (key) => key.startsWith(bidder.toLowerCase()) || names.get(key) === bidder
  )
  if (found.length === 0) {
    throw AuctionError.INVALID_ARGUMENT(
      `No bidder of this auction is named or starts with ${bidder}`
    )
  }
  if (found.length > 1) {
    throw AuctionError.INVALID_ARGUMENT(`${bidder} matches more than one bidder`)
  }
  return found[0]
}

// A key in full, or a unique prefix or name of a known peer, or a unique prefix of one of keys
function resolveKey(peer, bidder, keys) {
  if (typeof bidder !== 'string' || bidder.length === 0 || bidder.length > 64) {
    throw AuctionError.INVALID_ARGUMENT('A bidder is a public key, a prefix of it or a name')
  }
  if (/^[0-9a-f]{64}$/i.test(bidder)) return bidder.toLowerCase()
  const prefix = bidder.toLowerCase()
  const found = new Set(keys.filter((key) => key.startsWith(prefix)))
  for (const p of peer.peers()) {
    if (p.publicKey.startsWith(prefix) || p.name === bidder) found.add(p.publicKey)
  }
  if (found.size === 0) {
    throw AuctionError.INVALID_ARGUMENT(`No peer known here is named or starts with ${bidder}`)
  }
  if (found.size > 1) throw AuctionError.INVALID_ARGUMENT(`${bidder} matches more than one key`)
  return [...found][0]
}

function runCommand(peer, cmd, args, ctx = {}) {
  if (typeof cmd !== 'string' || !Object.hasOwn(COMMANDS, cmd)) {
    throw AuctionError.UNKNOWN_COMMAND(
      `Unknown command ${JSON.stringify(String(cmd).slice(0, 32))}`
    )
  }
  if (args === null || typeof args !== 'object' || Array.isArray(args)) {
    throw AuctionError.BAD_REQUEST('Command arguments must be an object')
  }
  return COMMANDS[cmd](peer, args, ctx)
}

module.exports = { runCommand, resolveId }
