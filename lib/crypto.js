const crypto = require('hypercore-crypto')
const Hypercore = require('hypercore')
const b4a = require('b4a')
const m = require('./messages')
const { TOPIC_PREFIX } = require('./constants')

const [NS_BID, NS_AUCTION_ID, NS_ACCEPT] = crypto.namespace('hyperauction', 3)

// Corestore's default manifest for a core opened with a key pair: one signer, that key
const MANIFEST_VERSION = 1

function signBid(bid, keyPair) {
  bid.signature = crypto.sign(b4a.concat([NS_BID, m.encode(m.bidBody, bid)]), keyPair.secretKey)
  return bid
}

function verifyBid(bid) {
  return crypto.verify(b4a.concat([NS_BID, m.encode(m.bidBody, bid)]), bid.signature, bid.bidder)
}

// A bidder's yes to a second-chance offer of an auction at its own signed bid
function acceptance(auction, bid) {
  return b4a.concat([NS_ACCEPT, auction, bid.signature])
}

function signAcceptance(auction, bid, keyPair) {
  return crypto.sign(acceptance(auction, bid), keyPair.secretKey)
}

function verifyAcceptance(auction, bid, signature) {
  return crypto.verify(acceptance(auction, bid), signature, bid.bidder)
}

// Where an AuctionOpened stands in its seller's log names the auction: nobody can take
// another seller's id, and a receiver derives it instead of trusting it
function auctionId(seller, index, offset) {
  const pos = b4a.alloc(12)
  const view = new DataView(pos.buffer, pos.byteOffset)
  view.setBigUint64(0, BigInt(index))
  view.setUint32(8, offset)
  return crypto.hash([NS_AUCTION_ID, seller, pos]).subarray(0, 16)
}

// A peer's log is signed by its own key pair, so its manifest follows from its public key
function logManifest(publicKey) {
  return { version: MANIFEST_VERSION, signers: [{ publicKey }] }
}

function logKey(publicKey) {
  return Hypercore.key(logManifest(publicKey))
}

function topic(network) {
  return crypto.hash(b4a.from(TOPIC_PREFIX + network))
}

function randomNonce() {
  return crypto.randomBytes(16)
}

module.exports = {
  signBid,
  verifyBid,
  signAcceptance,
  verifyAcceptance,
  auctionId,
  logManifest,
  logKey,
  topic,
  randomNonce,
  hash: crypto.hash,
  treeHash: crypto.tree,
  discoveryKey: crypto.discoveryKey,
  keyPair: crypto.keyPair
}
