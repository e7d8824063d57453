const AuctionError = require('../errors')

// Human-readable lines for the CLI, the console and the demo. Names come from nameOf(hexKey).

function short(hex) {
  return hex.slice(0, 8)
}

function time(ms) {
  return new Date(ms).toISOString().slice(11, 19)
}

function money(amount, currency) {
  return `${amount} ${currency}`
}

function auctionLine(a, nameOf) {
  const by = nameOf(a.seller)
  const ends = a.endsAt && a.status === 'open' ? `, ends ${new Date(a.endsAt).toISOString()}` : ''
  let state
  if (a.status === 'open') {
    state = a.highestBid
      ? `open, highest ${money(a.highestBid.amount, a.currency)} by ${nameOf(a.highestBid.bidder)}`
      : 'open, no bids'
  } else {
    state = a.winner
      ? `sold to ${nameOf(a.winner.bidder)} for ${money(a.winner.amount, a.currency)}`
      : 'closed, no bids'
  }
  const disputed = a.disputed ? ', DISPUTED: the seller signed two histories' : ''
  return `${a.id}  ${a.item}  from ${money(a.startPrice, a.currency)} by ${by}  [${state}${ends}${disputed}]`
}

function saleLine(sale, nameOf) {
  const a = sale.auction
  return sale.winner
    ? `${a.item} sold to ${nameOf(sale.winner.bidder)} for ${money(sale.winner.amount, a.currency)}`
    : `${a.item} closed with no bids`
}

// One line per notification a peer emits
function notification(name, data, nameOf) {
  switch (name) {
    case 'auction-opened':
      return `auction opened: ${data.item} for ${money(data.startPrice, data.currency)} by ${nameOf(data.seller)} (id ${data.id})`
    case 'bid-accepted':
      return `bid accepted: ${money(data.bid.amount, data.auction.currency)} on ${data.auction.item} by ${nameOf(data.bid.bidder)} (bid #${data.bid.position + 1})`
    case 'auction-closed':
      return `auction closed: ${saleLine(data, nameOf)}`
    case 'peer-add':
      return `peer joined: ${data.name || nameOf(data.publicKey)} (${short(data.publicKey)})`
    case 'watching':
      return `watching ${data.name || 'the peer'} (${short(data.publicKey)}); Ctrl+C stops`
    case 'peer-remove':
      return `peer left: ${data.name || nameOf(data.publicKey)} (${short(data.publicKey)})`
    default:
      return `${name}: ${JSON.stringify(data)}`
  }
}

function showAuction(a, nameOf) {
  const lines = [
    `${a.item}  (${a.status})`,
    `  id:          ${a.id}`,
    `  seller:      ${nameOf(a.seller)} ${a.seller}`,
    `  start price: ${money(a.startPrice, a.currency)}`,
    `  opened:      ${new Date(a.createdAt).toISOString()}`
  ]
  if (a.disputed) lines.push('  DISPUTED:    the seller signed two histories of its log')
  if (a.endsAt) lines.push(`  ends:        ${new Date(a.endsAt).toISOString()}`)
  if (a.closedAt) lines.push(`  closed:      ${new Date(a.closedAt).toISOString()}`)
  lines.push(`  bids:        ${a.bids.length === 0 ? 'none' : ''}`.trimEnd())
  for (const b of a.bids) {
    lines.push(`    #${b.position + 1}  ${money(b.amount, a.currency)}  by ${nameOf(b.bidder)}`)
  }
  if (a.winner) {
    lines.push(
      `  winner:      ${nameOf(a.winner.bidder)} for ${money(a.winner.amount, a.currency)}`
    )
  }
  return lines.join('\n')
}

// Plain output of each control command's result
function result(cmd, res, nameOf) {
  switch (cmd) {
    case 'id':
      return res.name ? `${res.publicKey} (${res.name})` : res.publicKey
    case 'open':
      return `opened ${res.item} for ${money(res.startPrice, res.currency)}\nid ${res.id}`
    case 'bid':
      return (
        `bid of ${res.amount} accepted as bid #${res.position + 1} on ${res.auction}` +
        (res.confirmed ? '' : ' (not yet confirmed: the seller’s signed block has not arrived)')
      )
    case 'close':
      return saleLine(res, nameOf)
    case 'list':
      return res.length === 0 ? 'no auctions' : res.map((a) => auctionLine(a, nameOf)).join('\n')
    case 'show':
      return showAuction(res, nameOf)
    case 'peers':
      return res.length === 0
        ? 'no peers'
        : res.map((p) => `${p.publicKey}${p.name ? '  ' + p.name : ''}`).join('\n')
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

// What a user sees of a failure: one line, and no stack for a coded error
function errorLine(err) {
  if (err instanceof AuctionError) {
    return `error: ${err.code}: ${err.message.replace(err.code + ': ', '')}`
  }
  if (err && typeof err.code === 'string' && /^[A-Z_]+$/.test(err.code)) {
    return `error: ${err.code}: ${err.message}`
  }
  return `error: INTERNAL: ${(err && err.stack) || err}`
}

module.exports = {
  errorLine,
  short,
  time,
  notification,
  result
}
