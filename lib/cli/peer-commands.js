const { command, flag, arg, summary, description, footer } = require('paparam')
const format = require('./format')
const AuctionError = require('../errors')
const Pictures = require('../pictures')
const { MAX_PICTURE_BYTES } = require('../constants')
const path = require('path')
const fs = require('fs')
const b4a = require('b4a')
const { parseDuration, unmark } = require('./cli-args')

const DAY = 24 * 60 * 60 * 1000

const storageFlag = () =>
  flag('--storage|-s <dir>', 'peer folder (default $HYPERAUCTION_STORAGE, else ~/.hyperauction)')
const jsonFlag = () => flag('--json', 'print one JSON value')

// The commands that drive a running peer. send(cmd, args, flags) reaches the peer: over the
// control socket from the shell, or directly from the console of `start`.
function peerCommands(send, io) {
  // The console drives its own peer: a --storage there would only mislead
  const storage = () => (io.storage === false ? [] : [storageFlag()])
  // A pay prints its steps as they come to a person at a terminal, on stderr as git does: a
  // script still reads the result alone on stdout, and a failure as one line on stderr. A bid
  // is told whether it bought at the buy-now price.
  const progress = {
    onprogress: (p) => {
      process.stderr.write(format.notification('payment-progress', p, io.nameOf) + '\n')
    }
  }
  const boughtOn = async (res, flags) => {
    const auction = await send('show', { id: res.auction }, flags)
    return { auction }
  }
  const run = (name, toArgs) => async (cmd) => {
    const json = cmd.flags.json === true
    const shown = name === 'pay' && !json && process.stderr.isTTY === true
    const res = await send(name, toArgs(cmd), cmd.flags, shown ? progress : {})
    if (json) return io.print(JSON.stringify(res, null, 2))
    const extra = name === 'bid' ? await boughtOn(res, cmd.flags).catch(() => ({})) : {}
    io.print(format.result(name, res, io.nameOf, extra))
  }

  return [
    command(
      'id',
      summary('Print this peer’s public key'),
      footer('Example: hyperauction id --json'),
      ...storage(),
      jsonFlag(),
      run('id', () => ({}))
    ),
    command(
      'open',
      summary('Open an auction: sell ITEM from PRICE'),
      description(
        'Every peer of the network is told. Prints the auction id. Without --duration the\n' +
          'auction has no end: it stays open until you close it (hyperauction close ID).'
      ),
      arg('<item>', 'what is sold, up to 256 bytes (quote it if it has spaces)'),
      arg('<price>', 'start price, a decimal like 75 or 75.5'),
      flag('--currency|-c <code>', 'currency (default USDt)'),
      flag('--duration|-d <time>', 'close by itself after 90s, 10m, 1h30m, 2d (default: no end)'),
      flag('--reserve <amount>', 'lowest price you sell at: below it the auction ends unsold'),
      flag('--increment <step>', 'smallest raise, an amount (1) or a share of the bid (5%)'),
      flag('--buy-now <amount>', 'a bid of exactly this buys at once (higher bids are refused)'),
      flag('--soft-close <time>', 'a bid this close to the end moves the end this far after it'),
      flag('--max-extensions <n>', 'at most n soft-close extensions (default: no cap)'),
      flag('--pay-to <address>', 'settle in a token: the EVM address the winner pays'),
      flag('--token <address>', 'with --pay-to: the token contract (USDt)'),
      flag('--chain-id <id>', 'with --pay-to: the EVM chain id'),
      flag('--pay-within <time>', 'with --pay-to: how long the winner has to pay (default 1d)'),
      flag('--confirmations <n>', 'with --pay-to: confirmations a payment needs (default 1)'),
      flag('--picture <file>', 'a picture of the item: PNG, JPEG, WebP or GIF, up to 2 MiB'),
      ...storage(),
      jsonFlag(),
      footer(
        'Example: hyperauction open "Pic#1" 75 --duration 10m --reserve 90 --increment 5% --soft-close 2m'
      ),
      run('open', (cmd) => {
        const f = cmd.flags
        return {
          item: cmd.args.item,
          price: cmd.args.price,
          currency: f.currency,
          duration: f.duration === undefined ? undefined : parseDuration(f.duration),
          reserve: f.reserve,
          increment: f.increment,
          buyNow: f.buyNow,
          softClose: f.softClose === undefined ? undefined : parseDuration(f.softClose),
          maxExtensions: f.maxExtensions === undefined ? undefined : parseCount(f.maxExtensions),
          settlement: settlementFlags(f),
          picture: f.picture === undefined ? undefined : readPicture(f.picture)
        }
      })
    ),
    command(
      'bid',
      summary('Bid AMOUNT on an auction'),
      description('The seller decides; success means it accepted and stored the bid.'),
      arg('<auction>', 'auction id, or a unique prefix of it'),
      arg('<amount>', 'a decimal like 80 or 75.5'),
      ...storage(),
      jsonFlag(),
      footer('Example: hyperauction bid 3fa2c1 80'),
      run('bid', (cmd) => ({ id: cmd.args.auction, amount: cmd.args.amount }))
    ),
    command(
      'close',
      summary('Close one of your auctions and announce the sale'),
      arg('<auction>', 'auction id, or a unique prefix of it'),
      ...storage(),
      jsonFlag(),
      footer('Example: hyperauction close 3fa2c1'),
      run('close', (cmd) => ({ id: cmd.args.auction }))
    ),
    command(
      'cancel',
      summary('Cancel one of your auctions while no bid stands: no sale'),
      arg('<auction>', 'auction id, or a unique prefix of it'),
      ...storage(),
      jsonFlag(),
      footer('Example: hyperauction cancel 3fa2c1'),
      run('cancel', (cmd) => ({ id: cmd.args.auction }))
    ),
    command(
      'refuse',
      summary('Refuse a bidder on one of your auctions: its bids no longer count'),
      description(
        'The refusal is signed into your log and every peer sees it. The bidder cannot bid\n' +
          'again on this auction; its accepted bids stay in the history, marked refused, and\n' +
          'the highest bid by anyone else leads again.'
      ),
      arg('<auction>', 'auction id, or a unique prefix of it'),
      arg('<bidder>', 'the bidder’s public key, a unique prefix of it, or its name'),
      ...storage(),
      jsonFlag(),
      footer('Example: hyperauction refuse 3fa2c1 9b1e'),
      run('refuse', (cmd) => ({ id: cmd.args.auction, bidder: cmd.args.bidder }))
    ),
    command(
      'block',
      summary('Block a bidder from all your auctions, new ones included'),
      description(
        'One entry signed into your log, which every peer sees; the bidder is also refused on\n' +
          'each open auction of yours it bid on, so its bids there no longer count. At most\n' +
          '4,096 bidders are blocked at once.'
      ),
      arg('<bidder>', 'the bidder’s public key, or a unique prefix or name of a known peer'),
      ...storage(),
      jsonFlag(),
      footer('Example: hyperauction block 9b1e'),
      run('block', (cmd) => ({ bidder: cmd.args.bidder }))
    ),
    command(
      'unblock',
      summary('Take a bidder off your block list: it may bid on your auctions again'),
      arg('<bidder>', 'the bidder’s public key, or a unique prefix of it'),
      ...storage(),
      jsonFlag(),
      footer('Example: hyperauction unblock 9b1e'),
      run('unblock', (cmd) => ({ bidder: cmd.args.bidder }))
    ),
    command(
      'blocked',
      summary('List the bidders you block'),
      ...storage(),
      jsonFlag(),
      footer('Example: hyperauction blocked --json'),
      run('blocked', () => ({}))
    ),
    command(
      'pay',
      summary('Pay for an auction you won, in the token its seller asked for'),
      description(
        "With any wallet: send the price to the seller's address, then give --tx HASH and\n" +
          "--signature SIG, the paying address's signature (personal_sign) of the message\n" +
          '`hyperauction pay AUCTION --tx HASH` prints. With the built-in wallet: give\n' +
          '--wallet-file FILE (a seed phrase) or set HYPERAUCTION_WALLET_SEED; the peer pays\n' +
          "through its --chain-rpc endpoint. The seller's peer verifies the transfer on its own\n" +
          'endpoint and every peer then shows the sale as paid.'
      ),
      arg('<auction>', 'auction id, or a unique prefix of it'),
      flag('--tx <hash>', 'the transaction that paid, from any wallet'),
      flag('--signature <sig>', "with --tx: the paying address's signature of the claim"),
      flag('--wallet-file <file>', 'pay with the built-in wallet: a file holding its seed phrase'),
      flag('--account <n>', 'with the built-in wallet: which account of the seed (default 0)'),
      ...storage(),
      jsonFlag(),
      footer('Example: hyperauction pay 3fa2c1 --wallet-file ~/.hyperauction-wallet'),
      run('pay', (cmd) => ({
        id: cmd.args.auction,
        txHash: cmd.flags.tx,
        signature: cmd.flags.signature,
        walletFile: cmd.flags.walletFile && path.resolve(cmd.flags.walletFile),
        index: cmd.flags.account === undefined ? undefined : parseCount(cmd.flags.account),
        seed:
          cmd.flags.walletFile || cmd.flags.tx ? undefined : process.env.HYPERAUCTION_WALLET_SEED
      }))
    ),
    command(
      'second-chance',
      summary('Offer an unpaid sale to the highest bidder left, at its own bid'),
      arg('<auction>', 'auction id, or a unique prefix of it'),
      ...storage(),
      jsonFlag(),
      footer('Example: hyperauction second-chance 3fa2c1'),
      run('second-chance', (cmd) => ({ id: cmd.args.auction }))
    ),
    command(
      'accept-offer',
      summary('Take a second-chance offer made to you: you then owe your bid'),
      arg('<auction>', 'auction id, or a unique prefix of it'),
      ...storage(),
      jsonFlag(),
      footer('Example: hyperauction accept-offer 3fa2c1'),
      run('accept-offer', (cmd) => ({ id: cmd.args.auction }))
    ),
    command(
      'list',
      summary('List every auction this peer knows'),
      ...storage(),
      jsonFlag(),
      footer('Example: hyperauction list --json'),
      run('list', () => ({}))
    ),
    command(
      'show',
      summary('Show one auction with its bids'),
      arg('<auction>', 'auction id, or a unique prefix of it'),
      flag('--picture-out <file>', 'write its picture to file (fetched from a peer that holds it)'),
      ...storage(),
      jsonFlag(),
      footer('Example: hyperauction show 3fa2c1 --json'),
      async (cmd) => {
        const res = await send('show', { id: cmd.args.auction }, cmd.flags)
        const out = cmd.flags.pictureOut
        const written = out === undefined ? null : await writePicture(send, res.id, out, cmd)
        if (cmd.flags.json) {
          if (written !== null) res.picture = { ...res.picture, file: written.file }
          return io.print(JSON.stringify(res, null, 2))
        }
        io.print(format.result('show', res, io.nameOf))
        if (written !== null) {
          io.print(`picture: ${written.type}, ${written.size} bytes, written to ${written.file}`)
        }
      }
    ),
    command(
      'peers',
      summary('List the peers this peer knows'),
      ...storage(),
      jsonFlag(),
      footer('Example: hyperauction peers'),
      run('peers', () => ({}))
    ),
    command(
      'status',
      summary('Show the peer’s key, peers, auctions and state digest'),
      ...storage(),
      jsonFlag(),
      footer('Example: hyperauction status'),
      run('status', () => ({}))
    )
  ]
}

// A picture file for `open --picture`: read here, checked before it is sent (its size before it
// is read), sent as { type, data } in base64
function readPicture(file) {
  let data
  try {
    const { size } = fs.statSync(file)
    if (size > MAX_PICTURE_BYTES) {
      throw AuctionError.PICTURE_TOO_LARGE(
        `${file} is ${size} bytes: at most ${MAX_PICTURE_BYTES} (2 MiB) are taken`
      )
    }
    data = fs.readFileSync(file)
  } catch (err) {
    if (err instanceof AuctionError) throw err
    throw AuctionError.INVALID_ARGUMENT(
      `The picture ${file} cannot be read: ${err.code || err.message}`
    )
  }
  return { type: Pictures.checkPicture(data), data: b4a.toString(data, 'base64') }
}

// `show --picture-out`: the auction's picture, fetched by the peer, written to file
async function writePicture(send, id, file, cmd) {
  const p = await send('picture', { id }, cmd.flags)
  const target = path.resolve(file)
  fs.writeFileSync(target, b4a.from(p.data, 'base64'))
  return { file: target, type: p.type, size: p.size }
}

// --pay-to and the flags that go with it, or undefined without it
function settlementFlags(f) {
  const given = [f.token, f.chainId, f.payWithin, f.confirmations].some((v) => v !== undefined)
  if (f.payTo === undefined) {
    if (given) {
      throw AuctionError.INVALID_TERMS(
        '--token, --chain-id, --pay-within and --confirmations need --pay-to'
      )
    }
    return undefined
  }
  if (f.token === undefined || f.chainId === undefined) {
    throw AuctionError.INVALID_TERMS('--pay-to needs --token and --chain-id')
  }
  return {
    payTo: f.payTo,
    token: f.token,
    chainId: parseChainId(f.chainId),
    payWithin: f.payWithin === undefined ? DAY : parseDuration(f.payWithin),
    confirmations: f.confirmations === undefined ? 1 : parseCount(f.confirmations)
  }
}

function parseChainId(str) {
  if (!/^[1-9][0-9]{0,14}$/.test(str)) {
    throw AuctionError.INVALID_TERMS(`"${String(str).slice(0, 16)}" is not a chain id`)
  }
  return Number(str)
}

function parseCount(str) {
  if (!/^[0-9]{1,6}$/.test(str)) {
    throw AuctionError.INVALID_ARGUMENT(`"${String(str).slice(0, 16)}" is not a whole number`)
  }
  return Number(str)
}

// One line for whatever stopped a command: a coded error from the peer or a usage mistake.
// Under --json, one JSON object { "error": { "code", "message" } } instead.
function bailLine(b, opts = {}) {
  if (b.err) return format.errorLine(b.err, opts)
  const usage = { code: 'USAGE', message: `${usageText(b)} (see --help)` }
  return format.errorLine(usage, opts)
}

function usageText(b) {
  const top = !b.command || b.command.name === 'hyperauction'
  const flag = b.flag && (b.flag.long === false ? '-' : '--') + b.flag.name
  const value = b.arg && unmark(String(b.arg.value))
  if (top && b.reason === 'UNKNOWN_ARG' && value) return `unknown command ${value.split(' ')[0]}`
  const what = flag ? ` ${flag}` : value ? ` ${value}` : ''
  const reason = typeof b.reason === 'string' ? b.reason.toLowerCase().replace(/_/g, ' ') : 'error'
  const where = top ? '' : `hyperauction ${b.command.name}: `
  return where + reason + what
}

module.exports = { peerCommands, storageFlag, jsonFlag, bailLine }
