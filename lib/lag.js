// How late this process runs its timers. A peer whose own event loop is behind (a busy
// machine, many peers in one process) would otherwise blame its peers for the time it took
// itself: their answers would look slow and their requests time out, and it would drop good
// connections just when it can least afford new ones. total() only grows: the lateness
// accumulated between two readings is this process's own share of the time between them.
const TICK = 100

let users = 0
let timer = null
let last = 0
let lateness = 0

function tick() {
  const now = Date.now()
  lateness += Math.max(0, now - last - TICK)
  last = now
}

// Counted while at least one user holds it; the timer never keeps the process alive
function acquire() {
  if (users++ > 0) return
  last = Date.now()
  timer = setInterval(tick, TICK)
  timer.unref()
}

function release() {
  if (--users > 0) return
  clearInterval(timer)
  timer = null
}

// Lateness so far, including the current stretch since the last tick
function total() {
  if (timer === null) return 0
  return lateness + Math.max(0, Date.now() - last - TICK)
}

module.exports = { acquire, release, total }
