#!/usr/bin/env node
// Compiles contracts/TestUSDT.sol into lib/settlement/token.json, which is committed: nothing
// compiles at run time. solc-js comes from npx, so it never enters package.json.
//
//   node scripts/compile-token.js

const { spawnSync } = require('child_process')
const fs = require('fs')
const path = require('path')

const SOLC = 'solc@0.8.26'
// shanghai, which every local chain of the last years runs (anvil runs later forks too)
const EVM_VERSION = 'shanghai'
const SOURCE = path.join(__dirname, '..', 'contracts', 'TestUSDT.sol')
const OUTPUT = path.join(__dirname, '..', 'lib', 'settlement', 'token.json')

const input = {
  language: 'Solidity',
  sources: { 'TestUSDT.sol': { content: fs.readFileSync(SOURCE, 'utf8') } },
  settings: {
    evmVersion: EVM_VERSION,
    optimizer: { enabled: true, runs: 200 },
    // No metadata hash, so the same source always gives the same bytecode
    metadata: { bytecodeHash: 'none', appendCBOR: false },
    outputSelection: { '*': { TestUSDT: ['abi', 'evm.bytecode.object'] } }
  }
}

const run = spawnSync('npx', ['-y', '-p', SOLC, 'solcjs', '--standard-json'], {
  input: JSON.stringify(input),
  encoding: 'utf8',
  maxBuffer: 64 * 1024 * 1024
})
if (run.status !== 0) {
  process.stderr.write(run.stderr)
  throw new Error(`solcjs exited with ${run.status}`)
}

// solcjs may print notices before the JSON document
const output = JSON.parse(run.stdout.slice(run.stdout.indexOf('{')))
const errors = (output.errors || []).filter((e) => e.severity === 'error')
if (errors.length) throw new Error(errors.map((e) => e.formattedMessage).join('\n'))
for (const w of output.errors || []) process.stderr.write(w.formattedMessage)

const contract = output.contracts['TestUSDT.sol'].TestUSDT
const token = {
  contract: 'TestUSDT',
  compiler: SOLC,
  evmVersion: EVM_VERSION,
  abi: contract.abi,
  bytecode: '0x' + contract.evm.bytecode.object
}
fs.writeFileSync(OUTPUT, JSON.stringify(token, null, 2) + '\n')
console.log(
  `wrote ${path.relative(process.cwd(), OUTPUT)} (${contract.evm.bytecode.object.length / 2} bytes of bytecode)`
)
