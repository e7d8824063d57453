// The chain side of USDt settlement. Requiring this loads neither ethers, the WDK nor the local chain:
// each loads inside the first function that needs it.
const { startLocalChain, deployToken, mine, CHAIN_ID } = require('./local-chain')
const { pay } = require('./pay')
const { verifyPayment } = require('./verify')
const { claimMessage, signClaim, verifyClaimSignature } = require('./claim')
const { isAddress, isTxHash } = require('./address')

module.exports = {
  startLocalChain,
  deployToken,
  mine,
  pay,
  verifyPayment,
  claimMessage,
  signClaim,
  verifyClaimSignature,
  isAddress,
  isTxHash,
  LOCAL_CHAIN_ID: CHAIN_ID
}
