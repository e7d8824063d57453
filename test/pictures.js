const test = require('brittle')
const fs = require('fs')
const path = require('path')
const b4a = require('b4a')
const crypto = require('../lib/crypto')
const { MAX_PICTURE_BYTES } = require('../lib/constants')
const Pictures = require('../lib/pictures')
const { ControlServer } = require('../lib/cli/control')
const { createBootstrap, createPeer, meshed, everywhere, rejects, until } = require('./helpers')
const { runCli } = require('./helpers/processes')

// A real 1x1 PNG, and a 2 MiB one: a PNG header padded to the limit (the check is by the
// magic bytes)
const SMALL_PNG = b4a.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=',
  'base64'
)
const PNG_MAGIC = b4a.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])

function png(size) {
  const data = b4a.alloc(size)
  PNG_MAGIC.copy(data)
  for (let i = PNG_MAGIC.byteLength; i < size; i++) data[i] = (i * 7919) & 0xff
  return data
}

function hashHex(data) {
  return b4a.toString(crypto.hash(data), 'hex')
}

// Whether a peer's storage holds the seller's pictures core at all
function holdsPictures(peer, seller) {
  return peer.store.storage.hasCore(crypto.discoveryKey(Pictures.picturesKey(seller.publicKey)))
}

// Which blocks of the seller's pictures core a peer holds, from..to
async function heldBlocks(peer, seller, from, to) {
  const core = peer.store.get({ key: Pictures.picturesKey(seller.publicKey) })
  await core.ready()
  const held = []
  for (let i = from; i < to; i++) held.push(await core.has(i))
  await core.close()
  return held
}

test('a picture is fetched only where shown, hash-checked, and served on while its seller is offline', async (t) => {
  const testnet = await createBootstrap(t)
  const seller = await createPeer(t, testnet, { name: 'seller' })
  const storage = path.join(await t.tmp(), 'bidder')
  let bidder = await createPeer(t, testnet, { name: 'bidder', storage })
  await meshed([seller, bidder])

  const big = png(MAX_PICTURE_BYTES)
  const small = await seller.openAuction({
    item: 'Pic#1',
    price: '1',
    picture: { data: SMALL_PNG, type: 'image/png' }
  })
  const large = await seller.openAuction({ item: 'Pic#2', price: '1', picture: { data: big } })
  t.alike(
    small.picture,
    { type: 'image/png', size: SMALL_PNG.byteLength, hash: hashHex(SMALL_PNG) },
    'the opening names the picture: type, size, hash'
  )
  t.alike(large.picture, { type: 'image/png', size: big.byteLength, hash: hashHex(big) })

  await everywhere([bidder], large.id)
  const listed = await bidder.listAuctions()
  t.alike(
    listed.map((a) => a.picture && a.picture.size),
    [SMALL_PNG.byteLength, big.byteLength],
    'the bidder lists both auctions with their pictures described'
  )
  t.absent(await holdsPictures(bidder, seller), 'listing and showing download no picture')

  const own = await seller.getPicture(small.id)
  t.alike(own.data, SMALL_PNG, 'the seller reads its own picture')

  const started = Date.now()
  const fetched = await bidder.getPicture(large.id)
  t.comment(`2 MiB picture fetched from the seller in ${Date.now() - started} ms`)
  t.alike(fetched.data, big, 'the bidder gets the 2 MiB picture')
  t.alike(
    [fetched.type, fetched.size, fetched.hash],
    ['image/png', big.byteLength, hashHex(big)],
    'with its type, size and hash'
  )
  const blocks = await heldBlocks(bidder, seller, 0, 2)
  t.alike(blocks, [false, true], 'only that picture’s blocks were downloaded, not the other’s')

  // The seller goes offline; the bidder restarts, and still serves what it fetched
  await seller.close()
  await bidder.close()
  bidder = await createPeer(t, testnet, { name: 'bidder', storage })

  const late = await createPeer(t, testnet, { name: 'late', pictureTimeout: 1000 })
  await meshed([bidder, late])
  await everywhere([late], large.id)
  t.absent(
    late.peers().some((p) => p.publicKey === seller.id),
    'the late peer never met the seller'
  )
  const relayStarted = Date.now()
  const relayed = await late.getPicture(large.id)
  t.comment(`2 MiB picture fetched from the bidder in ${Date.now() - relayStarted} ms`)
  t.alike(relayed.data, big, 'a peer that never met the seller gets the picture from the bidder')
  t.is(relayed.hash, hashHex(big))

  await rejects(
    t,
    late.getPicture(small.id),
    'PICTURE_UNAVAILABLE',
    'a picture nobody online holds is unavailable, with a coded error'
  )
})

test('a picture too large or not an image is refused, and no auction is opened', async (t) => {
  const testnet = await createBootstrap(t)
  const seller = await createPeer(t, testnet)

  const tooLarge = await rejects(
    t,
    seller.openAuction({ item: 'Pic#1', price: '1', picture: { data: png(3 * 1024 * 1024) } }),
    'PICTURE_TOO_LARGE',
    'a 3 MiB picture is refused'
  )
  t.ok(
    tooLarge.message.includes(String(3 * 1024 * 1024)) &&
      tooLarge.message.includes(String(MAX_PICTURE_BYTES)),
    'the error names both sizes'
  )

  const text = b4a.from('Pic#1, a fine picture of a cat\n')
  const notImage = await rejects(
    t,
    seller.openAuction({ item: 'Pic#1', price: '1', picture: { data: text, type: 'image/png' } }),
    'PICTURE_NOT_IMAGE',
    'a text file declared image/png is refused'
  )
  t.ok(notImage.message.includes('text'), 'the error says what was found: ' + notImage.message)

  const jpeg = b4a.concat([b4a.from([0xff, 0xd8, 0xff, 0xe0]), b4a.alloc(64)])
  const mismatch = await rejects(
    t,
    seller.openAuction({ item: 'Pic#1', price: '1', picture: { data: jpeg, type: 'image/png' } }),
    'PICTURE_NOT_IMAGE',
    'a JPEG declared image/png is refused'
  )
  t.ok(mismatch.message.includes('image/jpeg'), mismatch.message)
  t.is((await seller.listAuctions()).length, 0, 'no auction was opened')

  const plain = await seller.openAuction({ item: 'Pic#2', price: '1' })
  t.is(plain.picture, null, 'an auction without a picture says so')
  await rejects(t, seller.getPicture(plain.id), 'NO_PICTURE', 'and has no picture to get')
  await rejects(t, seller.getPicture('00'.repeat(16)), 'AUCTION_NOT_FOUND', 'an unknown auction')
})

test('a reference that does not match the bytes its seller stored is PICTURE_CORRUPT', async (t) => {
  const testnet = await createBootstrap(t)
  const seller = await createPeer(t, testnet)
  const bidder = await createPeer(t, testnet)
  await meshed([seller, bidder])

  const first = await seller.openAuction({
    item: 'Pic#1',
    price: '1',
    picture: { data: SMALL_PNG }
  })
  const second = await seller.openAuction({
    item: 'Pic#2',
    price: '1',
    picture: { data: png(5000) }
  })
  await everywhere([bidder], second.id)
  const ref = (await seller.view.getAuction(first.id)).picture
  const other = (await seller.view.getAuction(second.id)).picture
  const tampered = { ...ref, hash: b4a.alloc(32, 1) }

  await rejects(
    t,
    seller.pictures.get(tampered, seller.publicKey),
    'PICTURE_CORRUPT',
    'the seller’s own bytes under another hash'
  )
  await rejects(
    t,
    bidder.pictures.get(tampered, seller.publicKey),
    'PICTURE_CORRUPT',
    'fetched bytes under another hash'
  )
  t.alike(
    await heldBlocks(bidder, seller, 0, 1),
    [false],
    'bytes that failed the check are not kept'
  )

  await rejects(
    t,
    bidder.pictures.get({ ...other, byteLength: other.byteLength - 1 }, seller.publicKey),
    'PICTURE_CORRUPT',
    'a byte length its blocks do not hold is refused before they are downloaded'
  )
  await rejects(
    t,
    bidder.pictures.get(ref, bidder.publicKey),
    'PICTURE_CORRUPT',
    'a reference to a core that is not its seller’s own'
  )

  t.alike((await bidder.getPicture(first.id)).data, SMALL_PNG, 'the true reference still works')
})

test('the CLI opens with --picture FILE and writes it with show --picture-out FILE', async (t) => {
  const testnet = await createBootstrap(t)
  const dir = path.join(await t.tmp(), 'peer')
  const peer = await createPeer(t, testnet, { storage: dir })
  const control = new ControlServer(peer, dir)
  await control.listen()
  t.teardown(() => control.close(), { order: -1 })
  const files = await t.tmp()
  const file = (name, data) => {
    const at = path.join(files, name)
    fs.writeFileSync(at, data)
    return at
  }
  const cli = (...args) => runCli([...args, '--storage', dir])

  const big = png(MAX_PICTURE_BYTES)
  const opened = await cli('open', 'Pic#1', '75', '--picture', file('pic.png', big), '--json')
  t.is(opened.code, 0, 'a 2 MiB picture goes through the control socket')
  const auction = JSON.parse(opened.stdout)
  t.alike(
    auction.picture,
    { type: 'image/png', size: big.byteLength, hash: hashHex(big) },
    'the opening names the file’s type, size and hash'
  )

  const out = path.join(files, 'out.png')
  const shown = await cli('show', auction.id.slice(0, 8), '--picture-out', out)
  t.is(shown.code, 0, 'show --picture-out succeeds')
  t.alike(fs.readFileSync(out), big, 'show --picture-out writes the picture')
  t.ok(
    shown.stdout.includes(`picture: image/png, ${big.byteLength} bytes, written to ${out}`),
    'and says what it wrote'
  )

  const text = await cli('open', 'Pic#2', '1', '--picture', file('notes.png', 'a cat\n'))
  t.is(text.code, 1, 'a text file is refused')
  t.ok(text.stderr.includes('PICTURE_NOT_IMAGE'), text.stderr.trim())
  const large = await cli('open', 'Pic#2', '1', '--picture', file('big.png', png(3 << 20)))
  t.is(large.code, 1, 'a 3 MiB file is refused')
  t.ok(large.stderr.includes('PICTURE_TOO_LARGE'), large.stderr.trim())
  t.is((await peer.listAuctions()).length, 1, 'neither was opened')
})

test('pictures held for others are bounded, the least recently fetched forgotten, and kept across a restart', async (t) => {
  const testnet = await createBootstrap(t)
  const first = await createPeer(t, testnet, { name: 'first' })
  const second = await createPeer(t, testnet, { name: 'second' })
  const storage = path.join(await t.tmp(), 'bidder')
  const opts = { storage, maxHeldPictureBytes: 6000 }
  let bidder = await createPeer(t, testnet, opts)
  await meshed([first, second, bidder])

  const a = await first.openAuction({ item: 'Pic#1', price: '1', picture: { data: png(5000) } })
  const b = await second.openAuction({ item: 'Pic#2', price: '1', picture: { data: png(4000) } })
  await everywhere([bidder], a.id)
  await everywhere([bidder], b.id)

  await bidder.getPicture(a.id)
  t.ok(await holdsPictures(bidder, first), 'the first picture is held')
  await bidder.getPicture(b.id)
  t.is(bidder.pictures.heldBytes, 4000, 'past 6000 bytes the least recently fetched is forgotten')
  await until(async () => !(await holdsPictures(bidder, first)), 5000, 'its storage cleared')
  t.pass('and its storage is cleared')

  await bidder.close()
  bidder = await createPeer(t, testnet, opts)
  t.is(bidder.pictures.held, 1, 'after a restart the peer still knows what it holds')
  t.is(bidder.pictures.heldBytes, 4000)
  const dk = b4a.toString(crypto.discoveryKey(Pictures.picturesKey(second.publicKey)), 'hex')
  t.is(bidder.pictures.servedPicture(dk), 'held', 'and serves it to peers that ask')
})
