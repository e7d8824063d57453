const AuctionError = require('../errors')
const { AUCTION_EVENTS, span, progressText } = require('../web/static/shared')

// Human-readable lines for the CLI, the console and the demo. Names come from nameOf(hexKey).

function short(hex) {
  return hex.slice(0, 8)
}

// "16:40:02", with the date too for a time of another day than now (UTC, as every time shown)
function time(ms, now = Date.now()) {
  const iso = new Date(ms).toISOString()
  if (iso.slice(0, 10) === new Date(now).toISOString().slice(0, 10)) return iso.slice(11, 19)
  return iso.slice(0, 10) + ' ' + iso.slice(11, 19)
}

// A name as a peer chose it, shown so that it cannot pass for another or for output: names
// with anything but letters, digits, spaces and # _ . @ + - ' are quoted, control and
// direction characters escaped
function cleanName(name) {
  if (/^[\p{L}\p{N}#_.@+\-' ]+$/u.test(name) && name.trim() === name) return name
  const unsafe = /[\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g
  const escape = (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0')
  return JSON.stringify(name).replace(unsafe, escape)
}

// What the CLI calls a peer. Names are chosen by each peer and two may share one, so another
// peer's name always comes with a prefix of its key, "Client#2 (3fa9c1d2)"; this peer is
// "Client#1 (you)"; a peer with no name is its key prefix
function label(hex, name, { self = false } = {}) {
  if (self) return name ? `${cleanName(name)} (you)` : 'you'
  return name ? `${cleanName(name)} (${short(hex)})` : short(hex)
}

// nameOf(hex) for the output, from what the peer knows: { publicKey, name } of its own and
// peers, [{ publicKey, name }] (those online and the kept names of offline sellers)
function names({ publicKey, name, peers = [] }) {
  const known = new Map()
  for (const p of peers) if (p.name) known.set(p.publicKey, p.name)
  const nameOf = (hex) =>
    hex === publicKey ? label(hex, name, { self: true }) : label(hex, known.get(hex) || '')
  nameOf.self = { publicKey, name }
  return nameOf
}

// Names two keys share, compared as a reader would see them
function sameName(a, b) {
  const norm = (s) => s.normalize('NFKC').trim().toLowerCase()
  return a !== '' && b !== '' && norm(a) === norm(b)
}

function money(amount, currency) {
  return `${amount} ${currency}`
}

// "ends in 4m 10s" while open, "ended" if its time passed and the close has not come yet
function timeLeft(a, now = Date.now()) {
  if (a.status !== 'open' || !a.endsAt) return ''
  return a.endsAt > now ? `ends in ${span(a.endsAt - now)}` : 'ended, closing'
}

function termsText(a) {
  const t = a.terms
  const parts = []
  if (t.reserve) parts.push(`reserve ${money(t.reserve, a.currency)}`)
  if (t.increment) parts.push(`raise at least ${money(t.increment, a.currency)}`)
  if (t.incrementPercent) parts.push(`raise at least ${t.incrementPercent}%`)
  if (t.buyNow) parts.push(`buy now ${money(t.buyNow, a.currency)}`)
  if (t.softClose) {
    const cap = t.maxExtensions ? `, at most ${t.maxExtensions} times` : ''
    parts.push(`soft close ${span(t.softClose)}${cap}`)
  }
  return parts.join(', ')
}

function outcomeText(a, nameOf) {
  switch (a.outcome) {
    case 'sold':
      return `sold to ${nameOf(a.winner.bidder)} for ${money(a.winner.amount, a.currency)}`
    case 'cancelled':
      return 'cancelled'
    default:
      return a.highestBid ? 'unsold: the reserve was not met' : 'unsold: no bids'
  }
}

function auctionLine(a, nameOf) {
  const by = nameOf(a.seller)
  let state
  if (a.status === 'open') {
    state = a.highestBid
      ? `open, highest ${money(a.highestBid.amount, a.currency)} by ${nameOf(a.highestBid.bidder)}`
      : 'open, no bids'
    if (a.reserveMet === false) state += ', reserve not met'
    if (a.terms.buyNow) state += `, buy now ${money(a.terms.buyNow, a.currency)}`
    if (a.terms.increment || a.terms.incrementPercent) {
      state += `, raise ${a.terms.increment ? money(a.terms.increment, a.currency) : a.terms.incrementPercent + '%'}+`
    }
    const left = timeLeft(a)
    if (left) state += ', ' + left
  } else {
    state = outcomeText(a, nameOf)
    if (a.payment) state += ', ' + paymentText(a, nameOf)
  }
  const disputed = a.disputed ? ', DISPUTED: the seller signed two histories' : ''
  return `${a.id}  ${a.item}  from ${money(a.startPrice, a.currency)} by ${by}  [${state}${disputed}]`
}

function saleLine(sale, nameOf) {
  return `${sale.auction.item} ${outcomeText(sale.auction, nameOf)}`
}

// One line per notification a peer emits
function notification(name, data, nameOf) {
  switch (name) {
    case 'auction-opened':
      return `auction opened: ${data.item} for ${money(data.startPrice, data.currency)} by ${nameOf(data.seller)} (id ${data.id})`
    case 'bid-accepted':
      return `bid accepted: ${money(data.bid.amount, data.auction.currency)} on ${data.auction.item} by ${nameOf(data.bid.bidder)} (bid #${data.bid.position})${boughtNow(data.auction, data.bid) ? `: the buy-now price, ${nameOf(data.bid.bidder)} wins` : ''}`
    case 'outbid':
      return `outbid: ${nameOf(data.bid.bidder)} bid ${money(data.bid.amount, data.auction.currency)} on ${data.auction.item}, over your ${data.previous}; bid at least ${money(data.auction.minimumBid, data.auction.currency)} to lead again`
    case 'auction-extended':
      return data.catchUp
        ? `extended: ${data.auction.item} to end at ${time(data.endsAt)} (extension ${data.extensions})`
        : `extended: ${data.auction.item} now ${timeLeft(data.auction)} (extension ${data.extensions})`
    case 'ending-soon':
      return `ending soon: ${data.auction.item} ${timeLeft(data.auction)}`
    case 'bidder-refused':
      return `bidder refused: ${nameOf(data.bidder)} on ${data.auction.item}; its bids no longer count`
    case 'bidder-blocked':
      return data.blocked
        ? `bidder blocked: ${nameOf(data.seller)} takes no bids from ${nameOf(data.bidder)} on any of its auctions`
        : `bidder unblocked: ${nameOf(data.seller)} takes bids from ${nameOf(data.bidder)} again`
    case 'auction-closed':
      return `auction closed: ${saleLine(data, nameOf)}`
    case 'auction-paid':
      return `paid: ${data.auction.item}, ${money(data.payment.amount, data.auction.currency)} by ${nameOf(data.payment.buyer)} (tx ${data.payment.txHash}, block ${data.payment.blockNumber})`
    case 'payment-checked':
      return data.verified === 'verified'
        ? `payment checked on your chain endpoint: auction ${short(data.auction)} was paid`
        : `payment DISPUTED: the seller's record of auction ${short(data.auction)} is false here: ${data.reason}`
    case 'payment-lapsed':
      return `payment lapsed: ${nameOf(data.buyer)} did not pay for ${data.auction.item} in time`
    case 'second-chance':
      return `second chance: ${data.auction.item} offered to ${nameOf(data.offer.bidder)} at ${money(data.offer.amount, data.auction.currency)} until ${new Date(data.offer.expiresAt).toISOString()}`
    case 'offer-accepted':
      return `offer accepted: ${nameOf(data.buyer)} takes ${data.auction.item} and now owes ${money(data.auction.payment.amount, data.auction.currency)}`
    case 'payment-progress':
      return `payment: ${progressText(data)}`
    case 'peer-add':
      return `peer joined: ${label(data.publicKey, data.name)}${sharedName(data, nameOf)}`
    case 'watching':
      return `watching ${data.name ? cleanName(data.name) : 'the peer'} (${short(data.publicKey)}); Ctrl+C stops`
    case 'peer-remove':
      return `peer left: ${label(data.publicKey, data.name)}`
    case 'dispute':
      return `dispute: ${nameOf(data.seller)} signed two histories of its log (at ${data.length} blocks); its auctions are marked DISPUTED`
    default:
      return `${name}: ${JSON.stringify(data)}`
  }
}

// One line per notification, at the time of the event (its author's clock) if it has one,
// history a peer catches up on marked as such
function line(name, data, nameOf, now = Date.now()) {
  const at = data && typeof data.at === 'number' && data.at > 0 ? data.at : now
  const history = data && data.catchUp ? '(catch-up) ' : ''
  return `[${time(at, now)}] ${history}${notification(name, data, nameOf)}`
}

// A bid of exactly the buy-now price ends the auction: its bidder wins
function boughtNow(auction, bid) {
  return Boolean(auction.terms && auction.terms.buyNow) && auction.terms.buyNow === bid.amount
}

// A joining peer that goes by this peer's own name
function sharedName(data, nameOf) {
  const self = nameOf.self
  if (self && self.publicKey !== data.publicKey && sameName(self.name || '', data.name || '')) {
    return ', the same name as yours'
  }
  return ''
}

// How the peer knows a sale was paid
const VERIFIED = {
  verified: 'verified on a chain endpoint',
  'seller-record': 'the seller’s record, not checked here',
  disputed: 'DISPUTED by this peer’s check'
}

function paymentText(a, nameOf) {
  const p = a.payment
  const price = p.amount && money(p.amount, a.currency)
  switch (p.status) {
    case 'paid':
      return `paid, ${price} by ${nameOf(p.buyer)} (tx ${p.txHash}, block ${p.blockNumber}; ${VERIFIED[p.verified] || p.verified}${p.verifyError ? ': ' + p.verifyError : ''})`
    case 'due': {
      const left = p.dueAt - Date.now()
      return `${price} due from ${nameOf(p.buyer)}, ${left > 0 ? 'within ' + span(left) : 'overdue'}`
    }
    case 'offered':
      return `second chance offered to ${nameOf(p.offer.bidder)} at ${money(p.offer.amount, a.currency)}`
    default:
      return 'unpaid: the buyer’s time ran out'
  }
}

function showAuction(a, nameOf) {
  const status = a.status === 'open' ? 'open' : a.outcome
  const lines = [
    `${a.item}  (${status})`,
    `  id:          ${a.id}`,
    `  seller:      ${nameOf(a.seller)} ${a.seller}`,
    `  start price: ${money(a.startPrice, a.currency)}`
  ]
  const terms = termsText(a)
  if (terms) lines.push(`  terms:       ${terms}`)
  lines.push(`  opened:      ${new Date(a.createdAt).toISOString()}`)
  if (a.disputed) lines.push('  DISPUTED:    the seller signed two histories of its log')
  if (a.endsAt) {
    const extended = a.extensions ? ` (extended ${a.extensions}x by late bids)` : ''
    const left = timeLeft(a)
    lines.push(
      `  ends:        ${new Date(a.endsAt).toISOString()}${left ? ', ' + left : ''}${extended}`
    )
  }
  if (a.closedAt) lines.push(`  closed:      ${new Date(a.closedAt).toISOString()}`)
  if (a.reserveMet !== null) lines.push(`  reserve:     ${a.reserveMet ? 'met' : 'not met'}`)
  if (a.minimumBid) lines.push(`  next bid:    at least ${money(a.minimumBid, a.currency)}`)
  lines.push(`  bids:        ${a.bids.length === 0 ? 'none' : ''}`.trimEnd())
  if (a.bids.length < a.bidCount) lines.push(`    (${a.bidCount - a.bids.length} earlier bids)`)
  for (const b of a.bids) {
    const refused = b.refused ? '  (refused)' : ''
    lines.push(
      `    #${b.position}  ${money(b.amount, a.currency)}  by ${nameOf(b.bidder)}${refused}`
    )
  }
  if (a.refused.length > 0) {
    lines.push(`  refused:     ${a.refused.map((key) => nameOf(key)).join(', ')}`)
  }
  if (a.settlement) {
    const s = a.settlement
    lines.push(
      `  settlement:  pay ${s.payTo} in token ${s.token} on chain ${s.chainId}, within ${span(s.payWithin)}, ${s.confirmations} confirmation${s.confirmations === 1 ? '' : 's'}`
    )
  }
  if (a.payment) lines.push(`  payment:     ${paymentText(a, nameOf)}`)
  if (a.winner) {
    lines.push(
      `  winner:      ${nameOf(a.winner.bidder)} for ${money(a.winner.amount, a.currency)}`
    )
  } else if (a.status !== 'open') {
    lines.push(`  outcome:     ${outcomeText(a, nameOf)}`)
  }
  return lines.join('\n')
}

// Plain output of each control command's result; extra.auction: the auction a bid was on
function result(cmd, res, nameOf, extra = {}) {
  switch (cmd) {
    case 'id':
      return res.name ? `${res.publicKey} (${res.name})` : res.publicKey
    case 'open':
      return [
        `opened ${res.item} for ${money(res.startPrice, res.currency)}`,
        `id ${res.id}`,
        res.endsAt
          ? `ends ${new Date(res.endsAt).toISOString()} (${timeLeft(res)})`
          : `no end: close it with hyperauction close ${res.id}`
      ].join('\n')
    case 'bid':
      return (
        `bid of ${res.amount} accepted as bid #${res.position} on ${res.auction}` +
        (res.confirmed ? '' : ' (not yet confirmed: the seller’s signed block has not arrived)') +
        (extra.auction && boughtNow(extra.auction, res)
          ? `\nthe buy-now price: you won ${extra.auction.item}; the seller’s peer closes the auction now`
          : '')
      )
    case 'close':
    case 'cancel':
      return saleLine(res, nameOf)
    case 'pay':
    case 'second-chance':
    case 'accept-offer':
      return `${res.item}: ${paymentText(res, nameOf)}`
    case 'refuse':
      return `refused ${nameOf(res.refused[res.refused.length - 1])} on ${res.item}; ${
        res.highestBid
          ? `highest now ${money(res.highestBid.amount, res.currency)} by ${nameOf(res.highestBid.bidder)}`
          : 'no bid stands'
      }`
    case 'block':
    case 'unblock': {
      const who = nameOf(res.bidder)
      if (!res.changed) return res.blocked ? `${who} is blocked already` : `${who} is not blocked`
      if (!res.blocked) return `unblocked ${who}: it may bid on your auctions again`
      const lines = [`blocked ${who} on all your auctions`]
      const n = res.refused.length
      if (n > 0) lines.push(`refused on ${n} open auction${n === 1 ? '' : 's'} it bid on`)
      for (const f of res.failed) lines.push(`not refused on ${f.id}: ${f.code}`)
      return lines.join('\n')
    }
    case 'blocked':
      if (res.length === 0) return 'nobody is blocked'
      // The name, where one is known
      return res
        .map((key) => (nameOf(key) === short(key) ? key : `${key} ${nameOf(key)}`))
        .join('\n')
    case 'list':
      return res.length === 0 ? 'no auctions' : res.map((a) => auctionLine(a, nameOf)).join('\n')
    case 'show':
      return showAuction(res, nameOf)
    case 'peers':
      return res.length === 0 ? 'no peers' : res.map((p) => peerLine(p, res, nameOf)).join('\n')
    case 'status':
      return [
        `public key: ${res.publicKey}`,
        `name:       ${res.name || '-'}`,
        `network:    ${res.network}`,
        `storage:    ${res.storage}`,
        `peers:      ${res.peers}`,
        `auctions:   ${res.auctions} (${res.open} open)`,
        `logs:       ${res.logs} (${res.blocks} blocks)`,
        `disputed:   ${res.disputed.length === 0 ? 'none' : res.disputed.join(', ')}`,
        `digest:     ${res.digest}`,
        `uptime:     ${Math.round(res.uptime / 1000)} s`
      ].join('\n')
    default:
      return JSON.stringify(res, null, 2)
  }
}

// A known peer, and who else goes by its name (names are chosen by each peer)
function peerLine(p, peers, nameOf) {
  if (!p.name) return p.publicKey
  const others = peers.filter((o) => o.publicKey !== p.publicKey && sameName(o.name, p.name))
  const shared = others.map((o) => short(o.publicKey))
  const self = nameOf.self
  if (self && self.publicKey !== p.publicKey && sameName(self.name || '', p.name)) {
    shared.push('you')
  }
  const note = shared.length === 0 ? '' : `  (same name as ${shared.join(', ')})`
  return `${p.publicKey}  ${cleanName(p.name)}${note}`
}

// What a user sees of a failure: one line `error: CODE: message`, or under --json one object
// { "error": { "code", "message" } }. Each code once; a stack only for an error with no code.
function errorLine(err, { json = false } = {}) {
  const { code, message } = errorParts(err)
  if (json) return JSON.stringify({ error: { code, message } })
  return `error: ${code}: ${code === 'INTERNAL' && err && err.stack ? err.stack : message}`
}

// Codes whose message is a chain of internal causes, said plainly instead
const PLAIN_ERRORS = {
  SELLER_UNREACHABLE: 'the seller’s peer could not be reached; try again when it is online'
}

function errorParts(err) {
  const coded = err && typeof err.code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(err.code)
  if (!coded) return { code: 'INTERNAL', message: String((err && err.message) || err) }
  if (Object.hasOwn(PLAIN_ERRORS, err.code)) {
    return { code: err.code, message: PLAIN_ERRORS[err.code] }
  }
  // A system error: "permission denied (mkdir /x)" rather than "EACCES: permission denied, ..."
  if (typeof err.syscall === 'string' && !(err instanceof AuctionError)) {
    const known = require('util').getSystemErrorMap().get(err.errno)
    const where = err.path || err.address
    const message = `${known ? known[1] : 'failed'} (${err.syscall}${where ? ' ' + where : ''})`
    return { code: err.code, message }
  }
  let message = String(err.message)
  while (message.startsWith(err.code + ': ')) message = message.slice(err.code.length + 2)
  return { code: err.code, message }
}

// What `start` prints and `watch` streams: the auctions' events, and the others
const NOTIFICATIONS = [...AUCTION_EVENTS, 'bidder-blocked', 'peer-add', 'peer-remove', 'dispute']

module.exports = {
  NOTIFICATIONS,
  span,
  timeLeft,
  errorLine,
  short,
  time,
  label,
  names,
  line,
  notification,
  result
}
