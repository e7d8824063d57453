"""The one exception the client raises for what the daemon or the connection refuses."""

from typing import Any, Dict, Optional

# Codes the client gives on its own; every other code is the daemon's (lib/errors.js)
CONNECTION_FAILED = "CONNECTION_FAILED"
REQUEST_TIMEOUT = "REQUEST_TIMEOUT"
BAD_RESPONSE = "BAD_RESPONSE"


class HyperauctionError(Exception):
    """An error answer of the daemon, or a failure to reach it.

    Branch on ``code``, never on the message text:

    - the daemon's codes, as its ``{"error": {"code", "message"}}`` answers give them:
      ``BID_TOO_LOW``, ``AUCTION_NOT_FOUND``, ``UNAUTHORIZED``, ``NOT_SELLER``, ...
    - ``CONNECTION_FAILED``: the daemon could not be reached, or the connection broke
    - ``REQUEST_TIMEOUT``: no answer (or no event) within the timeout
    - ``BAD_RESPONSE``: the answer was not the JSON the API promises

    Attributes:
        code: the error code, e.g. ``"BID_TOO_LOW"``.
        message: one sentence saying what went wrong.
        status: the HTTP status of the answer (``400``, ``401``, ``404``...), or ``None``
            when no answer came.
        details: the whole ``error`` object of the answer (it may carry more fields than
            ``code`` and ``message``), or ``{}``.
    """

    def __init__(
        self,
        code: str,
        message: str,
        status: Optional[int] = None,
        details: Optional[Dict[str, Any]] = None,
    ) -> None:
        super().__init__(code, message, status)
        self.code = code
        self.message = message
        self.status = status
        self.details = details if details is not None else {}

    def __str__(self) -> str:
        return "%s: %s" % (self.code, self.message)

    def __repr__(self) -> str:
        return "HyperauctionError(%r, %r, %r)" % (self.code, self.message, self.status)
