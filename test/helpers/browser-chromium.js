const fs = require('fs')
const path = require('path')
const png = require('../../lib/cli/png')

// Debian's Chromium (apt-get install -y chromium), driven by playwright-core: no browser download
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium'
const ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync'
]

function hasChromium() {
  return fs.existsSync(CHROMIUM)
}

// A browser with a fresh profile under the test's folder, closed first at teardown
async function launchChromium(t) {
  const { chromium } = require('playwright-core')
  const profile = path.join(await t.tmp(), 'chromium-profile')
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: ARGS,
    viewport: { width: 1100, height: 900 }
  })
  t.teardown(() => context.close(), { order: -2 })
  return context
}

// A page that remembers its uncaught errors and marks its document, so a test can tell that it
// was never reloaded
async function openPage(context, url) {
  const page = await context.newPage()
  page.errors = []
  page.on('pageerror', (err) => page.errors.push(err.message))
  page.started = Date.now()
  page.response = await page.goto(url)
  return page
}

function notReloaded(page) {
  return page.evaluate(() => globalThis.sessionMark === true)
}

function mark(page) {
  return page.evaluate(() => {
    globalThis.sessionMark = true
  })
}

module.exports = { CHROMIUM, hasChromium, launchChromium, openPage, mark, notReloaded, png }
