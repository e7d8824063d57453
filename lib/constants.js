module.exports = {
  // Method names carry the wire version; the DHT topic keeps the network's first name
  PROTOCOL: 'hyperauction/6',
  TOPIC_PREFIX: 'hyperauction/1/',
  // Storage layout version, kept in the view; 0.1 kept everything in one Hyperbee
  STORAGE_VERSION: 3,
  MAX_ITEM_BYTES: 256,
  MAX_CURRENCY_LENGTH: 12,
  MAX_NAME_BYTES: 64,
  MAX_PAYLOAD: 64 * 1024,
  MAX_HELLO_PEERS: 64,
  // Logs named in one news message
  MAX_NEWS: 64,
  MAX_GREETINGS: 64,
  // A block of the own log packs up to this many events, or this many bytes
  MAX_BLOCK_EVENTS: 64,
  MAX_BLOCK_BYTES: 16384,
  // Remote logs followed (open) at once; past it the least useful one is closed
  MAX_LOGS: 4096,
  // Remote logs stored, followed and dormant; past it the least useful one is forgotten and
  // its storage cleared
  MAX_STORED_LOGS: 16384,
  // Logs this peer does not follow that one connection may have opened at once (a remote asks
  // for a log's channel and the store opens it to serve it)
  MAX_SERVED_LOGS: 64,
  // Bytes of one remote log block: a log whose signed size shows a larger one is refused
  // before its blocks are downloaded, and a block is checked again before it is decoded
  MAX_REMOTE_BLOCK: 64 * 1024,
  // Blocks of one remote log: beyond, the log is dropped
  MAX_LOG_BLOCKS: 1024 * 1024,
  // One download of a remote log asks for at most this many bytes and blocks at once
  DOWNLOAD_BYTES: 1024 * 1024,
  DOWNLOAD_BLOCKS: 1024,
  // One page of the logs directory a peer serves
  LOGS_PAGE: 1024,
  // Open auctions of one seller at once: beyond, an opening is refused by the seller's peer
  // and by every peer that applies its log
  MAX_OPEN_AUCTIONS: 1000,
  // Bytes of one remote log: beyond, the log is dropped
  MAX_LOG_BYTES: 256 * 1024 * 1024,
  // Events of one remote log applied per second, past a burst that covers catching up
  LOG_EVENT_RATE: 1000,
  LOG_EVENT_BURST: 100000,
  // Bidders one auction may refuse
  MAX_REFUSED: 1024,
  // Refused bidders named in an auction's public shape (refusedCount counts them all)
  SHOWN_REFUSED: 64,
  // Bidders one seller blocks from all its auctions at once
  MAX_BLOCKED: 4096,
  // A picture of an item: its bytes, and the media types taken (checked by their magic bytes)
  MAX_PICTURE_BYTES: 2 * 1024 * 1024,
  PICTURE_TYPES: ['image/png', 'image/jpeg', 'image/webp', 'image/gif'],
  // Soft-close window and its extensions: at most a day, at most this many
  MAX_SOFT_CLOSE: 24 * 60 * 60 * 1000,
  MAX_EXTENSIONS: 1000,
  // Time a buyer has to pay, as settlement terms may set it
  MIN_PAY_WITHIN: 1000,
  MAX_PAY_WITHIN: 30 * 24 * 60 * 60 * 1000,
  // A bid signed further than this from the seller's clock is refused
  MAX_BID_SKEW: 5 * 60 * 1000,
  // Decoded auction views kept in memory; the rest stay in the view's Hyperbee
  VIEW_CACHE: 4096,
  // How long a bid, a payment claim's record or an offer's acceptance waits for the seller's
  // signed block
  BID_TIMEOUT: 5000,
  // setTimeout cannot wait longer than 2^31-1 ms; longer auctions re-arm their timer
  MAX_TIMER: 2 ** 31 - 1
}
