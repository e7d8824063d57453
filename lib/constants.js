module.exports = {
  PROTOCOL: 'hyperauction/1',
  MAX_ITEM_BYTES: 256,
  MAX_CURRENCY_LENGTH: 12,
  MAX_NAME_BYTES: 64,
  MAX_PAYLOAD: 64 * 1024,
  MAX_HELLO_PEERS: 64,
  MAX_SYNC_HEADS: 4096,
  SYNC_PAGE_EVENTS: 512,
  SYNC_PAGE_BYTES: 60 * 1024,
  MAX_PENDING_PER_AUTHOR: 1024,
  MAX_PENDING_AUTHORS: 64,
  MAX_GREETINGS: 64,
  // setTimeout cannot wait longer than 2^31-1 ms; longer auctions re-arm their timer
  MAX_TIMER: 2 ** 31 - 1
}
