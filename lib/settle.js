// Waits for the replication data a core is still verifying. Hypercore finishes verifying a block
// after its connection is gone and then reads storage in the background; a core closed under it
// throws 'RocksDB session is closed' where nothing can catch it. Close connections first, then
// settle each core, then close it.
async function settle(session) {
  const replicator = session.core && session.core.replicator
  const lock = replicator && replicator._rxLock
  if (!lock || lock.destroyed) return
  try {
    await lock.lock()
    lock.unlock()
  } catch {
    // A destroyed lock: the core is closing already and verifies nothing more
  }
  // What the verify started in the background runs on the next ticks
  await new Promise((resolve) => setImmediate(resolve))
}

module.exports = settle
