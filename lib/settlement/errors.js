// Same shape as lib/errors.js: callers branch on err.code, never on the message
class SettlementError extends Error {
  constructor(msg, code, fn = SettlementError, cause) {
    super(`${code}: ${msg}`, cause === undefined ? undefined : { cause })
    this.code = code

    if (Error.captureStackTrace) Error.captureStackTrace(this, fn)
  }

  get name() {
    return 'SettlementError'
  }

  static WRONG_CHAIN(msg = 'The endpoint serves another chain') {
    return new SettlementError(msg, 'WRONG_CHAIN', SettlementError.WRONG_CHAIN)
  }

  static UNKNOWN_TX(msg = 'The endpoint knows no such transaction') {
    return new SettlementError(msg, 'UNKNOWN_TX', SettlementError.UNKNOWN_TX)
  }

  static TX_REVERTED(msg = 'The transaction was mined but reverted') {
    return new SettlementError(msg, 'TX_REVERTED', SettlementError.TX_REVERTED)
  }

  static WRONG_TOKEN(msg = 'The transaction moved no tokens of the agreed contract') {
    return new SettlementError(msg, 'WRONG_TOKEN', SettlementError.WRONG_TOKEN)
  }

  static WRONG_RECIPIENT(msg = 'The transaction paid nothing to the seller') {
    return new SettlementError(msg, 'WRONG_RECIPIENT', SettlementError.WRONG_RECIPIENT)
  }

  static SHORT_AMOUNT(msg = 'The transaction paid less than the price') {
    return new SettlementError(msg, 'SHORT_AMOUNT', SettlementError.SHORT_AMOUNT)
  }

  static NOT_CONFIRMED(msg = 'The transaction has not enough confirmations yet') {
    return new SettlementError(msg, 'NOT_CONFIRMED', SettlementError.NOT_CONFIRMED)
  }

  static REORGED(msg = 'The block of the transaction is no longer on the chain') {
    return new SettlementError(msg, 'REORGED', SettlementError.REORGED)
  }

  static TX_TOO_OLD(msg = 'The transaction is older than the sale') {
    return new SettlementError(msg, 'TX_TOO_OLD', SettlementError.TX_TOO_OLD)
  }

  static NOT_PAYER(msg = 'The claim is not signed by the address that paid') {
    return new SettlementError(msg, 'NOT_PAYER', SettlementError.NOT_PAYER)
  }

  static NOT_MINED(msg = 'The transaction was sent but not mined in time') {
    return new SettlementError(msg, 'NOT_MINED', SettlementError.NOT_MINED)
  }

  static PAYMENT_FAILED(msg = 'The wallet could not send the payment', cause) {
    return new SettlementError(msg, 'PAYMENT_FAILED', SettlementError.PAYMENT_FAILED, cause)
  }

  static ENDPOINT_UNREACHABLE(msg = 'The EVM endpoint does not answer', cause) {
    return new SettlementError(
      msg,
      'ENDPOINT_UNREACHABLE',
      SettlementError.ENDPOINT_UNREACHABLE,
      cause
    )
  }

  static RPC_ERROR(msg = 'The EVM endpoint refused the request', cause) {
    return new SettlementError(msg, 'RPC_ERROR', SettlementError.RPC_ERROR, cause)
  }

  static INVALID_ARGUMENT(msg = 'Invalid argument') {
    return new SettlementError(msg, 'INVALID_ARGUMENT', SettlementError.INVALID_ARGUMENT)
  }

  static LOCAL_CHAIN_FAILED(msg = 'The local chain did not start', cause) {
    return new SettlementError(msg, 'LOCAL_CHAIN_FAILED', SettlementError.LOCAL_CHAIN_FAILED, cause)
  }
}

const CODES = new Set(
  Object.getOwnPropertyNames(SettlementError).filter((n) => /^[A-Z_]+$/.test(n))
)

SettlementError.CODES = CODES

module.exports = SettlementError
