// A local chain for trying settlement by hand: anvil on 127.0.0.1 with test USDt, until Ctrl+C.
// node scripts/local-chain.js [buyers]
const { startLocalChain } = require('../lib/settlement/chain')

async function main() {
  const chain = await startLocalChain({ buyers: Number(process.argv[2] || 3) })
  const seller = chain.accounts[chain.accounts.length - 1]
  console.log(`chain ${chain.chainId} at ${chain.url}`)
  console.log(`test USDt:     ${chain.token}`)
  console.log(`seller pay-to: ${seller.address}`)
  console.log(`seed phrase of the buyers (accounts 1..${chain.buyers.length}, 1,000 USDt each):`)
  console.log(`  ${chain.buyers[0].mnemonic}`)
  console.log('Ctrl+C stops the chain.')
  const stop = () => chain.close().then(() => process.exit(0))
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  setInterval(() => {}, 1 << 30)
}

main().catch((err) => {
  console.error(`error: ${err.code || 'INTERNAL'}: ${err.message}`)
  process.exit(1)
})
