'use strict'

// What the board (a script of the page) and the CLI (lib/cli/format.js requires it) say alike

// The peer's notifications about an auction: what the board follows, what the CLI prints with
// the others (lib/cli/format.js NOTIFICATIONS)
const AUCTION_EVENTS = [
  'auction-opened',
  'bid-accepted',
  'outbid',
  'auction-extended',
  'ending-soon',
  'bidder-refused',
  'auction-closed',
  'auction-paid',
  'payment-checked',
  'payment-lapsed',
  'second-chance',
  'offer-accepted',
  'payment-progress'
]

// "2d 3h", "4m 10s", "9s": the two largest units of a duration in ms
function span(ms) {
  const units = [
    ['d', 86400000],
    ['h', 3600000],
    ['m', 60000],
    ['s', 1000]
  ]
  const parts = []
  let rest = Math.max(0, ms)
  for (const [name, size] of units) {
    const n = Math.floor(rest / size)
    rest -= n * size
    if (n > 0 || parts.length > 0) parts.push(n + name)
    if (parts.length === 2) break
  }
  return parts.length === 0 ? '0s' : parts.filter((p) => !p.startsWith('0')).join(' ')
}

// A step of a payment under way, as 'payment-progress' tells it
function progressText(p) {
  switch (p.step) {
    case 'sent':
      return `transfer sent (tx ${p.txHash || p.hash})`
    case 'mined':
      return `transfer mined in block ${p.blockNumber}`
    case 'claimed':
      return `claim sent to the seller (tx ${p.txHash}); waiting for it to verify`
    case 'verified':
      return `the seller verified the payment (block ${p.blockNumber})`
    default:
      return `${p.step}${p.confirmations !== undefined ? ` ${p.confirmations} of ${p.required}` : ''}`
  }
}

if (typeof module !== 'undefined') module.exports = { AUCTION_EVENTS, span, progressText }
