const test = require('brittle')
const net = require('net')
const fs = require('fs')
const path = require('path')
const { ControlServer, ControlClient, checkPrivateDir } = require('../lib/cli/control')
const { createBootstrap, createPeer, codeOf } = require('./helpers')
const { runCli } = require('./helpers/processes')

const ROOT = process.getuid && process.getuid() === 0
const OTHER_UID = 65534

function exchange(file, data) {
  return new Promise((resolve) => {
    const socket = net.connect(file)
    let out = ''
    socket.setEncoding('utf-8')
    socket.on('data', (chunk) => {
      out += chunk
      if (out.includes('\n')) {
        socket.destroy()
        resolve(JSON.parse(out.slice(0, out.indexOf('\n'))))
      }
    })
    socket.on('error', () => resolve(null))
    socket.write(data)
  })
}

test('the control socket answers commands and refuses malformed ones with codes', async (t) => {
  const testnet = await createBootstrap(t)
  const dir = path.join(await t.tmp(), 'peer')
  const peer = await createPeer(t, testnet, { storage: dir, name: 'me' })
  const control = new ControlServer(peer, dir)
  await control.listen()
  t.teardown(() => control.close(), { order: -1 })

  const client = new ControlClient(dir)
  t.alike(await client.request('id'), { publicKey: peer.id, name: 'me' })
  const opened = await client.request('open', { item: 'Pic#1', price: '75' })
  t.is((await client.request('show', { id: opened.id.slice(0, 6) })).item, 'Pic#1', 'id prefix')

  const bad = async (line) => (await exchange(control.path, line)).error.code
  t.is(await bad('not json\n'), 'BAD_REQUEST')
  t.is(await bad('42\n'), 'BAD_REQUEST')
  t.is(await bad('{"cmd":"rm -rf"}\n'), 'UNKNOWN_COMMAND')
  t.is(await bad('{"cmd":"__proto__"}\n'), 'UNKNOWN_COMMAND')
  t.is(await bad('{"cmd":"open","args":[]}\n'), 'BAD_REQUEST')
  t.is(await bad('{"cmd":"open","args":{"item":{},"price":"1"}}\n'), 'INVALID_ITEM')
  t.is(await bad('{"cmd":"bid","args":{"id":"zz","amount":"1"}}\n'), 'INVALID_ID')
  // A line may carry a picture of 2 MiB in base64, not more than 4 MiB
  t.is(await bad('x'.repeat(4 * 1024 * 1024 + 1)), 'PAYLOAD_TOO_LARGE')

  try {
    await client.request('close', { id: '0'.repeat(32) })
    t.fail('closed an unknown auction')
  } catch (err) {
    t.is(err.code, 'AUCTION_NOT_FOUND', 'errors reach the client with their code')
  }

  const second = new ControlServer(peer, dir)
  try {
    await second.listen()
    t.fail('two servers on one socket')
  } catch (err) {
    t.is(err.code, 'PEER_ALREADY_RUNNING')
  }
})

test('the folder of long-path sockets is refused unless private to this user', async (t) => {
  const tmp = await t.tmp()
  const dir = path.join(tmp, 'hyperauction-me')
  checkPrivateDir(dir, { create: true })
  t.is(fs.statSync(dir).mode & 0o777, 0o700, 'made for the user only')
  t.is(
    codeOf(() => checkPrivateDir(dir)),
    'ok'
  )

  for (const mode of [0o750, 0o701, 0o777]) {
    fs.chmodSync(dir, mode)
    t.is(
      codeOf(() => checkPrivateDir(dir, { create: true })),
      'CONTROL_SOCKET_UNSAFE',
      `mode ${mode.toString(8)} refused`
    )
  }
  fs.chmodSync(dir, 0o700)

  const link = path.join(tmp, 'link')
  fs.symlinkSync(dir, link)
  t.is(
    codeOf(() => checkPrivateDir(link)),
    'CONTROL_SOCKET_UNSAFE',
    'a link is refused'
  )
  const file = path.join(tmp, 'file')
  fs.writeFileSync(file, '')
  t.is(
    codeOf(() => checkPrivateDir(file)),
    'CONTROL_SOCKET_UNSAFE',
    'a file is refused'
  )

  if (!ROOT) return t.comment('only root can give a folder to another user')
  fs.chownSync(dir, OTHER_UID, OTHER_UID)
  t.is(
    codeOf(() => checkPrivateDir(dir)),
    'CONTROL_SOCKET_UNSAFE',
    'another user’s is refused'
  )
})

test('a socket that is not this user’s is never trusted', async (t) => {
  const storage = path.join(await t.tmp(), 'peer')
  fs.mkdirSync(storage)
  const file = path.join(storage, 'control.sock')

  // Not a socket at all
  fs.writeFileSync(file, '')
  await t.exception(new ControlClient(storage).request('id'), /CONTROL_SOCKET_UNSAFE/)
  fs.unlinkSync(file)

  if (!ROOT) return t.comment('only root can make a socket of another user')
  // Another user's server, answering every command with a success
  let asked = 0
  const fake = net.createServer((socket) => {
    asked++
    socket.end(JSON.stringify({ ok: true, result: { amount: '5', position: 1 } }) + '\n')
  })
  await new Promise((resolve) => fake.listen(file, resolve))
  t.teardown(() => new Promise((resolve) => fake.close(resolve)))
  fs.chownSync(file, OTHER_UID, OTHER_UID)

  await t.exception(new ControlClient(storage).request('bid'), /CONTROL_SOCKET_UNSAFE/)
  const res = await runCli(['bid', 'abcd', '5', '--storage', storage])
  t.is(res.code, 1)
  t.ok(res.stderr.startsWith('error: CONTROL_SOCKET_UNSAFE: '), res.stderr.trim())
  t.absent(res.stdout.includes('accepted'), 'no fake success printed')
  t.is(asked, 0, 'the fake server was never asked')

  // A peer starting on this folder says what is wrong, not that a peer runs
  const server = new ControlServer(null, storage)
  await t.exception(server.listen(), /CONTROL_SOCKET_UNSAFE/)
})
