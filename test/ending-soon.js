const test = require('brittle')
const { createPeers, everywhere, once } = require('./helpers')

// The ends of every 'ending-soon' a peer hears, as [auction id, end]
function endingSoon(peer) {
  const heard = []
  peer.on('ending-soon', (e) => heard.push([e.auction.id, e.endsAt]))
  return heard
}

function ends(heard, id) {
  return heard.filter(([auction]) => auction === id).map(([, endsAt]) => endsAt)
}

test('ending-soon comes at once inside the window, once per end, again after a soft-close extension', async (t) => {
  // The window (5 s) is longer than the auction (3 s): the seller is in it from the opening
  const { peers } = await createPeers(t, 3, { peer: { endingSoon: 5000 } })
  const [seller, alice, bob] = peers
  const heard = new Map(peers.map((peer) => [peer, endingSoon(peer)]))

  const soon = (peer, filter, what) => once(peer, 'ending-soon', filter, 10000, what)
  const openedSoon = soon(seller, () => true, 'ending-soon at the opening')
  const a = await seller.openAuction({
    item: 'Lamp',
    price: '1',
    duration: 3000,
    softClose: 3000,
    maxExtensions: 1
  })
  const first = await openedSoon
  t.is(first.auction.id, a.id, 'the seller hears it as soon as it opens an auction that ends soon')
  t.is(first.endsAt, a.endsAt, 'for its end')
  await everywhere(peers, a.id)

  // Alice's bid comes within the soft-close window: the end moves, and both hear of the new end
  const closed = peers.map((p) => once(p, 'auction-closed', (s) => s.auction.id === a.id, 20000))
  const extended = once(seller, 'auction-extended', (e) => e.auction.id === a.id)
  const sellerAgain = soon(seller, (e) => e.endsAt !== a.endsAt, 'ending-soon after the bid')
  const aliceSoon = soon(alice, () => true, 'ending-soon at the bidder')
  await alice.placeBid(a.id, '1')
  const { endsAt } = await extended
  t.ok(endsAt > a.endsAt, 'the bid moved the end')
  t.is((await sellerAgain).endsAt, endsAt, 'the seller hears again, of the new end')
  t.is((await aliceSoon).endsAt, endsAt, 'the bidder hears at once: it bid inside the window')

  await Promise.all(closed)
  t.alike(ends(heard.get(seller), a.id), [a.endsAt, endsAt], 'the seller: once per end')
  t.alike(ends(heard.get(alice), a.id), [endsAt], 'the bidder: once, of the end its bid left')
  t.alike(ends(heard.get(bob), a.id), [], 'a peer that takes no part hears nothing')
})

test('a bid inside the window without an extension: the bidder hears once, the seller not again', async (t) => {
  const { peers } = await createPeers(t, 2, { peer: { endingSoon: 5000 } })
  const [seller, bob] = peers
  const heard = peers.map((peer) => endingSoon(peer))
  const opened = once(seller, 'ending-soon', () => true, 10000, 'ending-soon at the opening')
  const a = await seller.openAuction({ item: 'Cup', price: '1', duration: 3000 })
  await opened
  await everywhere(peers, a.id)

  const closed = peers.map((p) => once(p, 'auction-closed', (s) => s.auction.id === a.id, 20000))
  const bobSoon = once(bob, 'ending-soon', () => true, 10000, 'ending-soon at the bidder')
  await bob.placeBid(a.id, '1')
  t.is((await bobSoon).endsAt, a.endsAt, 'the bidder hears at once, of the end')
  await Promise.all(closed)
  t.alike(
    heard.map((h) => ends(h, a.id)),
    [[a.endsAt], [a.endsAt]],
    'each once'
  )
})
