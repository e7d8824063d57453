const fs = require('fs')
const path = require('path')
const crypto = require('crypto')
const { checkPrivateDir } = require('../cli/control')

const TOKEN = /^[0-9a-f]{64}$/

// The board's token: 32 random bytes in hex, in <storage>/control/web-token (the folder 0700 and
// this user's, the file 0600), made on the first start with --web and kept for the next ones
function webToken(storage) {
  const dir = path.join(path.resolve(storage), 'control')
  checkPrivateDir(dir, { create: true })
  const file = path.join(dir, 'web-token')
  try {
    const token = fs.readFileSync(file, 'utf-8').trim()
    if (TOKEN.test(token)) return token
  } catch (err) {
    if (err.code !== 'ENOENT') throw err
  }
  // Missing, or not a token (cut short, edited): a new one
  const token = crypto.randomBytes(32).toString('hex')
  fs.writeFileSync(file, token + '\n', { mode: 0o600 })
  fs.chmodSync(file, 0o600)
  return token
}

module.exports = { webToken }
