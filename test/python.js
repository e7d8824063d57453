const test = require('brittle')
const path = require('path')
const { spawn, spawnSync } = require('child_process')

const ROOT = path.join(__dirname, '..')
// Debian's Python, because its pytest (python3-pytest) is the one this machine and CI can have:
// PyPI is out of reach
const PYTHON = '/usr/bin/python3'
const APT = 'apt-get install -y python3-pytest python3-venv'

const ready = spawnSync(PYTHON, ['-c', 'import pytest, venv, ensurepip']).status === 0
const maybe = ready ? test : test.skip
const name = ready
  ? 'the Python client, installed offline by pip, passes its pytest suite against real daemons'
  : `the Python client (skipped: ${PYTHON} cannot import pytest and venv; ${APT})`

maybe(name, { timeout: 240000 }, async (t) => {
  const dir = await t.tmp()
  const venv = path.join(dir, 'venv')
  const env = {
    ...process.env,
    HYPERAUCTION_REPO: ROOT,
    HYPERAUCTION_NODE: process.execPath,
    PYTHONDONTWRITEBYTECODE: '1',
    PIP_DISABLE_PIP_VERSION_CHECK: '1',
    PIP_NO_INPUT: '1'
  }
  const python = path.join(venv, 'bin', 'python')

  const made = await run(t, PYTHON, ['-m', 'venv', '--system-site-packages', venv], env)
  t.is(made.code, 0, 'venv made')

  const pip = await run(t, python, ['-m', 'pip', 'install', '--no-index', './python'], env)
  if (pip.code !== 0) t.comment(pip.output)
  t.is(pip.code, 0, 'pip install ./python works with no package index')

  const basetemp = path.join(dir, 'pytest')
  const args = ['-m', 'pytest', 'python/tests', '-q', '-p', 'no:cacheprovider']
  const pytest = await run(t, python, [...args, '--basetemp', basetemp], env)
  const summary = pytest.output
    .trim()
    .split('\n')
    .filter((line) => /\d+ (passed|failed|error)/.test(line))
    .pop()
  t.comment(`pytest: ${summary}`)
  if (pytest.code !== 0) t.comment(pytest.output)
  t.is(pytest.code, 0, 'pytest passed')
  t.ok(/^=*\s*\d+ passed/.test(summary || ''), 'every test passed')
  t.absent(/failed|error|skipped/.test(summary || ''), 'none failed or was skipped')
})

// Runs a command in its own process group, so a test that gives up also stops the daemons
// pytest started; resolves with its exit code and its output
function run(t, cmd, args, env) {
  const child = spawn(cmd, args, {
    cwd: ROOT,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding('utf-8')
    stream.on('data', (data) => {
      output += data
    })
  }
  const exited = new Promise((resolve) => {
    child.once('error', (err) => resolve({ code: -1, output: String(err) }))
    child.once('close', (code) => resolve({ code, output }))
  })
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      // pytest turns SIGTERM into a clean stop of its daemons; SIGKILL if it does not
      signalGroup(child, 'SIGTERM')
      const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), 20000)
      await exited
      clearTimeout(timer)
    }
    signalGroup(child, 'SIGKILL')
  })
  return exited
}

function signalGroup(child, signal) {
  try {
    process.kill(-child.pid, signal)
  } catch (err) {
    if (err.code !== 'ESRCH') throw err
  }
}
