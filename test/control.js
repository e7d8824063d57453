const test = require('brittle')
const net = require('net')
const path = require('path')
const { ControlServer, ControlClient } = require('../lib/cli/control')
const { createBootstrap, createPeer } = require('./helpers')

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
  t.is(await bad('x'.repeat(70 * 1024)), 'PAYLOAD_TOO_LARGE')

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
