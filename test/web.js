const test = require('brittle')
const fs = require('fs')
const path = require('path')
const http = require('http')
const net = require('net')
const { EventEmitter } = require('events')
const WebServer = require('../lib/web/server')
const { runCommand } = require('../lib/cli/commands')
const { createBootstrap, createPeer, createPeers, everywhere, until } = require('./helpers')
const { freePort, spawnCli, runCli, runJson } = require('./helpers/processes')

const CSP =
  "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; connect-src 'self'"
// The smallest PNG: one transparent pixel
const PIXEL = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64'
)

// The board of a peer, closed before the peer; api() asks it with its token unless told
async function board(t, peer, opts = {}) {
  const web = new WebServer(peer, peer.storage, opts.ctx, { port: 0, ...opts })
  await web.listen()
  t.teardown(() => web.close(), { order: -1 })
  const api = (method, url, body, extra = {}) =>
    request(web.port, {
      method,
      path: url,
      body: body === undefined ? undefined : JSON.stringify(body),
      token: web.token,
      ...extra
    })
  return { web, api }
}

// One HTTP request to 127.0.0.1:port: { status, headers, text, json }
function request(port, { method = 'GET', path: url = '/', body, token, headers = {}, chunked }) {
  return new Promise((resolve, reject) => {
    const all = { ...headers }
    if (token) all.authorization = 'Bearer ' + token
    const req = http.request(
      { host: '127.0.0.1', port, method, path: url, headers: all },
      (res) => {
        const chunks = []
        res.on('data', (chunk) => chunks.push(chunk))
        res.on('end', () => {
          const raw = Buffer.concat(chunks)
          const text = raw.toString('utf-8')
          let json = null
          try {
            json = JSON.parse(text)
          } catch {
            json = null
          }
          resolve({ status: res.statusCode, headers: res.headers, raw, text, json })
        })
      }
    )
    req.on('error', reject)
    if (chunked) {
      // No length said first: the server finds the size as the body comes
      const piece = Buffer.alloc(64 * 1024, 'x')
      let sent = 0
      const more = () => {
        while (sent < chunked) {
          sent += piece.length
          if (!req.write(piece)) return req.once('drain', more)
        }
        req.end()
      }
      req.on('error', () => {})
      return more()
    }
    req.end(body)
  })
}

// A client of /api/events: the events as they come, parsed; next(name, filter) resolves with the
// first one of that name (already received or to come)
function eventStream(t, port, url) {
  const stream = new EventEmitter()
  stream.events = []
  stream.status = new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: url }, (res) => {
      resolve(res.statusCode)
      res.setEncoding('utf-8')
      let buffered = ''
      res.on('data', (chunk) => {
        buffered += chunk
        let end
        while ((end = buffered.indexOf('\n\n')) !== -1) {
          const block = buffered.slice(0, end)
          buffered = buffered.slice(end + 2)
          const name = /^event: (.*)$/m.exec(block)
          const data = /^data: (.*)$/m.exec(block)
          if (name === null) continue
          const evt = { event: name[1], data: JSON.parse(data[1]) }
          stream.events.push(evt)
          stream.emit('event', evt)
        }
      })
      res.on('end', () => stream.emit('end'))
    })
    req.on('error', reject)
    stream.close = () => req.destroy()
    t.teardown(() => req.destroy())
  })
  stream.next = (name, filter = () => true, timeout = 10000) =>
    new Promise((resolve, reject) => {
      const seen = stream.events.find((e) => e.event === name && filter(e.data))
      if (seen) return resolve(seen.data)
      const timer = setTimeout(() => {
        stream.off('event', onevent)
        reject(new Error(`Timed out waiting for ${name} on the event stream`))
      }, timeout)
      const onevent = (e) => {
        if (e.event !== name || !filter(e.data)) return
        clearTimeout(timer)
        stream.off('event', onevent)
        resolve(e.data)
      }
      stream.on('event', onevent)
    })
  return stream
}

test('the board needs its token on the page, its files, the API and the stream', async (t) => {
  const testnet = await createBootstrap(t)
  const peer = await createPeer(t, testnet, { name: 'Alice' })
  const site = path.join(await t.tmp(), 'site')
  fs.mkdirSync(site)
  fs.writeFileSync(
    path.join(site, 'index.html'),
    '<script src="/static/app.js"></script><link rel="stylesheet" href="static/app.css?v=2">'
  )
  fs.writeFileSync(path.join(site, 'app.js'), 'console.log(1)')
  fs.writeFileSync(path.join(site, 'app.css'), 'body {}')
  fs.writeFileSync(path.join(site, '.secret.js'), 'no')
  const { web, api } = await board(t, peer, { static: site })
  const token = web.token
  const port = web.port

  t.ok(/^[0-9a-f]{64}$/.test(token), 'the token is 64 hex characters')
  t.is(web.url, `http://127.0.0.1:${port}/?token=${token}`)
  const dir = path.join(peer.storage, 'control')
  t.is(fs.statSync(dir).mode & 0o777, 0o700, 'its folder is for the user only')
  t.is(fs.statSync(path.join(dir, 'web-token')).mode & 0o777, 0o600, 'and so is its file')
  t.is(fs.readFileSync(path.join(dir, 'web-token'), 'utf-8').trim(), token)

  for (const url of ['/', '/static/app.js', '/api/id', '/api/status', '/api/nowhere']) {
    const none = await request(port, { path: url })
    t.is(none.status, 401, `${url} without the token: 401`)
    t.is(none.json.error.code, 'UNAUTHORIZED')
    const wrong = await request(port, { path: url, token: 'f'.repeat(64) })
    t.is(wrong.status, 401, `${url} with a wrong token: 401`)
    const short = await request(port, { path: url + '?token=' + token.slice(0, 63) })
    t.is(short.status, 401, `${url} with a token cut short: 401`)
  }
  for (const url of ['/api/events', '/api/events?token=' + 'a'.repeat(64)]) {
    const stream = eventStream(t, port, url)
    t.is(await stream.status, 401, `${url}: the stream is refused`)
  }

  const page = await request(port, { path: '/?token=' + token })
  t.is(page.status, 200)
  t.is(page.headers['content-type'], 'text/html; charset=utf-8')
  t.is(
    page.text,
    `<script src="/static/app.js?token=${token}"></script><link rel="stylesheet" href="static/app.css?v=2&token=${token}">`,
    'the page links its own files with the token'
  )
  t.is(page.headers['content-security-policy'], CSP)
  t.is(page.headers['x-content-type-options'], 'nosniff')
  t.is(page.headers['referrer-policy'], 'no-referrer')
  const [setCookie] = page.headers['set-cookie']
  const cookie = setCookie.split(';')[0]
  t.ok(
    new RegExp(`^hyperauction-token-${port}=[0-9a-f]{64}; HttpOnly; SameSite=Strict; Path=/$`).test(
      setCookie
    ),
    'the page sets a cookie for this board’s port'
  )
  t.absent(setCookie.includes(token), 'which is not the token')
  const reload = await request(port, { path: '/', headers: { cookie: 'a=b; ' + cookie } })
  t.is(reload.status, 200, 'so that a reload, without the token in the address, gets the page')
  t.absent(reload.text.includes(token), 'whose links then carry no token')
  const viaCookie = await request(port, { path: '/static/app.js', headers: { cookie } })
  t.is(viaCookie.status, 200, 'and its files')
  const apiCookie = await request(port, { path: '/api/id', headers: { cookie } })
  t.is(apiCookie.status, 401, 'but the API still needs the token itself')
  const tokenCookie = await request(port, {
    path: '/',
    headers: { cookie: `hyperauction-token-${port}=${token}` }
  })
  t.is(tokenCookie.status, 401, 'and the token itself is no page cookie')
  const otherPort = await request(port, {
    path: '/',
    headers: { cookie: cookie.replace(`-${port}=`, `-${port + 1}=`) }
  })
  t.is(otherPort.status, 401, 'and another board’s cookie is not this one’s')

  const js = await request(port, { path: `/static/app.js?token=${token}` })
  t.is(js.status, 200)
  t.is(js.headers['content-type'], 'text/javascript; charset=utf-8')
  t.is(js.text, 'console.log(1)')
  const css = await request(port, { path: `/static/app.css?token=${token}` })
  t.is(css.headers['content-type'], 'text/css; charset=utf-8')
  for (const url of [
    '/static/..%2fserver.js',
    '/static/%2e%2e/%2e%2e/server.js',
    '/static/../token.js',
    '/static/.secret.js',
    '/static/app.exe',
    '/static/missing.js'
  ]) {
    const res = await request(port, { path: url, token })
    t.is(res.status, 404, `${url}: not served`)
  }

  const id = await api('GET', '/api/id')
  t.is(id.status, 200)
  t.alike(id.json, { publicKey: peer.id, name: 'Alice' }, 'with the token as a Bearer header')
  t.is(id.headers['cache-control'], 'no-store')
  t.is(id.headers['content-type'], 'application/json; charset=utf-8')
  const byQuery = await request(port, { path: '/api/id?token=' + token })
  t.is(byQuery.json.publicKey, peer.id, 'or in the query')
  const status = await api('GET', '/api/status')
  t.is(status.json.web, web.url, 'status says where the board is')
  t.is(status.json.publicKey, peer.id)
  const peers = await api('GET', '/api/peers')
  t.alike(peers.json, [], 'peers: the peers command’s array')

  const again = new WebServer(peer, peer.storage, null, { port: 0 })
  await again.listen()
  t.is(again.token, token, 'a second start keeps the token')
  await again.close()
})

test('open, bid and close through the API; another peer’s event stream tells each', async (t) => {
  const { peers } = await createPeers(t, 2)
  const [alice, bob] = peers
  const a = await board(t, alice)
  const b = await board(t, bob)
  const baseline = bob.listenerCount('bid-accepted')

  const stream = eventStream(t, b.web.port, `/api/events?token=${b.web.token}`)
  t.is(await stream.status, 200)
  const watching = await stream.next('watching')
  t.alike(watching, { publicKey: bob.id, name: 'Client#2' }, 'the stream says first it is live')

  const opened = await a.api('POST', '/api/auctions', {
    item: 'Pic#1',
    price: '75',
    duration: '10m',
    increment: '1'
  })
  t.is(opened.status, 200)
  t.is(opened.json.item, 'Pic#1')
  t.is(opened.json.startPrice, '75')
  t.ok(opened.json.endsAt - opened.json.createdAt === 10 * 60 * 1000, 'duration "10m"')
  const id = opened.json.id
  const heard = await stream.next('auction-opened', (d) => d.id === id)
  t.is(heard.item, 'Pic#1', 'Bob’s stream: auction-opened')

  const bid = await b.api('POST', `/api/auctions/${id.slice(0, 8)}/bid`, { amount: '80' })
  t.is(bid.status, 200, 'a bid by id prefix')
  t.is(bid.json.amount, '80')
  t.is(bid.json.position, 1)
  const accepted = await stream.next('bid-accepted', (d) => d.auction.id === id)
  t.is(accepted.bid.amount, '80', 'Bob’s stream: bid-accepted')

  const low = await b.api('POST', `/api/auctions/${id}/bid`, { amount: '80.5' })
  t.is(low.status, 400, 'a bid under the increment: 400')
  t.is(low.json.error.code, 'BID_TOO_LOW')
  t.ok(low.json.error.message.length > 0 && !low.json.error.message.startsWith('BID_TOO_LOW'))

  const own = await a.api('POST', `/api/auctions/${id}/bid`, { amount: '90' })
  t.is(own.json.error.code, 'OWN_AUCTION')
  const notSeller = await b.api('POST', `/api/auctions/${id}/close`, {})
  t.is(notSeller.status, 400)
  t.is(notSeller.json.error.code, 'NOT_SELLER')

  const sale = await a.api('POST', `/api/auctions/${id}/close`)
  t.is(sale.status, 200)
  t.alike(sale.json.winner, { bidder: bob.id, amount: '80' })
  const closed = await stream.next('auction-closed', (d) => d.auction.id === id)
  t.alike(closed.winner, { bidder: bob.id, amount: '80' }, 'Bob’s stream: auction-closed')
  t.alike(
    stream.events.map((e) => e.event).filter((e) => !e.startsWith('peer-')),
    ['watching', 'auction-opened', 'bid-accepted', 'auction-closed'],
    'in order'
  )

  const shown = await b.api('GET', `/api/auctions/${id}`)
  t.is(shown.json.status, 'closed', 'Bob shows the sale')
  t.alike(
    shown.json.bids.map((x) => [x.bidder, x.amount]),
    [[bob.id, '80']]
  )

  const unknown = await b.api('GET', '/api/auctions/' + '0'.repeat(32))
  t.is(unknown.status, 404, 'an unknown auction: 404')
  t.is(unknown.json.error.code, 'AUCTION_NOT_FOUND')
  const noPrefix = await b.api('POST', '/api/auctions/abcdef12/bid', { amount: '1' })
  t.is(noPrefix.status, 404)
  const badId = await b.api('GET', '/api/auctions/not-hex')
  t.is(badId.status, 400)
  t.is(badId.json.error.code, 'INVALID_ID')

  t.ok(bob.listenerCount('bid-accepted') > baseline, 'the stream listens while open')
  stream.close()
  await until(
    () => bob.listenerCount('bid-accepted') === baseline,
    5000,
    'the listeners to go with the client'
  )
  t.pass('its listeners are removed when the client goes')
})

test('the list pages, searches and sorts', async (t) => {
  const testnet = await createBootstrap(t)
  const peer = await createPeer(t, testnet)
  const { api } = await board(t, peer)
  const opened = []
  const open = async (item, duration) => {
    const res = await api('POST', '/api/auctions', { item, price: '10', duration })
    opened.push(res.json)
    return res.json.id
  }
  const red = await open('Red chair', '10m')
  const blue = await open('Blue chair', '5m')
  const lamp = await open('Lamp')
  const old = await open('Old chair')
  const vase = await open('Vase', '1h')
  // Openings in one millisecond are in the order of their ids
  const oldest = opened
    .sort((x, y) => x.createdAt - y.createdAt || (x.id < y.id ? -1 : 1))
    .map((a) => a.id)
  t.is((await api('POST', `/api/auctions/${old}/cancel`, {})).json.outcome, 'cancelled')

  const ids = (res) => res.json.auctions.map((a) => a.id)
  const all = await api('GET', '/api/auctions')
  t.is(all.status, 200)
  t.is(all.json.total, 5)
  t.is(all.json.offset, 0)
  t.is(all.json.limit, 50, '50 by default')
  t.alike(
    ids(all),
    [blue, red, vase, lamp, old],
    'ending: open ones ending soonest first, then no end, then ended'
  )
  t.ok(
    all.json.auctions.every((a) => Array.isArray(a.bids)),
    'each auction as list gives it'
  )

  const chairs = await api('GET', '/api/auctions?q=CHAIR')
  t.alike(ids(chairs), [blue, red, old], 'q: the item contains it, in any case')
  t.is(chairs.json.total, 3)
  t.alike(ids(await api('GET', '/api/auctions?status=open')), [blue, red, vase, lamp])
  t.alike(ids(await api('GET', '/api/auctions?status=ended')), [old])
  t.alike(ids(await api('GET', '/api/auctions?status=all&q=lamp')), [lamp])
  t.alike(ids(await api('GET', '/api/auctions?sort=newest')), [...oldest].reverse(), 'newest first')

  const page = await api('GET', '/api/auctions?offset=2&limit=2')
  t.alike(ids(page), [vase, lamp], 'a page')
  t.alike([page.json.total, page.json.offset, page.json.limit], [5, 2, 2])
  const last = await api('GET', '/api/auctions?offset=4&limit=2')
  t.alike(ids(last), [old], 'the last page')
  t.is((await api('GET', '/api/auctions?limit=1000')).json.limit, 200, 'at most 200')

  for (const query of ['status=closed', 'sort=price', 'offset=-1', 'limit=0', 'limit=x']) {
    const bad = await api('GET', '/api/auctions?' + query)
    t.is(bad.status, 400, `${query}: 400`)
    t.is(bad.json.error.code, 'INVALID_ARGUMENT')
  }

  const cli = await runCommand(peer, 'list', {}, {})
  t.ok(Array.isArray(cli), 'the CLI’s list is still every auction, oldest first')
  t.alike(
    cli.map((a) => a.id),
    oldest
  )
})

test('errors carry their code and HTTP status', async (t) => {
  const testnet = await createBootstrap(t)
  const peer = await createPeer(t, testnet)
  const ctx = { storage: peer.storage, startedAt: Date.now() }
  const { web, api } = await board(t, peer, { ctx })
  const { id } = (await api('POST', '/api/auctions', { item: 'Pic#1', price: '75' })).json

  const expect = (res, status, code, what) => {
    t.is(res.status, status, `${what}: ${status}`)
    t.is(res.json && res.json.error.code, code, `${what}: ${code}`)
    return res
  }
  const raw = (method, url, body) =>
    request(web.port, { method, path: url, body, token: web.token })
  await expect(
    await raw('POST', `/api/auctions/${id}/bid`, '{"amount":'),
    400,
    'BAD_REQUEST',
    'bad JSON'
  )
  await expect(await raw('POST', `/api/auctions/${id}/bid`, '[1]'), 400, 'BAD_REQUEST', 'an array')
  await expect(
    await raw('POST', `/api/auctions/${id}/bid`, JSON.stringify({ amount: 'x'.repeat(65 * 1024) })),
    413,
    'PAYLOAD_TOO_LARGE',
    'a body over 64 KiB'
  )
  await expect(
    await raw('POST', '/api/auctions', 'x'.repeat(4 * 1024 * 1024 + 1)),
    413,
    'PAYLOAD_TOO_LARGE',
    'an opening over 4 MiB'
  )
  await expect(
    await request(web.port, {
      method: 'POST',
      path: '/api/auctions',
      token: web.token,
      chunked: 5 * 1024 * 1024
    }),
    413,
    'PAYLOAD_TOO_LARGE',
    'an opening over 4 MiB with no length given'
  )
  const picture = (data) => ({ item: 'Pic#2', price: '1', picture: { type: 'image/png', data } })
  await expect(
    await api('POST', '/api/auctions', picture('not base64!')),
    400,
    'INVALID_ARGUMENT',
    'a picture not in base64'
  )
  await expect(
    await api(
      'POST',
      '/api/auctions',
      picture(Buffer.alloc(2 * 1024 * 1024 + 1).toString('base64'))
    ),
    413,
    'PAYLOAD_TOO_LARGE',
    'a picture over 2 MiB'
  )
  await expect(
    await api('POST', '/api/auctions', { item: 'Pic#3', price: '1', duration: 'soon' }),
    400,
    'INVALID_DURATION',
    'a duration that is none'
  )
  await expect(
    await api('POST', '/api/auctions', { item: 'Pic#3', price: '-1' }),
    400,
    'INVALID_AMOUNT',
    'a negative price'
  )
  await expect(await api('GET', '/api/nowhere'), 404, 'NOT_FOUND', 'an unknown route')
  await expect(await api('GET', '/nowhere'), 404, 'NOT_FOUND', 'an unknown page')
  const method = await expect(
    await api('DELETE', '/api/auctions'),
    405,
    'METHOD_NOT_ALLOWED',
    'a wrong method'
  )
  t.is(method.headers.allow, 'GET, POST')
  await expect(await api('GET', `/api/auctions/${id}/bid`), 405, 'METHOD_NOT_ALLOWED', 'GET a bid')

  const seed = await expect(
    await api('POST', `/api/auctions/${id}/pay`, { seed: 'test test test' }),
    400,
    'INVALID_ARGUMENT',
    'a seed sent over HTTP'
  )
  t.ok(seed.json.error.message.includes('not taken over HTTP'), 'is refused, saying why')
  await expect(
    await api('POST', `/api/auctions/${id}/pay`, { walletFile: '/etc/passwd' }),
    400,
    'INVALID_ARGUMENT',
    'a wallet file named over HTTP'
  )
  const noWallet = await expect(
    await api('POST', `/api/auctions/${id}/pay`, {}),
    400,
    'INVALID_ARGUMENT',
    'pay with no wallet anywhere'
  )
  t.ok(noWallet.json.error.message.includes('--wallet-file'), 'says how to give one')
  ctx.walletSeed = 'test test test test test test test test test test test junk'
  await expect(
    await api('POST', `/api/auctions/${id}/pay`, {}),
    400,
    'NO_SETTLEMENT',
    'pay {} with the daemon’s wallet reaches the peer'
  )
})

test('the board answers only under its own address unless public', async (t) => {
  const testnet = await createBootstrap(t)
  const peer = await createPeer(t, testnet)
  const guarded = await board(t, peer)
  const open = await board(t, peer, { public: true })
  const ask = (web, host) =>
    request(web.port, { path: '/api/id', token: web.token, headers: { host } })

  const rebound = await ask(guarded.web, `evil.example:${guarded.web.port}`)
  t.is(rebound.status, 403, 'another name for this address: 403')
  t.is(rebound.json.error.code, 'FORBIDDEN_HOST')
  t.is((await ask(guarded.web, `127.0.0.1:${guarded.web.port + 1}`)).status, 403, 'another port')
  t.is((await ask(guarded.web, `127.0.0.1:${guarded.web.port}`)).status, 200)
  t.is((await ask(guarded.web, `localhost:${guarded.web.port}`)).status, 200, 'localhost too')
  t.is((await ask(open.web, `evil.example:${open.web.port}`)).status, 200, 'public: any name')
})

test('closing the board ends its event streams', async (t) => {
  const testnet = await createBootstrap(t)
  const peer = await createPeer(t, testnet)
  const baseline = peer.listenerCount('auction-opened')
  const { web } = await board(t, peer)
  const stream = eventStream(t, web.port, `/api/events?token=${web.token}`)
  await stream.next('watching')
  const ended = new Promise((resolve) => stream.once('end', resolve))
  await web.close()
  await ended
  t.pass('the stream ends when the board closes')
  t.is(peer.listenerCount('auction-opened'), baseline, 'and listens no more')
})

test(
  'start --web serves the board from a real peer process, with one token kept',
  { timeout: 90000 },
  async (t) => {
    const port = await freePort()
    await spawnCli(
      t,
      ['bootstrap', '--host', '127.0.0.1', '--port', String(port)],
      /listening on 127\.0\.0\.1:/
    )
    const storage = path.join(await t.tmp(), 'alice')
    const args = [
      'start',
      '--storage',
      storage,
      '--bootstrap',
      `127.0.0.1:${port}`,
      '--host',
      '127.0.0.1',
      '--web',
      '127.0.0.1:0'
    ]
    const started = async () => {
      const peer = await spawnCli(t, args, /Ready\./)
      const lines = peer.output.split('\n').filter((line) => line.startsWith('web: '))
      t.is(lines.length, 1, 'start prints one web: line')
      const url = new URL(lines[0].slice(5))
      return { peer, url, port: Number(url.port), token: url.searchParams.get('token') }
    }

    const first = await started()
    t.ok(/^http:\/\/127\.0\.0\.1:[1-9][0-9]*\/\?token=[0-9a-f]{64}$/.test(first.url.href))
    t.ok(
      first.peer.output.indexOf('control socket:') < first.peer.output.indexOf('web: '),
      'after the header lines'
    )
    const none = await request(first.port, { path: '/api/id' })
    t.is(none.status, 401, 'no token: 401')
    t.is(none.json.error.code, 'UNAUTHORIZED')
    const id = await request(first.port, { path: '/api/id', token: first.token })
    t.is(id.status, 200)
    t.alike(id.json, await runJson(['id', '--storage', storage]), 'the peer’s id, as JSON')
    const status = await runJson(['status', '--storage', storage])
    t.is(status.web, first.url.href, 'status --json has the board’s URL')

    first.peer.kill('SIGTERM')
    t.is((await first.peer.exited).code, 0, 'exits 0 with the board open')

    const second = await started()
    t.is(second.token, first.token, 'the next start keeps the token')
    second.peer.kill('SIGTERM')
    t.is((await second.peer.exited).code, 0)
  }
)

test(
  'start refuses a --web it cannot serve, with one coded line',
  { timeout: 60000 },
  async (t) => {
    const dir = await t.tmp()
    const bootstrap = `127.0.0.1:${await freePort()}`
    const start = (name, ...flags) =>
      runCli([
        'start',
        '--storage',
        path.join(dir, name),
        '--bootstrap',
        bootstrap,
        '--host',
        '127.0.0.1',
        ...flags
      ])
    const errorOf = (res) => {
      t.is(res.code, 1, 'exit 1')
      return res.stderr.trim().split('\n').pop()
    }

    t.is(
      errorOf(await start('a', '--web', '0.0.0.0:8080')),
      'error: INVALID_ARGUMENT: --web 0.0.0.0:8080: other hosts could reach the board there; add --web-public to serve it anyway, or serve 127.0.0.1',
      'a host other machines reach needs --web-public'
    )
    t.is(
      errorOf(await start('b', '--web', 'board')),
      'error: INVALID_ARGUMENT: --web "board" is not [HOST:]PORT, like 8080 or 127.0.0.1:8080'
    )
    t.is(
      errorOf(await start('c', '--web', '127.0.0.1:70000')),
      'error: INVALID_ARGUMENT: --web "127.0.0.1:70000" is not [HOST:]PORT, like 8080 or 127.0.0.1:8080'
    )
    t.is(
      errorOf(await start('d', '--web-public')),
      'error: INVALID_ARGUMENT: --web-public goes with --web [HOST:]PORT'
    )

    const server = net.createServer()
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
    t.teardown(() => new Promise((resolve) => server.close(resolve)))
    const busy = server.address().port
    const res = await start('e', '--web', `127.0.0.1:${busy}`)
    t.is(errorOf(res), `error: PORT_IN_USE: 127.0.0.1:${busy} is in use`, 'a port in use')
    t.absent(fs.existsSync(path.join(dir, 'e', 'control.sock')), 'and nothing is left running')
  }
)

test('a picture given to the API is served by another peer', async (t) => {
  const { peers } = await createPeers(t, 2)
  const [alice, bob] = peers
  const a = await board(t, alice)
  const b = await board(t, bob)
  const stream = eventStream(t, b.web.port, `/api/events?token=${b.web.token}`)
  await stream.next('watching')

  const opened = await a.api('POST', '/api/auctions', {
    item: 'Pic#1',
    price: '75',
    picture: { type: 'image/png', data: PIXEL.toString('base64') }
  })
  t.is(opened.status, 200)
  const id = opened.json.id
  await stream.next('auction-opened', (d) => d.id === id)

  const got = await b.api('GET', `/api/auctions/${id}/picture`)
  t.is(got.status, 200)
  t.is(got.headers['content-type'], 'image/png')
  t.alike(got.raw, PIXEL, 'the same bytes, fetched from the seller')

  const plain = await a.api('POST', '/api/auctions', { item: 'Pic#2', price: '1' })
  const none = await a.api('GET', `/api/auctions/${plain.json.id}/picture`)
  t.is(none.status, 404)
  t.is(none.json.error.code, 'NO_PICTURE')
})

test('a seller blocks and unblocks a bidder through the API, by its name', async (t) => {
  const { peers } = await createPeers(t, 2)
  const [alice, bob] = peers
  const a = await board(t, alice)
  const b = await board(t, bob)
  const opened = await a.api('POST', '/api/auctions', { item: 'Lamp', price: '10' })
  const id = opened.json.id
  await everywhere([bob], id)

  const blocked = await a.api('POST', '/api/blocked', { bidder: 'Client#2' })
  t.is(blocked.status, 200)
  t.is(blocked.json.bidder, bob.id, 'the name of a known peer names its key')
  t.ok(blocked.json.changed)
  t.alike((await a.api('GET', '/api/blocked')).json, [bob.id], 'the list has it')
  const refused = await b.api('POST', `/api/auctions/${id}/bid`, { amount: '11' })
  t.is(refused.status, 400)
  t.is(refused.json.error.code, 'BIDDER_BLOCKED', 'its bids are refused with a code')
  const unknown = await a.api('POST', '/api/blocked', { bidder: 'Nobody' })
  t.is(unknown.json.error.code, 'INVALID_ARGUMENT', 'an unknown name is refused')

  const lifted = await a.api('DELETE', `/api/blocked/${bob.id.slice(0, 8)}`)
  t.is(lifted.status, 200)
  t.is(lifted.json.blocked, false, 'a prefix of a blocked key lifts the block')
  const bid = await b.api('POST', `/api/auctions/${id}/bid`, { amount: '11' })
  t.is(bid.status, 200, 'and the bidder bids again')
})
