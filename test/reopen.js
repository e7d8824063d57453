const test = require('brittle')
const { logManifest } = require('../lib/crypto')
const { until } = require('./helpers')
const { Author } = require('./helpers/events')
const { store, connect, follow, seller } = require('./helpers/stores')

// The Hypercore channels this side opens on a connection, as they are made
function channels(mux) {
  const made = []
  const create = mux.createChannel.bind(mux)
  mux.createChannel = (opts) => {
    const channel = create(opts)
    if (channel !== null && opts.protocol === 'hypercore/alpha') made.push(channel)
    return channel
  }
  return made
}

// Whether the follower's log has a channel on the connection, open or asked for
function open(mux, follower) {
  return mux.opened({ protocol: 'hypercore/alpha', id: follower.core.discoveryKey })
}

// This peer follows the author's log and asks a neighbour for it, which does not hold it and
// refuses the channel
async function refused(t, author) {
  const here = await store(t)
  const neighbour = await store(t)
  const { follower, applied } = await follow(t, here, author)
  const [mine] = connect(t, here, neighbour)
  const asked = channels(mine)
  follower.attach(mine)
  await until(() => asked.length === 1 && asked[0].closed, 5000, 'the channel to be refused')
  return { follower, neighbour, mine, asked, applied }
}

test('a log asked of a peer that did not hold it yet is fetched once that peer says it holds it', async (t) => {
  const author = new Author()
  const origin = await seller(t, author)

  // This peer asks a neighbour for the log before the neighbour holds it
  const { follower, neighbour, mine, applied } = await refused(t, author)
  t.absent(open(mine, follower), 'the neighbour refused: it did not hold the log')
  t.ok(follower.stranded(1), 'news of a block is now reason to ask again')

  // The neighbour fetches the log from its seller
  const copy = neighbour.get({ manifest: logManifest(author.publicKey) })
  await copy.ready()
  const [fromSeller] = connect(t, neighbour, origin)
  copy.replicate(fromSeller)
  t.ok(await copy.get(0, { timeout: 5000 }), 'the neighbour holds the block')

  // Its news (or directory) says so: this peer asks again on the same connection
  follower.attach(mine)
  await until(() => applied.length === 1, 5000, 'the block from the neighbour')
  t.is(follower.held, 1, 'this peer holds the block')
  t.absent(follower.stranded(1), 'and news of it is no reason to ask again')
})

test('a peer that keeps refusing is asked again a few times only', async (t) => {
  const { follower, mine, asked } = await refused(t, new Author())
  for (let i = 0; i < 9; i++) {
    follower.attach(mine)
    // Hypercore makes the channel on the next tick of an open connection
    await new Promise((resolve) => setImmediate(resolve))
    await until(() => asked.every((c) => c.closed), 5000, 'the refusal')
  }
  t.is(asked.length, 5, 'the first ask and 4 more')
  t.absent(open(mine, follower), 'none open')
})

test('two peers that know the length but not the block replicate nothing to each other, and ask a peer with news of it', async (t) => {
  const author = new Author()
  const origin = await seller(t, author)
  const here = await store(t)
  const other = await store(t)
  // Each learns the length from the seller, and the connection closes before the block comes
  for (const s of [here, other]) {
    const core = s.get({ manifest: logManifest(author.publicKey) })
    await core.ready()
    const [mux] = connect(t, s, origin)
    core.replicate(mux)
    await core.update({ wait: true })
    mux.stream.destroy()
    await core.close()
  }
  const { follower, applied } = await follow(t, here, author)
  t.is(follower.length, 1, 'this peer knows the length')
  t.is(follower.held, 0, 'but holds no block')

  const [toOther] = connect(t, here, other)
  follower.attach(toOther)
  await until(() => follower.core.peers.length === 1, 5000, 'the other peer to open the channel')
  t.ok(follower.stranded(1), 'replicating with a peer that lacks the block too is no way to it')

  // News from a peer that holds it
  const [toOrigin] = connect(t, here, origin)
  follower.attach(toOrigin)
  t.absent(follower.stranded(1), 'asked: not stranded while the answer is on its way')
  await until(() => applied.length === 1, 5000, 'the block')
  t.absent(follower.stranded(1), 'held')
})
