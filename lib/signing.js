const crypto = require('hypercore-crypto')
const b4a = require('b4a')
const m = require('./messages')
const { PROTOCOL } = require('./constants')

const [NS_EVENT, NS_BID, NS_AUCTION_ID] = crypto.namespace('hyperauction', 3)

function signable(ns, enc, msg) {
  return b4a.concat([ns, m.encode(enc, msg)])
}

function signEvent(evt, keyPair) {
  evt.signature = crypto.sign(signable(NS_EVENT, m.eventBody, evt), keyPair.secretKey)
  return evt
}

function verifyEvent(evt) {
  return crypto.verify(signable(NS_EVENT, m.eventBody, evt), evt.signature, evt.author)
}

function signBid(bid, keyPair) {
  bid.signature = crypto.sign(signable(NS_BID, m.bidBody, bid), keyPair.secretKey)
  return bid
}

function verifyBid(bid) {
  return crypto.verify(signable(NS_BID, m.bidBody, bid), bid.signature, bid.bidder)
}

// Derived from (seller, seq), so a receiver can check it and nobody can take another's id
function auctionId(seller, seq) {
  const seqBuf = b4a.alloc(8)
  new DataView(seqBuf.buffer, seqBuf.byteOffset).setBigUint64(0, BigInt(seq))
  return crypto.hash([NS_AUCTION_ID, seller, seqBuf]).subarray(0, 16)
}

function eventHash(buf) {
  return crypto.hash(buf)
}

function topic(network) {
  return crypto.hash(b4a.from(PROTOCOL + '/' + network))
}

function randomNonce() {
  return crypto.randomBytes(16)
}

module.exports = {
  signEvent,
  verifyEvent,
  signBid,
  verifyBid,
  auctionId,
  eventHash,
  topic,
  randomNonce,
  keyPair: crypto.keyPair
}
