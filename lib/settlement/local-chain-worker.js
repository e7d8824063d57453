// The ganache server of startLocalChain, in a process of its own so that close() can always
// kill it, even when the chain hangs, and its block production never stalls the caller's loop
const ganache = require('ganache')

const { chainId, totalAccounts, port } = JSON.parse(process.argv[2])

const server = ganache.server({
  logging: { quiet: true },
  chain: { chainId },
  wallet: { deterministic: true, totalAccounts },
  // Each transaction is mined before eth_sendRawTransaction answers; failing ones are mined too,
  // with status 0, instead of being refused (vmErrorsOnRPCResponse is false by default)
  miner: { instamine: 'eager' }
})

// The parent is gone (crashed or closed us): a chain nobody can reach must not outlive it
process.on('disconnect', () => process.exit(0))
process.on('SIGTERM', () => {
  server.close().then(
    () => process.exit(0),
    () => process.exit(1)
  )
})

server.listen(port, '127.0.0.1').then(
  () => {
    const initial = server.provider.getInitialAccounts()
    const accounts = Object.keys(initial).map((address) => ({
      address,
      privateKey: initial[address].secretKey
    }))
    process.send({
      port: server.address().port,
      mnemonic: server.provider.getOptions().wallet.mnemonic,
      accounts
    })
  },
  (err) => {
    process.send({ error: err.message })
    process.exit(1)
  }
)
