const fs = require('fs')
const AuctionError = require('../errors')

// The commands a running peer answers, for the control socket and the console alike.
// args is untrusted JSON: every field is checked here.
const COMMANDS = {
  id(peer) {
    return { publicKey: peer.id, name: peer.name }
  },

  open(peer, args) {
    return peer.openAuction({
      item: args.item,
      price: args.price,
      currency: args.currency,
      duration: args.duration,
      reserve: args.reserve,
      increment: args.increment,
      buyNow: args.buyNow,
      softClose: args.softClose,
      maxExtensions: args.maxExtensions,
      settlement: args.settlement
    })
  },

  async pay(peer, args) {
    const id = await resolveId(peer, args.id)
    if (args.txHash !== undefined) {
      return peer.pay(id, { txHash: args.txHash, signature: args.signature })
    }
    let seed = args.seed
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
        'Pay with --tx HASH --signature SIG, or --wallet-file FILE, or HYPERAUCTION_WALLET_SEED'
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

  list(peer) {
    return peer.listAuctions({ bids: true })
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
      uptime: Date.now() - ctx.startedAt
    }
  }
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

function runCommand(peer, cmd, args, ctx) {
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
