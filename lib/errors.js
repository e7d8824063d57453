class AuctionError extends Error {
  constructor(msg, code, fn = AuctionError, cause) {
    super(`${code}: ${msg}`, cause === undefined ? undefined : { cause })
    this.code = code

    if (Error.captureStackTrace) Error.captureStackTrace(this, fn)
  }

  get name() {
    return 'AuctionError'
  }

  // Over RPC the original error arrives as err.cause with only message and code
  static from(err) {
    if (err instanceof AuctionError) return err
    const cause = err && err.cause
    if (cause && typeof cause.code === 'string' && CODES.has(cause.code)) {
      const msg = String(cause.message).replace(cause.code + ': ', '')
      return new AuctionError(msg, cause.code, AuctionError.from)
    }
    return null
  }

  static NONCE_REUSED(msg = 'Another bid on this auction has this nonce') {
    return new AuctionError(msg, 'NONCE_REUSED', AuctionError.NONCE_REUSED)
  }

  static STORAGE_UNSAFE(msg = 'The storage folder is open to other users') {
    return new AuctionError(msg, 'STORAGE_UNSAFE', AuctionError.STORAGE_UNSAFE)
  }

  static BID_TOO_LOW(msg = 'Bid is not above the current highest bid') {
    return new AuctionError(msg, 'BID_TOO_LOW', AuctionError.BID_TOO_LOW)
  }

  static AUCTION_CLOSED(msg = 'Auction is closed') {
    return new AuctionError(msg, 'AUCTION_CLOSED', AuctionError.AUCTION_CLOSED)
  }

  static BID_EXPIRED(msg = 'The bid was signed too far from the seller’s clock') {
    return new AuctionError(msg, 'BID_EXPIRED', AuctionError.BID_EXPIRED)
  }

  static AUCTION_ENDED(msg = 'Auction has passed its end time') {
    return new AuctionError(msg, 'AUCTION_ENDED', AuctionError.AUCTION_ENDED)
  }

  static AUCTION_NOT_FOUND(msg = 'No such auction') {
    return new AuctionError(msg, 'AUCTION_NOT_FOUND', AuctionError.AUCTION_NOT_FOUND)
  }

  static OWN_AUCTION(msg = 'A seller cannot bid on its own auction') {
    return new AuctionError(msg, 'OWN_AUCTION', AuctionError.OWN_AUCTION)
  }

  static NOT_SELLER(msg = 'Only the seller can do this') {
    return new AuctionError(msg, 'NOT_SELLER', AuctionError.NOT_SELLER)
  }

  static INVALID_AMOUNT(msg = 'Invalid amount') {
    return new AuctionError(msg, 'INVALID_AMOUNT', AuctionError.INVALID_AMOUNT)
  }

  static INVALID_ITEM(msg = 'Invalid item') {
    return new AuctionError(msg, 'INVALID_ITEM', AuctionError.INVALID_ITEM)
  }

  static INVALID_CURRENCY(msg = 'Invalid currency') {
    return new AuctionError(msg, 'INVALID_CURRENCY', AuctionError.INVALID_CURRENCY)
  }

  static INVALID_DURATION(msg = 'Invalid duration or end time') {
    return new AuctionError(msg, 'INVALID_DURATION', AuctionError.INVALID_DURATION)
  }

  static INVALID_ID(msg = 'Invalid auction id') {
    return new AuctionError(msg, 'INVALID_ID', AuctionError.INVALID_ID)
  }

  static INVALID_SIGNATURE(msg = 'Signature does not verify') {
    return new AuctionError(msg, 'INVALID_SIGNATURE', AuctionError.INVALID_SIGNATURE)
  }

  static INVALID_EVENT(msg = 'Event breaks the auction rules') {
    return new AuctionError(msg, 'INVALID_EVENT', AuctionError.INVALID_EVENT)
  }

  static BIDDER_MISMATCH(msg = 'Bid must be sent by its bidder') {
    return new AuctionError(msg, 'BIDDER_MISMATCH', AuctionError.BIDDER_MISMATCH)
  }

  static BAD_REQUEST(msg = 'Malformed request') {
    return new AuctionError(msg, 'BAD_REQUEST', AuctionError.BAD_REQUEST)
  }

  static PAYLOAD_TOO_LARGE(msg = 'Payload too large') {
    return new AuctionError(msg, 'PAYLOAD_TOO_LARGE', AuctionError.PAYLOAD_TOO_LARGE)
  }

  static BUSY(msg = 'Too many requests in flight from this peer') {
    return new AuctionError(msg, 'BUSY', AuctionError.BUSY)
  }

  static SELLER_UNREACHABLE(msg = 'The seller could not be reached') {
    return new AuctionError(msg, 'SELLER_UNREACHABLE', AuctionError.SELLER_UNREACHABLE)
  }

  static PEER_UNREACHABLE(msg = 'The peer could not be reached') {
    return new AuctionError(msg, 'PEER_UNREACHABLE', AuctionError.PEER_UNREACHABLE)
  }

  static PEER_REFUSED(msg = 'The peer answered with an error') {
    return new AuctionError(msg, 'PEER_REFUSED', AuctionError.PEER_REFUSED)
  }

  static REQUEST_TIMEOUT(msg = 'Request timed out') {
    return new AuctionError(msg, 'REQUEST_TIMEOUT', AuctionError.REQUEST_TIMEOUT)
  }

  static PEER_CLOSED(msg = 'Peer is closed') {
    return new AuctionError(msg, 'PEER_CLOSED', AuctionError.PEER_CLOSED)
  }

  static INTERNAL(msg = 'Internal error') {
    return new AuctionError(msg, 'INTERNAL', AuctionError.INTERNAL)
  }

  static PEER_NOT_RUNNING(msg = 'No peer is running on this storage folder') {
    return new AuctionError(msg, 'PEER_NOT_RUNNING', AuctionError.PEER_NOT_RUNNING)
  }

  static PEER_ALREADY_RUNNING(msg = 'A peer is already running on this storage folder') {
    return new AuctionError(msg, 'PEER_ALREADY_RUNNING', AuctionError.PEER_ALREADY_RUNNING)
  }

  static UNKNOWN_COMMAND(msg = 'Unknown command') {
    return new AuctionError(msg, 'UNKNOWN_COMMAND', AuctionError.UNKNOWN_COMMAND)
  }

  static INVALID_ARGUMENT(msg = 'Invalid argument') {
    return new AuctionError(msg, 'INVALID_ARGUMENT', AuctionError.INVALID_ARGUMENT)
  }

  static STORAGE_VERSION(msg = 'Storage was written by another version of hyperauction') {
    return new AuctionError(msg, 'STORAGE_VERSION', AuctionError.STORAGE_VERSION)
  }

  static STORAGE_UNREADABLE(msg = 'The storage folder cannot be read') {
    return new AuctionError(msg, 'STORAGE_UNREADABLE', AuctionError.STORAGE_UNREADABLE)
  }

  static LOG_RECOVERING(msg = 'Recovering the tail of this peer’s own log from peers') {
    return new AuctionError(msg, 'LOG_RECOVERING', AuctionError.LOG_RECOVERING)
  }

  static DISPUTED(msg = 'This seller signed two histories') {
    return new AuctionError(msg, 'DISPUTED', AuctionError.DISPUTED)
  }

  static TOO_MANY_LOGS(msg = 'This peer holds as many logs as it may') {
    return new AuctionError(msg, 'TOO_MANY_LOGS', AuctionError.TOO_MANY_LOGS)
  }

  static TOO_MANY_AUCTIONS(msg = 'This seller has as many open auctions as it may') {
    return new AuctionError(msg, 'TOO_MANY_AUCTIONS', AuctionError.TOO_MANY_AUCTIONS)
  }

  static LOG_NOT_HELD(msg = 'This peer holds no signed tree of that log') {
    return new AuctionError(msg, 'LOG_NOT_HELD', AuctionError.LOG_NOT_HELD)
  }

  static LOG_TOO_LARGE(msg = 'This log is larger than a peer holds') {
    return new AuctionError(msg, 'LOG_TOO_LARGE', AuctionError.LOG_TOO_LARGE)
  }

  static NO_SETTLEMENT(msg = 'This auction has no settlement terms') {
    return new AuctionError(msg, 'NO_SETTLEMENT', AuctionError.NO_SETTLEMENT)
  }

  static NOT_SOLD(msg = 'This auction is not sold') {
    return new AuctionError(msg, 'NOT_SOLD', AuctionError.NOT_SOLD)
  }

  static ALREADY_PAID(msg = 'This sale is paid already') {
    return new AuctionError(msg, 'ALREADY_PAID', AuctionError.ALREADY_PAID)
  }

  static NOT_BUYER(msg = 'Only the buyer of this sale can do this') {
    return new AuctionError(msg, 'NOT_BUYER', AuctionError.NOT_BUYER)
  }

  static TX_USED(msg = 'This transfer was already counted for a payment') {
    return new AuctionError(msg, 'TX_USED', AuctionError.TX_USED)
  }

  static DEADLINE_PASSED(msg = 'The time to pay has run out') {
    return new AuctionError(msg, 'DEADLINE_PASSED', AuctionError.DEADLINE_PASSED)
  }

  static NO_OFFER(msg = 'No second-chance offer is pending') {
    return new AuctionError(msg, 'NO_OFFER', AuctionError.NO_OFFER)
  }

  static OFFER_EXPIRED(msg = 'The second-chance offer has expired') {
    return new AuctionError(msg, 'OFFER_EXPIRED', AuctionError.OFFER_EXPIRED)
  }

  static NO_CHAIN(msg = 'This peer has no EVM endpoint configured (start it with --chain-rpc)') {
    return new AuctionError(msg, 'NO_CHAIN', AuctionError.NO_CHAIN)
  }

  static PAYMENT_REFUSED(msg = 'The payment could not be verified') {
    return new AuctionError(msg, 'PAYMENT_REFUSED', AuctionError.PAYMENT_REFUSED)
  }

  static WRONG_CHAIN(msg = 'The endpoint serves another chain') {
    return new AuctionError(msg, 'WRONG_CHAIN', AuctionError.WRONG_CHAIN)
  }

  static UNKNOWN_TX(msg = 'The endpoint knows no such transaction') {
    return new AuctionError(msg, 'UNKNOWN_TX', AuctionError.UNKNOWN_TX)
  }

  static TX_REVERTED(msg = 'The transaction was mined but reverted') {
    return new AuctionError(msg, 'TX_REVERTED', AuctionError.TX_REVERTED)
  }

  static WRONG_TOKEN(msg = 'The transaction moved no tokens of the agreed contract') {
    return new AuctionError(msg, 'WRONG_TOKEN', AuctionError.WRONG_TOKEN)
  }

  static WRONG_RECIPIENT(msg = 'The transaction paid nothing to the seller') {
    return new AuctionError(msg, 'WRONG_RECIPIENT', AuctionError.WRONG_RECIPIENT)
  }

  static SHORT_AMOUNT(msg = 'The transaction paid less than the price') {
    return new AuctionError(msg, 'SHORT_AMOUNT', AuctionError.SHORT_AMOUNT)
  }

  static NOT_CONFIRMED(msg = 'The transaction has not enough confirmations yet') {
    return new AuctionError(msg, 'NOT_CONFIRMED', AuctionError.NOT_CONFIRMED)
  }

  static REORGED(msg = 'The block of the transaction is no longer on the chain') {
    return new AuctionError(msg, 'REORGED', AuctionError.REORGED)
  }

  static ENDPOINT_UNREACHABLE(msg = 'The EVM endpoint does not answer', cause) {
    return new AuctionError(msg, 'ENDPOINT_UNREACHABLE', AuctionError.ENDPOINT_UNREACHABLE, cause)
  }

  static NOT_PAYER(msg = 'The claim is not signed by the address that paid') {
    return new AuctionError(msg, 'NOT_PAYER', AuctionError.NOT_PAYER)
  }

  static NOT_MINED(msg = 'The transaction was sent but not mined in time') {
    return new AuctionError(msg, 'NOT_MINED', AuctionError.NOT_MINED)
  }

  static LOCAL_CHAIN_FAILED(msg = 'The local chain did not start', cause) {
    return new AuctionError(msg, 'LOCAL_CHAIN_FAILED', AuctionError.LOCAL_CHAIN_FAILED, cause)
  }

  static PAYMENT_FAILED(msg = 'The wallet could not send the payment', cause) {
    return new AuctionError(msg, 'PAYMENT_FAILED', AuctionError.PAYMENT_FAILED, cause)
  }

  static RPC_ERROR(msg = 'The EVM endpoint refused the request', cause) {
    return new AuctionError(msg, 'RPC_ERROR', AuctionError.RPC_ERROR, cause)
  }

  static SIGNATURE_NEEDED(msg = 'The claim needs the paying address’s signature') {
    return new AuctionError(msg, 'SIGNATURE_NEEDED', AuctionError.SIGNATURE_NEEDED)
  }

  static TX_TOO_OLD(msg = 'The transaction is older than the sale') {
    return new AuctionError(msg, 'TX_TOO_OLD', AuctionError.TX_TOO_OLD)
  }

  static INVALID_TERMS(msg = 'The auction terms do not fit together') {
    return new AuctionError(msg, 'INVALID_TERMS', AuctionError.INVALID_TERMS)
  }

  static BID_ABOVE_BUY_NOW(msg = 'Bid is above the buy-now price') {
    return new AuctionError(msg, 'BID_ABOVE_BUY_NOW', AuctionError.BID_ABOVE_BUY_NOW)
  }

  static BIDDER_REFUSED(msg = 'The seller refuses bids from this bidder') {
    return new AuctionError(msg, 'BIDDER_REFUSED', AuctionError.BIDDER_REFUSED)
  }

  static HAS_BIDS(msg = 'An auction with a standing bid cannot be cancelled') {
    return new AuctionError(msg, 'HAS_BIDS', AuctionError.HAS_BIDS)
  }

  static BIDDER_BLOCKED(msg = 'The seller blocks this bidder from all its auctions') {
    return new AuctionError(msg, 'BIDDER_BLOCKED', AuctionError.BIDDER_BLOCKED)
  }

  static TOO_MANY_BLOCKED(msg = 'This seller blocks as many bidders as it may') {
    return new AuctionError(msg, 'TOO_MANY_BLOCKED', AuctionError.TOO_MANY_BLOCKED)
  }

  static TOO_MANY_REFUSED(msg = 'This auction refuses as many bidders as it may') {
    return new AuctionError(msg, 'TOO_MANY_REFUSED', AuctionError.TOO_MANY_REFUSED)
  }

  static NO_PICTURE(msg = 'This auction has no picture') {
    return new AuctionError(msg, 'NO_PICTURE', AuctionError.NO_PICTURE)
  }

  static PICTURE_NOT_IMAGE(msg = 'The file is not a PNG, JPEG, WebP or GIF picture') {
    return new AuctionError(msg, 'PICTURE_NOT_IMAGE', AuctionError.PICTURE_NOT_IMAGE)
  }

  static PICTURE_TOO_LARGE(msg = 'A picture is at most 2 MiB') {
    return new AuctionError(msg, 'PICTURE_TOO_LARGE', AuctionError.PICTURE_TOO_LARGE)
  }

  static PICTURE_UNAVAILABLE(msg = 'No connected peer holds the picture') {
    return new AuctionError(msg, 'PICTURE_UNAVAILABLE', AuctionError.PICTURE_UNAVAILABLE)
  }

  static PICTURE_CORRUPT(msg = 'The picture is not the one its seller signed') {
    return new AuctionError(msg, 'PICTURE_CORRUPT', AuctionError.PICTURE_CORRUPT)
  }

  static BOOTSTRAP_UNREACHABLE(msg = 'No DHT bootstrap node answered') {
    return new AuctionError(msg, 'BOOTSTRAP_UNREACHABLE', AuctionError.BOOTSTRAP_UNREACHABLE)
  }

  static PORT_IN_USE(msg = 'The port is in use') {
    return new AuctionError(msg, 'PORT_IN_USE', AuctionError.PORT_IN_USE)
  }

  static CONTROL_SOCKET_UNSAFE(msg = 'The control socket is not private to this user') {
    return new AuctionError(msg, 'CONTROL_SOCKET_UNSAFE', AuctionError.CONTROL_SOCKET_UNSAFE)
  }

  static UNAUTHORIZED(msg = 'The board’s token is missing or wrong') {
    return new AuctionError(msg, 'UNAUTHORIZED', AuctionError.UNAUTHORIZED)
  }

  static FORBIDDEN_HOST(msg = 'The board answers only under the address it serves') {
    return new AuctionError(msg, 'FORBIDDEN_HOST', AuctionError.FORBIDDEN_HOST)
  }

  static NOT_FOUND(msg = 'No such page or route') {
    return new AuctionError(msg, 'NOT_FOUND', AuctionError.NOT_FOUND)
  }

  static METHOD_NOT_ALLOWED(msg = 'This route does not take this method') {
    return new AuctionError(msg, 'METHOD_NOT_ALLOWED', AuctionError.METHOD_NOT_ALLOWED)
  }
}

const CODES = new Set(Object.getOwnPropertyNames(AuctionError).filter((n) => /^[A-Z_]+$/.test(n)))

AuctionError.CODES = CODES

module.exports = AuctionError
