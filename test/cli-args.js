const test = require('brittle')
const { parseDuration, parseBootstrap, parsePort, splitWords } = require('../lib/cli/cli-args')
const format = require('../lib/cli/format')
const AuctionError = require('../lib/errors')
const { codeOf } = require('./helpers')

test('durations', (t) => {
  t.is(parseDuration('90s'), 90000)
  t.is(parseDuration('10m'), 600000)
  t.is(parseDuration('1h30m'), 5400000)
  t.is(parseDuration('2d'), 172800000)
  t.is(parseDuration('250ms'), 250)
  t.is(parseDuration('45'), 45000, 'a bare number is seconds')
  for (const bad of [
    '',
    '0',
    '0s',
    '-5m',
    '1.5h',
    '10 m',
    'm',
    '10x',
    '1h30',
    '366d',
    'x'.repeat(64)
  ]) {
    t.is(
      codeOf(() => parseDuration(bad)),
      'INVALID_DURATION',
      JSON.stringify(bad)
    )
  }
})

test('bootstrap lists and ports', (t) => {
  t.alike(parseBootstrap('127.0.0.1:30001'), [{ host: '127.0.0.1', port: 30001 }])
  t.alike(parseBootstrap('127.0.0.1:1,localhost:2'), [
    { host: '127.0.0.1', port: 1 },
    { host: 'localhost', port: 2 }
  ])
  for (const bad of ['', '127.0.0.1', ':30001', '127.0.0.1:0', '127.0.0.1:70000', 'a:b']) {
    t.is(
      codeOf(() => parseBootstrap(bad)),
      'INVALID_ARGUMENT',
      JSON.stringify(bad)
    )
  }
  t.is(parsePort('0'), 0)
  t.is(
    codeOf(() => parsePort('65536')),
    'INVALID_ARGUMENT'
  )
  t.is(
    codeOf(() => parsePort('12ab')),
    'INVALID_ARGUMENT'
  )
})

test('console lines split like a shell', (t) => {
  t.alike(splitWords('open "Pic #1" 75 USDt'), ['open', 'Pic #1', '75', 'USDt'])
  t.alike(splitWords('open \'a "b"\' 1'), ['open', 'a "b"', '1'])
  t.alike(splitWords('  bid   ab12  80  '), ['bid', 'ab12', '80'])
  t.alike(splitWords(''), [])
})

test('errors print as one coded line without a stack', (t) => {
  t.is(
    format.errorLine(AuctionError.BID_TOO_LOW('Bid must be higher than 80 USDt')),
    'error: BID_TOO_LOW: Bid must be higher than 80 USDt'
  )
  t.is(
    format.errorLine(AuctionError.PEER_NOT_RUNNING('nobody home')),
    'error: PEER_NOT_RUNNING: nobody home'
  )
})

test('plain output names peers and keeps amounts exact', (t) => {
  const names = { aa: 'Client#1', bb: 'Client#2', cc: 'Client#3' }
  const nameOf = (hex) => names[hex] || hex
  const auction = {
    id: '0123',
    item: 'Pic#1',
    seller: 'aa',
    startPrice: '75',
    currency: 'USDt',
    status: 'closed',
    outcome: 'sold',
    createdAt: 0,
    endsAt: null,
    closedAt: 1000,
    terms: { reserve: '78', increment: null, incrementPercent: '5', buyNow: null, softClose: null },
    extensions: 0,
    reserveMet: true,
    minimumBid: null,
    refused: [],
    bidCount: 3,
    highestBid: { bidder: 'bb', amount: '80' },
    winner: { bidder: 'bb', amount: '80' },
    bids: [
      { bidder: 'bb', amount: '75', position: 1 },
      { bidder: 'cc', amount: '75.5', position: 2 },
      { bidder: 'bb', amount: '80', position: 3 }
    ]
  }
  t.is(
    format.result('close', { auction, winner: auction.winner }, nameOf),
    'Pic#1 sold to Client#2 for 80 USDt'
  )
  const shown = format.result('show', auction, nameOf)
  t.ok(shown.includes('#2  75.5 USDt  by Client#3'), 'bids listed with names')
  t.ok(shown.includes('winner:      Client#2 for 80 USDt'))
  t.ok(shown.includes('terms:       reserve 78 USDt, raise at least 5%'), 'terms shown')
  t.ok(format.result('list', [auction], nameOf).includes('[sold to Client#2 for 80 USDt]'))
  t.is(
    format.notification(
      'bid-accepted',
      { auction, bid: { bidder: 'cc', amount: '75.5', position: 2 } },
      nameOf
    ),
    'bid accepted: 75.5 USDt on Pic#1 by Client#3 (bid #2)'
  )
  t.is(format.result('list', [], nameOf), 'no auctions')
})

test('time left is shown as a span, and an open auction past its end as closing', (t) => {
  const now = Date.now()
  t.is(format.span(250000), '4m 10s')
  t.is(format.span(2 * 86400000 + 3 * 3600000 + 5000), '2d 3h')
  t.is(format.span(3600000 + 20000), '1h')
  t.is(format.timeLeft({ status: 'open', endsAt: now + 61000 }, now), 'ends in 1m 1s')
  t.is(format.timeLeft({ status: 'open', endsAt: now - 1 }, now), 'ended, closing')
  t.is(format.timeLeft({ status: 'closed', endsAt: now + 1000 }, now), '')
})
