// How late this process runs its timers. A peer whose own event loop is behind (a busy
// machine, many peers in one process) would otherwise blame its peers for the time it took
// itself: their answers would look slow and their requests time out, and it would drop good
// connections just when it can least afford new ones.
// since(t) is the longest single stall since time t: what this process itself can have added
// to an answer that came in meanwhile. (A sum of small delays would excuse slow peers: a busy
// loop runs every timer a little late.)
const { performance } = require('perf_hooks')

const TICK = 100
// Stalls remembered: about a minute of ticks at most
const HISTORY = 600

let users = 0
let timer = null
let last = 0
// Late ticks, oldest first: { at, late }
let stalls = []

function tick() {
  busy()
  const now = Date.now()
  const late = now - last - TICK
  last = now
  if (late <= 0) return
  stalls.push({ at: now, late })
  if (stalls.length > HISTORY) stalls = stalls.slice(-HISTORY / 2)
}

// Counted while at least one user holds it; the timer never keeps the process alive
function acquire() {
  if (users++ > 0) return
  last = Date.now()
  stalls = []
  timer = setInterval(tick, TICK)
  timer.unref()
}

function release() {
  if (--users > 0) return
  clearInterval(timer)
  timer = null
}

// The longest stall that ended at or after time t, counting the one under way now
function since(t) {
  if (timer === null) return 0
  let longest = Math.max(0, Date.now() - last - TICK)
  for (let i = stalls.length - 1; i >= 0 && stalls[i].at >= t; i--) {
    if (stalls[i].late > longest) longest = stalls[i].late
  }
  return longest
}

// Busy: the event loop ran for more than BUSY of the last second. Sampled every second while
// the ticks run, else when asked (a sample older than two windows only starts a new one). A
// busy process gets answers late with no single long stall: on 2 cores with 1,000 peers, the
// transport's acks waited behind the work of hundreds of peers.
const BUSY = 0.8
const BUSY_WINDOW = 1000
let elu = null
let eluAt = 0
let wasBusy = false

function busy() {
  const now = Date.now()
  if (now - eluAt >= BUSY_WINDOW) sampleBusy(now)
  return wasBusy
}

function sampleBusy(now) {
  const next = performance.eventLoopUtilization()
  if (elu !== null && now - eluAt < 2 * BUSY_WINDOW) {
    wasBusy = performance.eventLoopUtilization(next, elu).utilization > BUSY
  } else {
    wasBusy = false
  }
  elu = next
  eluAt = now
}

module.exports = { acquire, release, since, busy }
