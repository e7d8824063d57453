const Corestore = require('corestore')
const Follower = require('../../lib/follower')
const m = require('../../lib/messages')
const { logManifest } = require('../../lib/crypto')

// Logs replicated by hand between bare Corestores, without peers or a DHT: for what a log does
// on a connection, one Protomux at a time

// A Corestore that replicates only what is attached, as a peer's
async function store(t) {
  const s = new Corestore(await t.tmp(), { active: false })
  t.teardown(() => s.close(), { order: 1 })
  return s
}

// Two stores replicating on one connection: the Protomux of each side
function connect(t, a, b) {
  const sa = a.replicate(true)
  const sb = b.replicate(false)
  sa.pipe(sb).pipe(sa)
  t.teardown(
    () => {
      sa.destroy()
      sb.destroy()
    },
    { order: 0 }
  )
  return [sa.noiseStream.userData, sb.noiseStream.userData]
}

// A follower of the author's log in store, and the blocks it applied
async function follow(t, store, author, opts = {}) {
  const applied = []
  const follower = new Follower(store, author.publicKey, {
    onblock: (index) => {
      applied.push(index)
    },
    onconflict: () => t.fail('no conflict'),
    oninvalid: (err) => t.fail(err.message),
    ...opts
  })
  t.teardown(() => follower.close(), { order: 0 })
  await follower.ready()
  return { follower, applied }
}

// The author's store, its log holding blocks blocks of one opening each
async function seller(t, author, blocks = 1) {
  const s = await store(t)
  const log = s.get({ manifest: logManifest(author.publicKey), keyPair: author.keyPair })
  for (let i = 0; i < blocks; i++) {
    await log.append(m.encode(m.block, [author.open('Pic#' + i, '75').evt]))
  }
  return s
}

module.exports = { store, connect, follow, seller }
