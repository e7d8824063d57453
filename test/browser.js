const test = require('brittle')
const path = require('path')
const fs = require('fs')
const { freePort, spawnCli } = require('./helpers/processes')
const {
  CHROMIUM,
  hasChromium,
  launchChromium,
  openPage,
  mark,
  notReloaded,
  png
} = require('./helpers/browser-chromium')

const APT = 'apt-get install -y chromium'
const USDT = '0xdAC17F958D2ee523a2206206994597C13D831ec7'
const ready = hasChromium()
const maybe = ready ? test : test.skip
const name = ready
  ? 'the board in Chromium: a seller opens with a picture, a buyer bids, both see the sale live'
  : `the board in Chromium (skipped: no Chromium at ${CHROMIUM}; ${APT})`

// Two daemons, two browser pages, every step by the page's own forms; nothing is reloaded
maybe(name, { timeout: 180000 }, async (t) => {
  const dir = await t.tmp()
  // Under the test's folder, gone after it; HYPERAUCTION_SCREENSHOTS=DIR keeps them
  const shots = process.env.HYPERAUCTION_SCREENSHOTS || path.join(dir, 'screenshots')
  fs.mkdirSync(shots, { recursive: true })
  const shot = async (page, file) => {
    const where = path.join(shots, file)
    await page.screenshot({ path: where, fullPage: true })
    t.comment('screenshot: ' + where)
  }

  const port = await freePort()
  await spawnCli(t, ['bootstrap', '--host', '127.0.0.1', '--port', String(port)], /listening/)
  const seller = await daemon(t, dir, port, 'Seller')
  const buyer = await daemon(t, dir, port, 'Buyer')

  const browser = await launchChromium(t)

  const stranger = await openPage(browser, new URL('/', seller.url).href)
  t.is(stranger.response.status(), 401, 'the board without its token is refused (401)')
  t.ok((await stranger.textContent('body')).includes('UNAUTHORIZED'), 'and says UNAUTHORIZED')
  await stranger.close()

  const a = await openPage(browser, seller.url)
  t.comment(
    `page A: live, its first page of auctions shown, ${await live(a)} ms after it was asked for`
  )
  t.absent(a.url().includes('token='), 'the token is taken out of the address bar')
  const b = await openPage(browser, buyer.url)
  await live(b)
  await mark(a)
  await mark(b)

  await a.waitForSelector('#peer-count:text-is("1 peer")', { timeout: 30000 })
  await b.waitForSelector('#peer-count:text-is("1 peer")', { timeout: 30000 })
  t.is(await a.textContent('#peer-name'), 'Seller', 'page A names its peer')
  t.is(await a.textContent('#peer-key'), seller.key.slice(0, 8), 'and its key prefix')

  // A opens an auction with a picture, through its form
  const picture = path.join(dir, 'pic.png')
  fs.writeFileSync(picture, png(24, 16))
  await a.click('#open-panel summary')
  await a.fill('#open-form [name=item]', 'Pic#1')
  await a.fill('#open-form [name=price]', '75')
  await a.fill('#open-form [name=duration]', '1h')
  await a.fill('#open-form [name=reserve]', '78')
  await a.setInputFiles('#open-form [name=picture]', picture)
  await a.click('#open-form .settlement summary')
  await a.fill('#open-form [name=payTo]', '0x' + '1d'.repeat(20))
  await a.fill('#open-form [name=token]', USDT)
  await a.fill('#open-form [name=chainId]', '1')
  await a.fill('#open-form [name=payWithin]', '1d')
  let started = Date.now()
  await a.click('#open-form button[type=submit]')
  const opened = await result(a, '#open-form')
  t.comment(`page A: its peer answered the open in ${Date.now() - started} ms`)
  started = Date.now()
  t.ok(opened.ok, 'the open form says it opened: ' + opened.text)
  const id = /id ([0-9a-f]{32})/.exec(opened.text)[1]
  const card = `.auction[data-auction-id="${id}"]`

  // B's board shows it as it arrives, picture and all
  await b.waitForSelector(card, { timeout: 30000 })
  t.comment(`page B shows the new auction ${Date.now() - started} ms after A was answered`)
  t.is(await b.textContent(card + ' .item'), 'Pic#1', 'B sees the item')
  t.is(await b.textContent(card + ' .seller .name'), 'Seller', 'with its seller')
  t.is(await b.textContent(card + ' .status'), 'open', 'open')
  t.is(await b.textContent(card + ' .reserve'), 'reserve not met', 'reserve not met yet')
  const left = await b.textContent(card + ' .time-left')
  t.ok(/^(59m|1h)( \d+s)? left$/.test(left), 'the hour left counts down: ' + left)
  const width = await b.waitForFunction(
    (sel) => {
      const img = globalThis.document.querySelector(sel + ' img.picture')
      return img && img.complete && img.naturalWidth > 0 && img.naturalWidth
    },
    card,
    { timeout: 30000 }
  )
  t.is(await width.jsonValue(), 24, 'B shows the picture, fetched from the seller (24 px wide)')
  await shot(b, 'b-board-new-auction.png')

  // B opens the auction and bids through its form; a bid too low shows the peer's error
  await b.click(card + ' a')
  await b.waitForSelector(`#auction-view[data-auction-id="${id}"] #bid-form:not([hidden])`)
  await b.fill('#bid-form [name=amount]', '70')
  await b.click('#bid-form button')
  const low = await result(b, '#bid-form')
  t.ok(low.text.startsWith('BID_TOO_LOW: '), 'a bid below the start price: ' + low.text)
  await b.fill('#bid-form [name=amount]', '80')
  started = Date.now()
  await b.click('#bid-form button')
  const bid = await result(b, '#bid-form')
  t.is(bid.text, 'Bid of 80 accepted as bid #1.', 'B is told its bid was accepted')

  // Both pages show the new leading bid, without a reload
  await a.waitForFunction(
    (sel) => {
      const el = globalThis.document.querySelector(sel + ' .leading-amount')
      return el && el.textContent === '80'
    },
    card,
    { timeout: 30000 }
  )
  t.comment(`page A shows the bid ${Date.now() - started} ms after B submitted it`)
  t.is(await a.textContent(card + ' .leading-bidder .name'), 'Buyer', 'A: leading bid by Buyer')
  t.is(await a.textContent(card + ' .reserve'), 'reserve met', 'A: reserve met')
  t.is(await b.textContent('#auction-detail .leading-amount'), '80', 'B: leading bid 80')
  t.is(await b.textContent('#auction-detail .leading-bidder .name'), 'Buyer (you)', 'B: by itself')

  // A watches the auction: a second bid arrives on top of its list of bids
  await a.click(card + ' a')
  await a.waitForSelector('#bids li.bid[data-position="1"]')
  await b.fill('#bid-form [name=amount]', '85')
  await b.click('#bid-form button')
  t.is((await result(b, '#bid-form')).text, 'Bid of 85 accepted as bid #2.', 'B bids again')
  await a.waitForSelector('#bids li.bid:first-child[data-position="2"]', { timeout: 30000 })
  t.ok(
    (await a.textContent('#bids li.bid:first-child')).includes('85 USDt by Buyer'),
    'A sees the new bid first in the list, as it arrives'
  )
  await shot(a, 'a-auction-two-bids.png')

  // A closes; both pages show the sale
  await a.click('#close-form button')
  const closed = await result(a, '#close-form')
  t.is(closed.text, 'Closed: sold to Buyer for 85', 'A is told it sold')
  await a.waitForSelector('#auction-view[data-status="sold"]')
  await b.waitForSelector('#auction-view[data-status="sold"]', { timeout: 30000 })
  t.is(
    await b.textContent('#auction-detail .leading'),
    `sold to Buyer (you) ${buyer.key.slice(0, 8)} for 85 USDt`,
    'B sees the sale'
  )
  t.ok(await b.isHidden('#bid-form'), 'B can no longer bid')
  t.ok(
    /^85 USDt due from Buyer \(you\) [0-9a-f]{8}, within 23h 59m$/.test(
      await b.textContent('#auction-detail .payment')
    ),
    'B owes the price, within the day the terms give'
  )
  // This daemon has no wallet of its own: paying with it says why, as the peer says it
  await b.click('#pay-wallet')
  const unpaid = await result(b, '#pay-form')
  t.ok(
    !unpaid.ok && /^[A-Z_]+: \S/.test(unpaid.text),
    'the pay form shows the error: ' + unpaid.text
  )
  await shot(b, 'b-auction-sold.png')
  await a.click('#back')
  await a.waitForSelector(card + '[data-status="sold"]')
  t.is(await a.textContent(card + ' .status'), 'sold', 'A: its board shows the auction sold')
  await shot(a, 'a-board-sold.png')

  // Hundreds of auctions: pages of 50, a search by item, a status filter
  for (let i = 0; i < 120; i++) {
    await post(seller, '/api/auctions', { item: 'Lot ' + i, price: '1', duration: 600 + i + 's' })
  }
  await a.waitForSelector('#list-summary:text-is("Auctions 1–50 of 121, ending soonest first")')
  t.is(await a.locator('#auctions .auction').count(), 50, 'A: the first page holds 50 auctions')
  t.is(await a.textContent('#auctions .auction:first-child .item'), 'Lot 0', 'ending soonest first')
  await a.click('#next-page')
  await a.waitForSelector('#page-info:text-is("page 2 of 3")')
  t.is(await a.textContent('#auctions .auction:first-child .item'), 'Lot 50', 'the next page')
  await a.fill('#search', 'lot 11')
  await a.waitForSelector(
    '#list-summary:text-is("Auctions 1–11 of 11 matching, ending soonest first")'
  )
  t.pass('a search finds Lot 11 and Lot 110 to 119, from the first page')
  await a.fill('#search', '')
  await a.selectOption('#status-filter', 'ended')
  await a.waitForSelector(
    '#list-summary:text-is("Auctions 1–1 of 1 matching, ending soonest first")'
  )
  t.is(await a.textContent('#auctions .auction .item'), 'Pic#1', 'the ended ones: only the sale')
  await shot(a, 'a-board-ended.png')

  // B's daemon stops and comes back on its port: the page says so, then shows what it missed
  await b.click('#back')
  await b.waitForSelector('#board-view:not([hidden])')
  buyer.child.kill('SIGTERM')
  await buyer.child.exited
  await b.waitForSelector('#connection:not([data-state="live"])')
  t.pass('B: the page shows the stream is down: ' + (await b.textContent('#connection')))
  await post(seller, '/api/auctions', { item: 'Pic#2', price: '5' })
  const again = await daemon(t, dir, port, 'Buyer', new URL(buyer.url).port)
  t.is(again.url, buyer.url, 'B: the daemon serves the same address and token again')
  await b.waitForSelector('#connection[data-state="live"]', { timeout: 60000 })
  await b.fill('#search', 'pic#2')
  await b.waitForSelector('#auctions .auction .item:text-is("Pic#2")', { timeout: 30000 })
  t.pass('B: live again, it shows the auction opened while its daemon was down')

  t.ok((await notReloaded(a)) && (await notReloaded(b)), 'neither page was reloaded')
  t.alike([...a.errors, ...b.errors], [], 'no script error on either page')
})

// A `hyperauction start` serving the board on 127.0.0.1 (a free port unless given)
async function daemon(t, dir, port, name, webPort = 0) {
  const child = await spawnCli(
    t,
    [
      'start',
      '--storage',
      path.join(dir, name),
      '--bootstrap',
      `127.0.0.1:${port}`,
      '--host',
      '127.0.0.1',
      '--network',
      'board',
      '--name',
      name,
      '--web',
      '127.0.0.1:' + webPort
    ],
    /Ready\./
  )
  t.teardown(
    () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      return child.exited
    },
    { order: -1 }
  )
  const url = /^web: (http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{64})$/m.exec(child.output)
  const key = /hyperauction peer ([0-9a-f]{64})/.exec(child.output)
  if (url === null || key === null) throw new Error('start printed no web URL:\n' + child.output)
  return { child, url: url[1], key: key[1] }
}

// Resolves with the time from the page's request to its board live, its first page shown
async function live(page) {
  await page.waitForSelector('#connection[data-state="live"]')
  await page.waitForSelector('#list-summary:not(:empty)')
  return Date.now() - page.started
}

// A request to the daemon's HTTP API, as the page makes it
async function post(d, route, body) {
  const res = await fetch(new URL(route, d.url), {
    method: 'POST',
    headers: { Authorization: 'Bearer ' + new URL(d.url).searchParams.get('token') },
    body: JSON.stringify(body)
  })
  if (!res.ok) throw new Error(`POST ${route}: ${res.status} ${await res.text()}`)
  return res.json()
}

// What a form says once its request is answered (above the forms if it no longer applies),
// read as it shows at that moment
async function result(page, form) {
  const said = await page.waitForFunction(
    (form) => {
      for (const el of globalThis.document.querySelectorAll(form + ' .result, #action-result')) {
        const done = el.classList.contains('ok') || el.classList.contains('error')
        if (done && el.offsetParent !== null) {
          return { ok: el.classList.contains('ok'), text: el.textContent.trim() }
        }
      }
      return null
    },
    form,
    { timeout: 60000 }
  )
  return said.jsonValue()
}
