const b4a = require('b4a')
const AuctionError = require('../errors')
const { openWallet } = require('./wallet')
const { toAddress, isTxHash } = require('./address')

const HEX = /^[0-9a-f]+$/

// The text the paying address signs (EIP-191 personal_sign) to claim its transfer for a bidder:
// whoever only saw the transaction on chain cannot produce it
function claimMessage({ auction, txHash, bidder }) {
  if (!isTxHash(txHash)) {
    throw AuctionError.INVALID_ARGUMENT('The transaction hash is not 0x and 64 hex digits')
  }
  return [
    'hyperauction payment claim',
    'auction: ' + toHex(auction, 'auction id'),
    'tx: ' + txHash.toLowerCase(),
    'bidder: ' + toHex(bidder, 'bidder key')
  ].join('\n')
}

// Signs a claim message with the WDK wallet of a seed phrase, or a private key; resolves with
// the 65-byte signature as 0x hex
async function signClaim({ seed, index = 0, privateKey, message }) {
  const wallet = await openWallet({ seed, index, privateKey })
  try {
    return await wallet.sign(message)
  } finally {
    wallet.close()
  }
}

// Resolves when `from` (the sender of the verified Transfer) signed the message; else NOT_PAYER
function verifyClaimSignature({ message, signature, from }) {
  const { verifyMessage } = require('ethers')
  const payer = toAddress(from, 'payer address')
  let signer = null
  try {
    signer = verifyMessage(message, signature).toLowerCase()
  } catch {
    throw AuctionError.NOT_PAYER('The claim carries no valid signature')
  }
  if (signer !== payer) {
    // The usual mistake: the claim text signed as printed on one line, its line breaks escaped
    let escaped = null
    try {
      escaped = verifyMessage(JSON.stringify(message).slice(1, -1), signature).toLowerCase()
    } catch {
      // verified above: this one parses the same signature, and cannot fail differently
      escaped = null
    }
    if (escaped === payer) {
      throw AuctionError.NOT_PAYER(
        'The claim is signed by the paying address, but over another text: its line breaks were written as \\n. Sign the text with real line breaks'
      )
    }
    throw AuctionError.NOT_PAYER(`The claim is signed by ${signer}, the payment came from ${payer}`)
  }
  return signer
}

function toHex(id, what) {
  const hex =
    typeof id === 'string' ? id.toLowerCase() : b4a.isBuffer(id) ? b4a.toString(id, 'hex') : ''
  if (!HEX.test(hex) || hex.length % 2 !== 0) {
    throw AuctionError.INVALID_ARGUMENT(`The ${what} is not hex`)
  }
  return hex
}

module.exports = { claimMessage, signClaim, verifyClaimSignature }
