const test = require('brittle')
const fs = require('fs')
const path = require('path')
const b4a = require('b4a')
const m = require('../lib/messages')
const AuctionPeer = require('..')
const { Author } = require('./helpers/events')
const {
  createBootstrap,
  createPeer,
  meshed,
  everywhere,
  once,
  until,
  emptyHello,
  RAW
} = require('./helpers')
const { createRelay } = require('./helpers/relay')

const BIG = 8 * 1024 * 1024
const EMPTY = 50000

// Bytes the files under dir hold (apparent) and take on disk (allocated blocks)
function folderSize(dir) {
  let bytes = 0
  let disk = 0
  for (const name of fs.readdirSync(dir)) {
    const file = path.join(dir, name)
    const st = fs.statSync(file)
    if (st.isDirectory()) {
      const sub = folderSize(file)
      bytes += sub.bytes
      disk += sub.disk
    } else {
      bytes += st.size
      disk += st.blocks * 512
    }
  }
  return { bytes, disk }
}

function mib(n) {
  return (n / 2 ** 20).toFixed(2) + ' MiB'
}

test(
  'logs of 8 MiB blocks and of 50,000 empty blocks leave almost nothing on disk',
  { timeout: 120000 },
  async (t) => {
    const testnet = await createBootstrap(t)
    const storage = path.join(await t.tmp(), 'victim')
    const victim = await createPeer(t, testnet, { storage, name: 'victim' })
    const idle = folderSize(storage)
    t.comment(`idle: ${mib(idle.bytes)} in files, ${mib(idle.disk)} on disk`)

    const relay = await createRelay(t, testnet)
    const big = []
    for (let i = 0; i < 4; i++) big.push(await relay.add([b4a.alloc(BIG, i)]))
    const empty = []
    for (let i = 0; i < EMPTY; i++) empty.push(m.encode(m.block, []))
    await relay.add(empty)

    const refused = []
    const handled = once(
      victim,
      'warning',
      (err) => refused.push(err) === 5,
      60000,
      'five refusals'
    )
    await relay.connect(victim)
    relay.name()
    await handled
    t.comment(refused.map((err) => err.message).join('; '))
    t.is(refused.filter((err) => err.code === 'INVALID_EVENT').length, 5, 'every log is refused')

    await until(() => victim.logs.clearing === 0, 10000, 'their storage cleared')
    t.is((await victim.info()).remoteBytes, 0, 'info() counts no bytes held for them')
    let held = null
    await until(
      () => (held = folderSize(storage)).bytes < 2 * 2 ** 20,
      20000,
      'the storage to shrink below 2 MiB'
    )
    t.comment(`handled: ${mib(held.bytes)} in files, ${mib(held.disk)} on disk`)
    t.pass(`the victim's storage holds ${mib(held.bytes)}, under 2 MiB`)

    const before = refused.length
    relay.name()
    await relay.client.request(AuctionPeer.METHODS.hello, emptyHello('relay'), RAW)
    t.is(victim.logs.size, 0, 'named again, they stay refused')
    t.is(refused.length, before, 'without being fetched again')

    await victim.close()
    const closed = folderSize(storage)
    t.comment(`closed: ${mib(closed.bytes)} in files, ${mib(closed.disk)} on disk`)
    t.ok(closed.disk < 2 * 2 ** 20, `closed, it takes ${mib(closed.disk)} on disk`)
  }
)

test('a large block among small ones is refused before it is downloaded', async (t) => {
  const testnet = await createBootstrap(t)
  const storage = path.join(await t.tmp(), 'victim')
  const victim = await createPeer(t, testnet, { storage, name: 'victim' })
  const relay = await createRelay(t, testnet)
  // 64 KiB on average, the large block included: the signed size alone does not show it
  const author = new Author()
  const blocks = []
  for (let i = 0; i < 200; i++) blocks.push(Author.block(author.open('Lot#' + i, '1')))
  blocks.splice(150, 0, b4a.alloc(BIG))
  await relay.add(blocks, author)
  const served = relay.store.get({ keyPair: author.keyPair })
  const uploaded = new Set()
  served.on('upload', (index) => uploaded.add(index))
  t.teardown(() => served.close())

  const refused = once(victim, 'warning', (err) => err.code === 'INVALID_EVENT', 30000)
  await relay.connect(victim)
  relay.name()
  const err = await refused
  t.ok(err.message.includes('larger than 65536 bytes'), err.message)
  // Refused once the bytes left show a block past the limit: as soon as enough of the small ones
  // are held, so the blocks held by then are applied, and never the large one
  const applied = (await victim.listAuctions()).length
  t.ok(applied > 0 && applied <= 150, `${applied} of the 150 blocks before it are applied`)
  t.ok(uploaded.has(149), 'sent by the relay')
  t.absent(uploaded.has(150), 'and the large block never sent')
  await until(() => victim.logs.clearing === 0, 10000, 'its storage cleared')
  const held = folderSize(storage)
  t.ok(held.bytes < 2 * 2 ** 20, `the victim's storage holds ${mib(held.bytes)}`)
})

test('info() counts the bytes held of remote logs, after a restart too', async (t) => {
  const testnet = await createBootstrap(t)
  const storage = path.join(await t.tmp(), 'holder')
  const holder = await createPeer(t, testnet, { storage, name: 'holder' })
  const seller = await createPeer(t, testnet, { name: 'seller' })
  await meshed([holder, seller])
  const a = await seller.openAuction({ item: 'Pic#1', price: '1' })
  await everywhere([holder], a.id)
  const bytes = seller.log.core.byteLength
  t.is((await holder.info()).remoteBytes, bytes, `${bytes} bytes held of the seller's log`)

  // Its author gone, the log stays dormant after the restart: its bytes are read from storage
  await seller.close()
  await holder.close()
  const again = await createPeer(t, testnet, { storage, name: 'holder' })
  const counted = async () => (await again.info()).remoteBytes === bytes
  await until(counted, 10000, 'the dormant log counted')
  t.pass('and counted again after a restart')
})
