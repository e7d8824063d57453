/* eslint-env browser */
/* global history, FileReader, EventSource, CSS, AUCTION_EVENTS, span, progressText */
'use strict'

// The live board of one hyperauction peer: everything goes through its HTTP API (docs/api.md),
// with the token the peer printed. Amounts are the API's decimal strings, shown as given.

const TOKEN_KEY = 'hyperauction-token'
const PAGE_SIZE = 50
const KEY_PREFIX = 8
const RETRY_MAX = 15000
const NOTICE_TIME = 10000

const token = takeToken()

const state = {
  me: { publicKey: '', name: '' },
  names: new Map(),
  connected: new Set(),
  counts: null,
  q: '',
  status: 'all',
  offset: 0,
  total: 0,
  cards: new Map(),
  listSeq: 0,
  listTimer: null,
  boardStale: false,
  detail: null,
  shownBids: new Set(),
  fetching: new Map(),
  stream: null,
  retry: 0,
  retryTimer: null
}

// Answers about one auction may come back out of order: only a newer request's is drawn
let fetchSeq = 0
const drawnSeq = new Map()

const $ = (id) => document.getElementById(id)

// The token comes once in the address the peer printed; it is kept for this tab only and taken
// out of the address bar, so that it does not end up in a screenshot or a shared link
function takeToken() {
  const url = new URL(location.href)
  const given = url.searchParams.get('token')
  if (given) {
    sessionStorage.setItem(TOKEN_KEY, given)
    url.searchParams.delete('token')
    history.replaceState(history.state, '', url.pathname + url.search + url.hash)
  }
  return given || sessionStorage.getItem(TOKEN_KEY) || ''
}

function withToken(path) {
  return path + (path.includes('?') ? '&' : '?') + 'token=' + encodeURIComponent(token)
}

class ApiError extends Error {
  constructor(code, message, status) {
    super(message)
    this.code = code
    this.status = status
  }
}

async function api(path, { method = 'GET', body } = {}) {
  const init = { method, headers: { Authorization: 'Bearer ' + token }, cache: 'no-store' }
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json'
    init.body = JSON.stringify(body)
  }
  let res
  try {
    res = await fetch(path, init)
  } catch (err) {
    throw new ApiError('UNREACHABLE', `The peer cannot be reached (${err.message})`, 0)
  }
  const text = await res.text()
  let json = null
  if (text.length > 0) {
    try {
      json = JSON.parse(text)
    } catch (err) {
      if (res.ok) throw new ApiError('BAD_RESPONSE', 'The peer answered something not JSON', 0)
    }
  }
  if (!res.ok) {
    const e = (json && json.error) || {}
    throw new ApiError(e.code || 'HTTP_' + res.status, e.message || res.statusText, res.status)
  }
  return json
}

function auctionPath(id, action = '') {
  return '/api/auctions/' + encodeURIComponent(id) + (action ? '/' + action : '')
}

// DOM

function h(tag, attrs, ...children) {
  const el = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue
    if (name === 'class') el.className = value
    else if (name === 'hidden') el.hidden = true
    else el.setAttribute(name, value === true ? '' : String(value))
  }
  append(el, children)
  return el
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue
    el.append(typeof child === 'string' ? document.createTextNode(child) : child)
  }
}

function shortKey(key) {
  return key.slice(0, KEY_PREFIX)
}

// A peer by its name (when known) and the first hex digits of its key
function who(key, cls = '') {
  return h(
    'span',
    { class: ('who ' + cls).trim(), 'data-key': key, title: key },
    h('span', { class: 'name' }, nameText(key)),
    ' ',
    h('code', { class: 'key' }, shortKey(key))
  )
}

function nameText(key) {
  const name = state.names.get(key) || ''
  if (key === state.me.publicKey) return name ? name + ' (you)' : 'you'
  return name
}

// A name learned later shows wherever the key is already on screen
function renameAll(key) {
  for (const el of document.querySelectorAll('.who[data-key="' + CSS.escape(key) + '"] .name')) {
    el.textContent = nameText(key)
  }
}

function money(amount, currency, cls = 'amount') {
  return h('span', { class: 'money' }, h('span', { class: cls }, amount), ' ', currency)
}

function when(ms) {
  return new Date(ms).toLocaleString()
}

function statusOf(a) {
  if (a.status === 'open') return 'open'
  return a.outcome && a.outcome !== 'open' ? a.outcome : 'closed'
}

function timeLeftText(endsAt, now = Date.now()) {
  return endsAt > now ? span(endsAt - now) + ' left' : 'ended, closing…'
}

function timeLeft(a) {
  if (a.status !== 'open') return null
  if (!a.endsAt) return h('span', { class: 'time-left no-end' }, 'no end')
  return h('span', { class: 'time-left', 'data-ends-at': a.endsAt }, timeLeftText(a.endsAt))
}

function statusBadge(a) {
  const s = statusOf(a)
  return h('span', { class: 'status status-' + s, 'data-status': s }, s)
}

function reserveBadge(a) {
  if (a.reserveMet === null || a.reserveMet === undefined) return null
  return h(
    'span',
    { class: 'reserve ' + (a.reserveMet ? 'reserve-met' : 'reserve-not-met') },
    a.reserveMet ? 'reserve met' : 'reserve not met'
  )
}

function disputeBadge(a) {
  const badges = []
  if (a.disputed) {
    badges.push(
      h(
        'span',
        { class: 'disputed', title: 'The seller signed two histories of its log' },
        'DISPUTED'
      )
    )
  }
  if (a.payment && a.payment.verified === 'disputed') {
    badges.push(
      h(
        'span',
        { class: 'disputed payment-disputed', title: a.payment.verifyError || '' },
        'payment DISPUTED'
      )
    )
  }
  return badges
}

// The leading bid while open, the sale once closed
function leading(a) {
  const p = (...children) => h('p', { class: 'leading' }, ...children)
  const s = statusOf(a)
  if (s === 'sold' && a.winner) {
    return p(
      'sold to ',
      who(a.winner.bidder, 'leading-bidder'),
      ' for ',
      money(a.winner.amount, a.currency, 'amount leading-amount')
    )
  }
  if (s === 'cancelled') return p('cancelled by the seller')
  if (a.highestBid) {
    return p(
      s === 'open' ? 'leading ' : 'unsold: highest ',
      money(a.highestBid.amount, a.currency, 'amount leading-amount'),
      ' by ',
      who(a.highestBid.bidder, 'leading-bidder'),
      s === 'open' ? null : ', the reserve was not met'
    )
  }
  return p(s === 'open' ? 'no bids yet' : 'unsold: no bids')
}

const VERIFIED = {
  verified: 'verified on a chain endpoint',
  'seller-record': 'the seller’s record, not checked here',
  disputed: 'DISPUTED by this peer’s check'
}

function paymentLine(a) {
  const p = a.payment
  if (!p) return null
  const line = (...children) => h('span', { class: 'payment payment-' + p.status }, ...children)
  switch (p.status) {
    case 'paid':
      return line(
        'paid, ',
        money(p.amount, a.currency),
        ' by ',
        who(p.buyer),
        ` (tx ${p.txHash}, block ${p.blockNumber}; ${VERIFIED[p.verified] || p.verified}` +
          (p.verifyError ? ': ' + p.verifyError : '') +
          ')'
      )
    case 'due':
      return line(
        money(p.amount, a.currency),
        ' due from ',
        who(p.buyer),
        ', ',
        h('span', { 'data-due-at': p.dueAt }, dueText(p.dueAt))
      )
    case 'offered':
      return line(
        'second chance offered to ',
        who(p.offer.bidder),
        ' at ',
        money(p.offer.amount, a.currency)
      )
    default:
      return line('unpaid: the buyer’s time ran out')
  }
}

function dueText(dueAt, now = Date.now()) {
  return dueAt > now ? 'within ' + span(dueAt - now) : 'overdue'
}

function pictureUrl(a) {
  return withToken(auctionPath(a.id, 'picture'))
}

function picture(a, { lazy }) {
  if (!a.picture) return h('div', { class: 'picture-box no-picture' }, 'no picture')
  const img = h('img', {
    class: 'picture',
    src: pictureUrl(a),
    alt: 'Picture of ' + a.item,
    loading: lazy ? 'lazy' : 'eager',
    decoding: 'async',
    'data-hash': a.picture.hash
  })
  // Fetched again when the auction is drawn again
  img.addEventListener('error', () => {
    img.parentNode.classList.add('picture-failed')
    img.replaceWith('picture unavailable')
  })
  return h('div', { class: 'picture-box' }, img)
}

// The board: one page of auctions

function card(a, previous) {
  const old = previous && previous.querySelector('.picture-box')
  const keep =
    old && a.picture && old.querySelector('img[data-hash="' + CSS.escape(a.picture.hash) + '"]')
  return h(
    'li',
    { class: 'auction', 'data-auction-id': a.id, 'data-status': statusOf(a) },
    h(
      'a',
      { class: 'auction-link', href: '#/auction/' + a.id },
      keep ? old : picture(a, { lazy: true }),
      h(
        'div',
        { class: 'summary' },
        h('h3', { class: 'item' }, a.item),
        h('p', { class: 'seller' }, 'by ', who(a.seller, 'seller')),
        h('p', { class: 'price' }, 'from ', money(a.startPrice, a.currency, 'amount start-price')),
        leading(a),
        h(
          'p',
          { class: 'state' },
          statusBadge(a),
          timeLeft(a),
          reserveBadge(a),
          paymentLine(a),
          disputeBadge(a)
        )
      )
    )
  )
}

function pageQuery() {
  const params = new URLSearchParams({ offset: String(state.offset), limit: String(PAGE_SIZE) })
  if (state.q) params.set('q', state.q)
  if (state.status !== 'all') params.set('status', state.status)
  return '/api/auctions?' + params
}

async function loadPage() {
  const seq = ++state.listSeq
  const drawn = ++fetchSeq
  state.boardStale = false
  let res
  try {
    res = await api(pageQuery())
  } catch (err) {
    if (seq === state.listSeq) showError($('list-error'), err)
    return
  }
  if (seq !== state.listSeq) return
  $('list-error').hidden = true
  if (res.auctions.length === 0 && res.total > 0 && state.offset > 0) {
    // The page emptied under us (auctions ended under a filter): the last page that has some
    state.offset = Math.max(0, Math.floor((res.total - 1) / PAGE_SIZE) * PAGE_SIZE)
    return loadPage()
  }
  state.total = res.total
  const list = $('auctions')
  const cards = new Map()
  const items = res.auctions.map((listed) => {
    const shown = state.cards.get(listed.id)
    // An auction fetched again since this page was asked for is drawn as it is now
    const a = shown && (drawnSeq.get(listed.id) || 0) > drawn ? shown.auction : listed
    drawnSeq.set(a.id, Math.max(drawn, drawnSeq.get(a.id) || 0))
    const el = card(a, shown ? shown.el : null)
    cards.set(a.id, { auction: a, el })
    return el
  })
  list.replaceChildren(...items)
  state.cards = cards
  renderPager()
}

function renderPager() {
  const from = state.total === 0 ? 0 : state.offset + 1
  const to = Math.min(state.offset + state.cards.size, state.total)
  const filtered = state.q || state.status !== 'all'
  let summary
  if (state.total === 0) {
    summary = filtered ? 'No auction matches.' : 'No auctions yet: open the first one.'
  } else {
    summary = `Auctions ${from}–${to} of ${state.total}` + (filtered ? ' matching' : '')
  }
  $('list-summary').textContent = summary + (state.total > 0 ? ', ending soonest first' : '')
  $('page-info').textContent =
    state.total > PAGE_SIZE
      ? `page ${Math.floor(state.offset / PAGE_SIZE) + 1} of ${Math.ceil(state.total / PAGE_SIZE)}`
      : ''
  $('prev-page').disabled = state.offset === 0
  $('next-page').disabled = state.offset + PAGE_SIZE >= state.total
  $('pager').hidden = state.total <= PAGE_SIZE
}

// Bursts of openings make one new fetch of the page
function schedulePage() {
  if (!$('board-view').hidden) {
    clearTimeout(state.listTimer)
    state.listTimer = setTimeout(loadPage, 150)
  } else {
    state.boardStale = true
  }
}

// One auction's view: its terms, its bids, what this peer can do with it

function row(label, ...value) {
  return [h('dt', null, label), h('dd', null, ...value)]
}

function termsRows(a) {
  const t = a.terms || {}
  const rows = []
  if (t.reserve) rows.push(row('reserve', money(t.reserve, a.currency), ' ', reserveBadge(a)))
  if (t.increment) rows.push(row('raise at least', money(t.increment, a.currency)))
  if (t.incrementPercent) rows.push(row('raise at least', t.incrementPercent + '%'))
  if (t.buyNow) rows.push(row('buy now', money(t.buyNow, a.currency, 'amount buy-now')))
  if (t.softClose) {
    const cap = t.maxExtensions ? `, at most ${t.maxExtensions} times` : ''
    rows.push(
      row('soft close', `a late bid moves the end ${span(t.softClose)} after it${cap}`),
      row('extended', `${a.extensions || 0} times`)
    )
  }
  return rows
}

function renderDetail(a) {
  const s = statusOf(a)
  const seller = a.seller === state.me.publicKey
  const rows = [
    row('seller', who(a.seller, 'seller')),
    row('start price', money(a.startPrice, a.currency, 'amount start-price')),
    row('status', statusBadge(a), ' ', disputeBadge(a)),
    row(a.status === 'open' ? 'leading' : 'sale', leading(a))
  ]
  if (a.minimumBid) rows.push(row('next bid', 'at least ', money(a.minimumBid, a.currency)))
  if (a.status === 'open') {
    rows.push(
      row(
        'ends',
        a.endsAt ? when(a.endsAt) + ', ' : '',
        timeLeft(a) || h('span', { class: 'time-left no-end' }, 'no end')
      )
    )
  }
  rows.push(...termsRows(a))
  if (a.settlement) {
    const st = a.settlement
    rows.push(
      row(
        'settlement',
        `pay ${st.payTo} in token ${st.token} on chain ${st.chainId}, within ` +
          `${span(st.payWithin)}, ${st.confirmations} confirmation${st.confirmations === 1 ? '' : 's'}`
      )
    )
  }
  if (a.payment) rows.push(row('payment', paymentLine(a)))
  if (a.refused && a.refused.length > 0) {
    const more =
      a.refusedCount > a.refused.length ? ` and ${a.refusedCount - a.refused.length}` : ''
    rows.push(
      row(
        'refused',
        a.refused.map((k, i) => [i > 0 ? ', ' : '', who(k)]),
        more
      )
    )
  }
  rows.push(row('opened', when(a.createdAt)))
  if (a.closedAt) rows.push(row('closed', when(a.closedAt)))
  rows.push(row('id', h('code', { class: 'auction-id' }, a.id)))

  const detail = $('auction-detail')
  const old = detail.querySelector('.picture-box')
  const keep =
    old && a.picture && old.querySelector('img[data-hash="' + CSS.escape(a.picture.hash) + '"]')
  detail.replaceChildren(
    keep ? old : picture(a, { lazy: false }),
    h(
      'div',
      { class: 'facts' },
      h('h2', { class: 'item' }, a.item),
      h('dl', { class: 'terms' }, ...rows)
    )
  )
  $('auction-view').dataset.auctionId = a.id
  $('auction-view').dataset.status = s
  document.title = a.item + ' · hyperauction'
  renderActions(a, seller)
  renderBids(a)
}

function renderActions(a, seller) {
  const me = state.me.publicKey
  const open = a.status === 'open'
  const p = a.payment
  $('bid-form').hidden = !open || seller
  if (open) {
    $('bid-form').elements.amount.placeholder = a.minimumBid ? 'at least ' + a.minimumBid : ''
  }
  $('close-form').hidden = !open || !seller
  $('cancel-form').hidden = !open || !seller || !!a.highestBid
  $('refuse-form').hidden = !open || !seller
  $('pay-form').hidden = !(p && p.status === 'due' && p.buyer === me)
  $('second-chance-form').hidden = !(seller && p && p.status === 'lapsed')
  $('accept-offer-form').hidden = !(p && p.status === 'offered' && p.offer && p.offer.bidder === me)
  for (const form of $('actions').querySelectorAll('form')) {
    surface(form)
    // An older answer of a form that no longer applies is dropped
    if (form.hidden) setResult(form, '')
    delete form.dataset.answered
  }
}

// The answer of a form that its own request put out of use (the auction it closed, the sale it
// paid, the buy-now bid) stays in sight, above the forms
function surface(form) {
  const out = form.querySelector('.result')
  if (!form.hidden || !form.dataset.answered || out.textContent === '') return
  if (out.classList.contains('pending')) return
  const shown = $('action-result')
  shown.className = out.className
  shown.textContent = out.textContent
  if (out.dataset.code) shown.dataset.code = out.dataset.code
  else delete shown.dataset.code
  shown.hidden = false
  setResult(form, '')
}

function renderBids(a) {
  const bids = (a.bids || []).slice().sort((x, y) => y.position - x.position)
  const fresh = state.shownBids.size > 0
  const items = bids.map((b) =>
    h(
      'li',
      {
        class:
          'bid' +
          (b.refused ? ' refused' : '') +
          (fresh && !state.shownBids.has(b.position) ? ' new' : ''),
        'data-position': b.position,
        value: b.position
      },
      h('span', { class: 'position' }, '#' + b.position),
      ' ',
      money(b.amount, a.currency),
      ' by ',
      who(b.bidder, 'bidder'),
      ' ',
      h('time', { datetime: new Date(b.acceptedAt).toISOString() }, when(b.acceptedAt)),
      b.refused ? h('span', { class: 'refused-mark' }, ' (refused)') : null
    )
  )
  state.shownBids = new Set(bids.map((b) => b.position))
  $('bids').replaceChildren(...items)
  $('bid-count').textContent = '(' + (a.bidCount || 0) + ')'
  const earlier = (a.bidCount || 0) - bids.length
  $('earlier-bids').hidden = earlier <= 0
  $('earlier-bids').textContent = earlier > 0 ? `and ${earlier} earlier bids` : ''
  if (bids.length === 0) $('bids').append(h('li', { class: 'no-bids' }, 'none yet'))
}

async function fetchAuction(id) {
  const seq = ++fetchSeq
  const a = await api(auctionPath(id))
  if ((drawnSeq.get(id) || 0) > seq) return null
  drawnSeq.set(id, seq)
  return a
}

// Where an auction shows: its own view, its card on the page
function draw(a) {
  if (state.detail === a.id) {
    $('auction-error').hidden = true
    renderDetail(a)
  }
  const shown = state.cards.get(a.id)
  if (shown) {
    const el = card(a, shown.el)
    shown.el.replaceWith(el)
    state.cards.set(a.id, { auction: a, el })
  }
}

async function loadDetail(id) {
  try {
    const a = await fetchAuction(id)
    if (a !== null) draw(a)
  } catch (err) {
    if (state.detail === id) showError($('auction-error'), err)
  }
}

// An auction changed: fetch it once (once more if it changes again during the fetch) and
// redraw it where it shows
function refetch(id) {
  const busy = state.fetching.get(id)
  if (busy) {
    busy.again = true
    return
  }
  const entry = { again: false }
  state.fetching.set(id, entry)
  const run = async () => {
    do {
      entry.again = false
      if (state.detail !== id && !state.cards.has(id)) break
      try {
        const a = await fetchAuction(id)
        if (a !== null) draw(a)
      } catch (err) {
        showError($(state.detail === id ? 'auction-error' : 'list-error'), err)
      }
    } while (entry.again)
  }
  run().finally(() => state.fetching.delete(id))
}

// Views

function route() {
  const m = /^#\/auction\/([0-9a-fA-F]{1,64})$/.exec(location.hash)
  if (m) return showDetail(m[1].toLowerCase())
  state.detail = null
  $('auction-view').hidden = true
  $('board-view').hidden = false
  document.title = 'hyperauction board'
  if (state.boardStale) loadPage()
}

function showDetail(id) {
  if (state.detail !== id) {
    state.detail = id
    state.shownBids = new Set()
    $('auction-detail').replaceChildren()
    $('bids').replaceChildren()
    $('action-result').hidden = true
    for (const form of $('actions').querySelectorAll('form')) {
      form.reset()
      form.hidden = true
      setResult(form, '')
    }
  }
  $('board-view').hidden = true
  $('auction-view').hidden = false
  $('auction-view').dataset.auctionId = id
  window.scrollTo(0, 0)
  loadDetail(id)
}

// Errors and results

function showError(el, err) {
  el.hidden = false
  el.dataset.code = err.code || 'INTERNAL'
  el.textContent = `${err.code || 'INTERNAL'}: ${err.message}`
}

function setResult(form, text, { error = null, pending = false } = {}) {
  const out = form.querySelector('.result')
  out.classList.toggle('error', !!error)
  out.classList.toggle('pending', pending)
  out.classList.toggle('ok', !error && !pending && !!text)
  if (error) {
    out.dataset.code = error.code || 'INTERNAL'
    out.textContent = `${error.code || 'INTERNAL'}: ${error.message}`
  } else {
    delete out.dataset.code
    out.replaceChildren(...[text].flat())
  }
  if (text || error) surface(form)
}

// A form whose submit calls the API: the button waits, then the answer or the error shows (a
// form of an auction's view: only while that auction is still the one shown)
function bindForm(form, send, done) {
  const ofAuction = form.closest('#actions') !== null
  form.addEventListener('submit', async (e) => {
    e.preventDefault()
    if (form.classList.contains('busy')) return
    form.classList.add('busy')
    $('action-result').hidden = true
    const at = state.detail
    const buttons = form.querySelectorAll('button')
    for (const b of buttons) b.disabled = true
    setResult(form, 'sending…', { pending: true })
    const still = () => !ofAuction || state.detail === at
    try {
      const res = await send(form, e.submitter)
      form.dataset.answered = 'yes'
      setResult(form, still() ? done(res, form) : '')
    } catch (err) {
      form.dataset.answered = 'yes'
      if (still()) setResult(form, '', { error: err })
      else setResult(form, '')
    } finally {
      form.classList.remove('busy')
      for (const b of buttons) b.disabled = false
    }
  })
}

// Only what was filled in is sent: the peer applies its own defaults
function fields(form, names) {
  const out = {}
  for (const name of names) {
    const value = form.elements.namedItem(name).value.trim()
    if (value !== '') out[name] = value
  }
  return out
}

function wholeNumber(form, name) {
  const value = form.elements.namedItem(name).value.trim()
  if (value === '') return undefined
  return /^\d+$/.test(value) ? Number(value) : value
}

function readPicture(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader()
    reader.onload = () => {
      const url = String(reader.result)
      resolve({ type: file.type, data: url.slice(url.indexOf(',') + 1) })
    }
    reader.onerror = () =>
      reject(new ApiError('INVALID_PICTURE', 'The picture file cannot be read', 0))
    reader.readAsDataURL(file)
  })
}

async function openBody(form) {
  const body = fields(form, [
    'item',
    'price',
    'currency',
    'duration',
    'reserve',
    'increment',
    'buyNow',
    'softClose'
  ])
  const max = wholeNumber(form, 'maxExtensions')
  if (max !== undefined) body.maxExtensions = max
  const settlement = fields(form, ['payTo', 'token', 'payWithin'])
  const chainId = wholeNumber(form, 'chainId')
  const confirmations = wholeNumber(form, 'confirmations')
  if (chainId !== undefined) settlement.chainId = chainId
  if (confirmations !== undefined) settlement.confirmations = confirmations
  if (Object.keys(settlement).length > 0) body.settlement = settlement
  const file = form.elements.picture.files[0]
  if (file) body.picture = await readPicture(file)
  return body
}

function bindForms() {
  const post = async (action, body = {}) => {
    const id = state.detail
    const res = await api(auctionPath(id, action), { method: 'POST', body })
    refetch(id)
    return res
  }

  bindForm(
    $('open-form'),
    async (form) => api('/api/auctions', { method: 'POST', body: await openBody(form) }),
    (res, form) => {
      form.reset()
      return [
        `Opened ${res.item} for ${res.startPrice} ${res.currency} (id ${res.id}). `,
        h('a', { href: '#/auction/' + res.id, class: 'opened-link' }, 'View it')
      ]
    }
  )
  bindForm(
    $('bid-form'),
    (form) => post('bid', { amount: form.elements.amount.value.trim() }),
    (res, form) => {
      form.reset()
      return (
        `Bid of ${res.amount} accepted as bid #${res.position}.` +
        (res.confirmed === false
          ? ' Not yet confirmed: the seller’s signed block has not arrived.'
          : '')
      )
    }
  )
  bindForm(
    $('close-form'),
    () => post('close'),
    (res) => 'Closed: ' + saleText(res)
  )
  bindForm(
    $('cancel-form'),
    () => post('cancel'),
    () => 'Cancelled.'
  )
  bindForm(
    $('refuse-form'),
    (form) => post('refuse', { bidder: form.elements.bidder.value.trim() }),
    (res, form) => {
      form.reset()
      return (
        'Refused. ' + (res.highestBid ? `Highest now ${res.highestBid.amount}.` : 'No bid stands.')
      )
    }
  )
  bindForm(
    $('pay-form'),
    (form, button) =>
      post('pay', button && button.value === 'other' ? fields(form, ['txHash', 'signature']) : {}),
    (res) => {
      const p = res.payment
      if (!p) return 'Payment sent.'
      return `Payment ${p.status}` + (p.txHash ? ` (tx ${p.txHash}).` : '.')
    }
  )
  bindForm(
    $('second-chance-form'),
    () => post('second-chance'),
    () => 'Offered to the next bidder.'
  )
  bindForm(
    $('accept-offer-form'),
    () => post('accept-offer'),
    () => 'Accepted: the sale is yours to pay.'
  )
}

function saleText(res) {
  if (res.outcome === 'sold' && res.winner) {
    return `sold to ${nameText(res.winner.bidder) || shortKey(res.winner.bidder)} for ${res.winner.amount}`
  }
  return res.outcome || 'ended'
}

// The peer and its event stream

async function loadPeer() {
  try {
    const [id, status, peers] = await Promise.all([
      api('/api/id'),
      api('/api/status'),
      api('/api/peers')
    ])
    state.me = id
    if (id.name) state.names.set(id.publicKey, id.name)
    state.connected = new Set()
    for (const p of peers) {
      state.connected.add(p.publicKey)
      if (p.name) state.names.set(p.publicKey, p.name)
    }
    state.counts = { auctions: status.auctions, open: status.open }
    $('peer-network').textContent = status.network ? 'network ' + status.network : ''
    renderPeer()
    $('fatal').hidden = true
    return true
  } catch (err) {
    showError($('fatal'), err)
    if (err.status === 401) {
      $('fatal').textContent += ' Open the address the peer printed at start (web: …?token=…).'
    }
    return false
  }
}

function renderPeer() {
  $('peer-name').textContent = state.me.name || 'unnamed peer'
  $('peer-key').textContent = shortKey(state.me.publicKey)
  $('peer-key').title = state.me.publicKey
  const n = state.connected.size
  $('peer-count').textContent = n + (n === 1 ? ' peer' : ' peers')
  if (state.counts) {
    const n = state.counts.auctions
    $('peer-auctions').textContent = `${n} auction${n === 1 ? '' : 's'} (${state.counts.open} open)`
  }
  for (const key of state.names.keys()) renameAll(key)
}

function setConnection(s, text) {
  const el = $('connection')
  el.dataset.state = s
  el.textContent = text
}

function connect() {
  clearTimeout(state.retryTimer)
  if (state.stream) state.stream.close()
  setConnection(state.retry === 0 ? 'connecting' : 'reconnecting', 'connecting to the peer…')
  const es = new EventSource(withToken('/api/events'))
  state.stream = es
  es.addEventListener('watching', () => {
    state.retry = 0
    setConnection('live', 'live')
    refresh()
  })
  for (const name of [...AUCTION_EVENTS, 'dispute']) {
    es.addEventListener(name, (e) => onAuctionEvent(name, parse(e.data)))
  }
  es.addEventListener('peer-add', (e) => onPeer(true, parse(e.data)))
  es.addEventListener('peer-remove', (e) => onPeer(false, parse(e.data)))
  es.addEventListener('error', () => {
    if (es !== state.stream) return
    if (es.readyState === EventSource.CONNECTING) {
      // The browser tries again by itself; the page is fetched again once it is back
      setConnection('reconnecting', 'reconnecting…')
      return
    }
    es.close()
    state.retry++
    const wait = Math.min(RETRY_MAX, 500 * 2 ** Math.min(state.retry, 5))
    setConnection('offline', `disconnected; trying again in ${Math.round(wait / 1000)} s`)
    state.retryTimer = setTimeout(connect, wait)
    // A stream refused for its token says nothing: the API tells why
    loadPeer()
  })
}

function parse(data) {
  try {
    return JSON.parse(data)
  } catch (err) {
    return null
  }
}

let refreshing = null
// After the stream is (again) live: the peer, the page and the auction shown, as they are now
function refresh() {
  if (refreshing) {
    refreshing.again = true
    return
  }
  refreshing = { again: false }
  const run = async () => {
    do {
      refreshing.again = false
      await Promise.all([loadPeer(), loadPage(), state.detail ? loadDetail(state.detail) : null])
    } while (refreshing.again)
  }
  run().finally(() => {
    refreshing = null
  })
}

function auctionIdOf(name, data) {
  if (!data) return null
  if (name === 'auction-opened') return data.id
  if (typeof data.auction === 'string') return data.auction
  if (data.auction && typeof data.auction.id === 'string') return data.auction.id
  return null
}

function onAuctionEvent(name, data) {
  if (name === 'dispute') {
    // A seller signed two histories: each of its auctions on screen says so
    for (const [id, { auction }] of state.cards) {
      if (data && auction.seller === data.seller) refetch(id)
    }
    if (state.detail) refetch(state.detail)
    return
  }
  const id = auctionIdOf(name, data)
  if (!id) return
  if (name === 'auction-opened') {
    if (state.counts) {
      state.counts.auctions++
      state.counts.open++
    }
    renderPeer()
    schedulePage()
    return
  }
  if (name === 'auction-closed') {
    if (state.counts) state.counts.open = Math.max(0, state.counts.open - 1)
    renderPeer()
    if (state.status !== 'all') schedulePage()
  }
  notice(name, data)
  if (name === 'payment-progress' && state.detail === id) {
    setResult($('pay-form'), 'payment: ' + progressText(data), { pending: true })
  }
  if (state.cards.has(id) || state.detail === id) refetch(id)
}

function onPeer(joined, data) {
  if (!data || typeof data.publicKey !== 'string') return
  if (joined) state.connected.add(data.publicKey)
  else state.connected.delete(data.publicKey)
  if (data.name) state.names.set(data.publicKey, data.name)
  renderPeer()
}

// What concerns this peer itself shows for a while at the top
function notice(name, data) {
  const a = data.auction && typeof data.auction === 'object' ? data.auction : null
  const item = a ? a.item : ''
  let text = null
  if (name === 'outbid') {
    text = `Outbid on ${item}: ${data.bid.amount} ${a.currency} by ${nameText(data.bid.bidder) || shortKey(data.bid.bidder)}; bid at least ${a.minimumBid} to lead again.`
  } else if (name === 'ending-soon') {
    text = `${item} ends in ${span(data.endsAt - Date.now())}.`
  } else if (name === 'payment-lapsed' && data.buyer === state.me.publicKey) {
    text = `Your time to pay for ${item} ran out.`
  } else if (name === 'second-chance' && data.offer && data.offer.bidder === state.me.publicKey) {
    text = `Second chance: ${item} is offered to you at ${data.offer.amount} ${a.currency}.`
  }
  if (text === null || a === null) return
  const el = h(
    'li',
    { class: 'notice notice-' + name },
    h('a', { href: '#/auction/' + a.id }, text)
  )
  $('notices').prepend(el)
  while ($('notices').children.length > 5) $('notices').lastChild.remove()
  setTimeout(() => el.remove(), NOTICE_TIME)
}

// Time left and time to pay count down on screen
function tick() {
  const now = Date.now()
  for (const el of document.querySelectorAll('[data-ends-at]')) {
    el.textContent = timeLeftText(Number(el.dataset.endsAt), now)
  }
  for (const el of document.querySelectorAll('[data-due-at]')) {
    el.textContent = dueText(Number(el.dataset.dueAt), now)
  }
}

function bindBoard() {
  let typing = null
  $('search').addEventListener('input', () => {
    clearTimeout(typing)
    typing = setTimeout(() => {
      state.q = $('search').value.trim()
      state.offset = 0
      loadPage()
    }, 200)
  })
  $('status-filter').addEventListener('change', () => {
    state.status = $('status-filter').value
    state.offset = 0
    loadPage()
  })
  $('filters').addEventListener('submit', (e) => {
    e.preventDefault()
    clearTimeout(typing)
    state.q = $('search').value.trim()
    state.offset = 0
    loadPage()
  })
  $('prev-page').addEventListener('click', () => {
    state.offset = Math.max(0, state.offset - PAGE_SIZE)
    loadPage()
    $('board-view').scrollIntoView()
  })
  $('next-page').addEventListener('click', () => {
    state.offset += PAGE_SIZE
    loadPage()
    $('board-view').scrollIntoView()
  })
}

function main() {
  window.addEventListener('hashchange', route)
  bindBoard()
  bindForms()
  setInterval(tick, 1000)
  if (!token) {
    showError($('fatal'), {
      code: 'UNAUTHORIZED',
      message: 'No token: open the address the peer printed at start (web: …?token=…).'
    })
    setConnection('offline', 'no token')
    return
  }
  route()
  connect()
  // The page shows even if the stream is slow to come up; it is fetched again once live
  setTimeout(() => {
    if (state.stream && state.stream.readyState !== EventSource.OPEN) refresh()
  }, 1000)
}

main()
