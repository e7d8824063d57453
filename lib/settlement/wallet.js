const AuctionError = require('../errors')

// A signer for pay() and signClaim(): the WDK wallet for a seed phrase (BIP-44 account
// m/44'/60'/0'/0/index), a plain ethers wallet for a raw private key, which the WDK does not
// take. Both kits load here, on first use, so a peer that never settles never loads them.
function openWallet({ url, chainId, seed, index = 0, privateKey }) {
  if (seed !== undefined && seed !== null) return openWdk({ url, chainId, seed, index })
  if (privateKey !== undefined && privateKey !== null) {
    return openEthers({ url, chainId, privateKey })
  }
  throw AuctionError.INVALID_ARGUMENT('A seed phrase or a private key is needed to sign')
}

async function openWdk({ url, chainId, seed, index }) {
  // The package is ESM only; import() works on every Node 20, require(esm) only from 20.19
  const { default: WalletManagerEvm } = await import('@tetherto/wdk-wallet-evm')
  // With chainId the WDK gives its provider a static network: no detection loop that retries
  // forever against an endpoint that is down
  const config = url ? { provider: url, chainId: Number(chainId) } : {}
  let manager = null
  try {
    manager = new WalletManagerEvm(seed, config)
  } catch {
    // Never echo the seed: the WDK's own message does not, and neither do we
    throw AuctionError.INVALID_ARGUMENT('The seed phrase is not a valid BIP-39 phrase')
  }
  const account = await manager.getAccount(index)
  return {
    address: (await account.getAddress()).toLowerCase(),
    async transfer(token, to, amount) {
      const { hash } = await account.transfer({ token, recipient: to, amount })
      return hash
    },
    sign(message) {
      return account.sign(message)
    },
    close() {
      // Erases the private key from memory
      manager.dispose()
    }
  }
}

function openEthers({ url, chainId, privateKey }) {
  const { Wallet, JsonRpcProvider, Interface } = require('ethers')
  let wallet = null
  try {
    wallet = new Wallet(privateKey)
  } catch {
    throw AuctionError.INVALID_ARGUMENT('The private key is not a 32-byte hex string')
  }
  const provider = url
    ? new JsonRpcProvider(url, Number(chainId), { staticNetwork: true, cacheTimeout: -1 })
    : null
  const signer = provider ? wallet.connect(provider) : wallet
  return {
    address: wallet.address.toLowerCase(),
    async transfer(token, to, amount) {
      const iface = new Interface(['function transfer(address to, uint256 amount) returns (bool)'])
      const data = iface.encodeFunctionData('transfer', [to, amount])
      const { hash } = await signer.sendTransaction({ to: token, value: 0, data })
      return hash
    },
    sign(message) {
      return wallet.signMessage(message)
    },
    close() {
      if (provider) provider.destroy()
    }
  }
}

module.exports = { openWallet }
