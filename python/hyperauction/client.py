"""The client of a hyperauction daemon's HTTP API (`hyperauction start --web`)."""

import base64
import http.client
import json
import mimetypes
import os
import socket
import urllib.parse
from typing import Any, Dict, Iterator, List, Optional, Tuple, Union

from . import __version__
from .errors import BAD_RESPONSE, CONNECTION_FAILED, REQUEST_TIMEOUT, HyperauctionError
from .events import EventStream
from .values import Amount, Duration, amount_arg, duration_arg

JSON = Dict[str, Any]
Picture = Union[bytes, bytearray, memoryview, str, "os.PathLike[str]"]

DEFAULT_TIMEOUT = 30.0
PAGE_MAX = 200
# The first bytes of the picture formats a browser shows
SIGNATURES = [
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
]
SETTLEMENT_KEYS = {
    "pay_to": "payTo",
    "token": "token",
    "chain_id": "chainId",
    "pay_within": "payWithin",
    "confirmations": "confirmations",
}


class Client:
    """A client of one hyperauction daemon, through its HTTP API.

    ``url`` is the ``web:`` line that ``hyperauction start --web 127.0.0.1:0`` prints,
    ``http://127.0.0.1:PORT/?token=TOKEN``; the token is taken from it, or from ``token``.
    ``timeout`` is how long a request waits for its answer, in seconds.

    Every method sends one request and returns the daemon's JSON answer (dicts and lists,
    amounts as decimal strings such as ``"75.5"``: see ``to_decimal``). An error answer
    raises HyperauctionError with the daemon's code (``BID_TOO_LOW``, ``AUCTION_NOT_FOUND``,
    ``UNAUTHORIZED``...), a daemon out of reach ``CONNECTION_FAILED``. Amounts are taken as
    str or decimal.Decimal (or int), never float. A Client holds no connection between
    calls and can be shared by threads.

    >>> c = Client("http://127.0.0.1:8080/?token=...")
    >>> c.bid("b0c191", "80")["position"]
    3
    """

    def __init__(
        self, url: str, token: Optional[str] = None, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                "url must be the http://HOST:PORT/?token=TOKEN address that "
                "`hyperauction start --web` prints, not %r" % url
            )
        if token is None:
            token = urllib.parse.parse_qs(parts.query).get("token", [None])[0]
        if not token:
            raise ValueError(
                "No token: pass the whole web: URL that `hyperauction start --web` prints "
                "(it ends with ?token=...), or token=..."
            )
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        self._base = parts.path.rstrip("/")
        self._token = token
        self.timeout = timeout
        host = "[%s]" % self._host if ":" in self._host else self._host
        self.base_url = "%s://%s:%d%s/" % (parts.scheme, host, self._port, self._base)
        """The daemon's address, without the token."""

    def __repr__(self) -> str:
        return "Client(%r)" % self.base_url

    # The peer

    def id(self) -> JSON:
        """The peer's identity: ``{"publicKey", "name"}`` (the key as 64 hex characters)."""
        return self._call("GET", "/api/id")

    def status(self) -> JSON:
        """What ``hyperauction status --json`` prints: ``publicKey``, ``name``, ``network``,
        ``peers``, ``auctions``, ``open``, ``digest``, ``uptime``..., and ``web``, the URL of
        this API."""
        return self._call("GET", "/api/status")

    def peers(self) -> List[JSON]:
        """The peers this peer knows: ``[{"publicKey", "name", "failures", "lastSeen"}]``."""
        return self._call("GET", "/api/peers")

    # Reading auctions

    def auctions(
        self,
        q: Optional[str] = None,
        status: Optional[str] = None,
        sort: Optional[str] = None,
        offset: int = 0,
        limit: int = 50,
    ) -> List[JSON]:
        """One page of the auctions the peer knows, as a list (see ``auctions_page``)."""
        return self.auctions_page(q, status, sort, offset, limit)["auctions"]

    def auctions_page(
        self,
        q: Optional[str] = None,
        status: Optional[str] = None,
        sort: Optional[str] = None,
        offset: int = 0,
        limit: int = 50,
    ) -> JSON:
        """One page of auctions: ``{"auctions": [...], "total", "offset", "limit"}``.

        ``q``: only items that contain this text (case-insensitive). ``status``: ``"open"``,
        ``"ended"`` or ``"all"`` (the default). ``sort``: ``"ending"`` (the default: open
        auctions ending soonest first, then those with no end, then ended ones newest first)
        or ``"newest"``. ``limit`` is at most 200. ``total`` counts every match.
        """
        query: Dict[str, Any] = {"offset": offset, "limit": limit}
        if q is not None:
            query["q"] = q
        if status is not None:
            query["status"] = status
        if sort is not None:
            query["sort"] = sort
        return self._call("GET", "/api/auctions", query=query)

    def iter_auctions(
        self, q: Optional[str] = None, status: Optional[str] = None, sort: Optional[str] = None
    ) -> Iterator[JSON]:
        """Every matching auction, fetched page by page (200 a request)."""
        offset = 0
        while True:
            page = self.auctions_page(q, status, sort, offset, PAGE_MAX)
            yield from page["auctions"]
            offset += len(page["auctions"])
            if not page["auctions"] or offset >= page["total"]:
                return

    def auction(self, auction_id: str) -> JSON:
        """One auction, as ``hyperauction show --json`` prints it: ``id``, ``item``,
        ``seller``, ``startPrice``, ``currency``, ``status``, ``outcome``, ``terms``,
        ``bids``, ``highestBid``, ``winner``, ``minimumBid``, ``endsAt``, ``payment``...
        ``auction_id`` is the id or a unique prefix of it."""
        return self._call("GET", self._path(auction_id))

    def picture(self, auction_id: str) -> Tuple[str, bytes]:
        """The auction's picture as ``(media_type, data)``, fetched by the daemon from any
        peer that holds it and checked against its hash. ``NO_PICTURE`` if it has none."""
        media_type, data = self._call("GET", self._path(auction_id, "picture"), raw=True)
        return media_type, data

    # Selling

    def open(
        self,
        item: str,
        price: Amount,
        *,
        currency: Optional[str] = None,
        duration: Optional[Duration] = None,
        reserve: Optional[Amount] = None,
        increment: Optional[Amount] = None,
        buy_now: Optional[Amount] = None,
        soft_close: Optional[Duration] = None,
        max_extensions: Optional[int] = None,
        settlement: Optional[Dict[str, Any]] = None,
        picture: Optional[Picture] = None,
        picture_type: Optional[str] = None,
    ) -> JSON:
        """Opens an auction of ``item`` starting at ``price``; returns it (with its ``id``).

        Terms, all optional: ``currency`` (default USDt); ``duration`` (``"10m"``,
        ``"1h30m"``, ``"2d"``, milliseconds or a timedelta; without it the auction runs until
        closed); ``reserve``; ``increment`` (an amount, or a share like ``"5%"``);
        ``buy_now``; ``soft_close`` (a duration); ``max_extensions``; ``settlement``, a dict
        with ``pay_to``, ``token``, ``chain_id`` and optionally ``pay_within`` and
        ``confirmations`` (camelCase keys are taken too); ``picture``, a file path or the
        bytes of a PNG, JPEG, GIF or WebP image (``picture_type`` names the media type when
        it cannot be told from the bytes). The request may be at most 4 MiB, so a picture
        at most about 3 MiB.
        """
        body: Dict[str, Any] = {"item": item, "price": amount_arg(price, "price")}
        if currency is not None:
            body["currency"] = currency
        if duration is not None:
            body["duration"] = duration_arg(duration, "duration")
        if reserve is not None:
            body["reserve"] = amount_arg(reserve, "reserve")
        if increment is not None:
            body["increment"] = amount_arg(increment, "increment")
        if buy_now is not None:
            body["buyNow"] = amount_arg(buy_now, "buy_now")
        if soft_close is not None:
            body["softClose"] = duration_arg(soft_close, "soft_close")
        if max_extensions is not None:
            if isinstance(max_extensions, bool) or not isinstance(max_extensions, int):
                raise TypeError("max_extensions must be an int")
            body["maxExtensions"] = max_extensions
        if settlement is not None:
            body["settlement"] = _settlement(settlement)
        if picture is not None:
            media_type, data = _picture(picture, picture_type)
            body["picture"] = {"type": media_type, "data": base64.b64encode(data).decode("ascii")}
        return self._call("POST", "/api/auctions", body=body)

    def close(self, auction_id: str) -> JSON:
        """Closes one of this peer's auctions: ``{"auction", "outcome": "sold"|"unsold",
        "winner": {"bidder", "amount"} | None, "bidCount", "closedAt"}``."""
        return self._call("POST", self._path(auction_id, "close"), body={})

    def cancel(self, auction_id: str) -> JSON:
        """Cancels one of this peer's auctions while no bid stands (``HAS_BIDS``
        otherwise); the outcome is ``"cancelled"``."""
        return self._call("POST", self._path(auction_id, "cancel"), body={})

    def refuse(self, auction_id: str, bidder: str) -> JSON:
        """Refuses a bidder (its key, a unique prefix of it, or its name) on one of this
        peer's open auctions: its later bids are ``BIDDER_REFUSED`` and its accepted bids no
        longer count. Returns the auction."""
        return self._call("POST", self._path(auction_id, "refuse"), body={"bidder": bidder})

    def second_chance(self, auction_id: str) -> JSON:
        """Offers an unpaid sale to the highest bidder left, at that bidder's own bid."""
        return self._call("POST", self._path(auction_id, "second-chance"), body={})

    # Buying

    def bid(self, auction_id: str, amount: Amount) -> JSON:
        """Bids ``amount`` (a str or Decimal, never a float) on an auction. Returns once the
        seller accepted it: ``{"auction", "bidder", "amount", "position", "acceptedAt",
        "confirmed"}``. Refusals raise HyperauctionError: ``BID_TOO_LOW``,
        ``AUCTION_CLOSED``, ``OWN_AUCTION``, ``SELLER_UNREACHABLE``..."""
        body = {"amount": amount_arg(amount, "amount")}
        return self._call("POST", self._path(auction_id, "bid"), body=body)

    def pay(
        self, auction_id: str, tx_hash: Optional[str] = None, signature: Optional[str] = None
    ) -> JSON:
        """Pays for an auction this peer won.

        Without arguments the daemon pays with its own wallet (``start --wallet-file`` or
        ``HYPERAUCTION_WALLET_SEED`` in its environment; a seed never travels over HTTP).
        With any other wallet: send the price yourself, then ``pay(id, tx_hash=...)``; it
        raises ``SIGNATURE_NEEDED`` with the text to sign, then ``pay(id, tx_hash,
        signature)``. Returns the auction with ``confirmed``.
        """
        body: Dict[str, Any] = {}
        if tx_hash is not None:
            body["txHash"] = tx_hash
        if signature is not None:
            body["signature"] = signature
        return self._call("POST", self._path(auction_id, "pay"), body=body)

    def accept_offer(self, auction_id: str) -> JSON:
        """Takes a second-chance offer made to this peer: it becomes the buyer."""
        return self._call("POST", self._path(auction_id, "accept-offer"), body={})

    # Events

    def events(self, timeout: Optional[float] = None) -> EventStream:
        """Opens the live event stream of the peer: iterate it for Events (``name``,
        ``data``), close it when done (or use ``with``).

        The first event is ``watching``; then every notification of the peer, as
        ``hyperauction watch`` prints them. ``timeout``: the longest wait for the next event
        in seconds, after which iteration raises ``REQUEST_TIMEOUT``; None waits for ever.

        >>> with c.events(timeout=60) as stream:
        ...     for event in stream:
        ...         print(event.name, event.data)
        """
        conn = self._connection(self.timeout)
        where = self.base_url
        try:
            conn.connect()
            sock = conn.sock
            headers = self._headers("text/event-stream")
            conn.request("GET", self._base + "/api/events", headers=headers)
            response = conn.getresponse()
        except (OSError, http.client.HTTPException) as err:
            conn.close()
            raise self._transport_error(err) from err
        if response.status != 200:
            try:
                payload = response.read()
            except (OSError, http.client.HTTPException) as err:
                raise self._transport_error(err) from err
            finally:
                conn.close()
            raise _answer_error(response, payload)
        return EventStream(conn, sock, response, timeout, where)

    # Transport

    def _path(self, auction_id: str, action: Optional[str] = None) -> str:
        if not isinstance(auction_id, str):
            raise TypeError("an auction id is a str, not %s" % type(auction_id).__name__)
        path = "/api/auctions/" + urllib.parse.quote(auction_id, safe="")
        return path if action is None else path + "/" + action

    def _headers(self, accept: str) -> Dict[str, str]:
        return {
            "Authorization": "Bearer " + self._token,
            "Accept": accept,
            "User-Agent": "hyperauction-python/" + __version__,
        }

    def _connection(self, timeout: Optional[float]) -> http.client.HTTPConnection:
        # http.client rather than urllib: a proxy of the environment must not see the token
        cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        return cls(self._host, self._port, timeout=timeout)

    def _call(
        self,
        method: str,
        path: str,
        query: Optional[Dict[str, Any]] = None,
        body: Optional[Dict[str, Any]] = None,
        raw: bool = False,
    ) -> Any:
        target = self._base + path
        if query:
            target += "?" + urllib.parse.urlencode(query)
        headers = self._headers("*/*" if raw else "application/json")
        data = None
        if body is not None:
            data = json.dumps(body, separators=(",", ":")).encode("utf-8")
            headers["Content-Type"] = "application/json"
        conn = self._connection(self.timeout)
        try:
            conn.request(method, target, body=data, headers=headers)
            response = conn.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException) as err:
            raise self._transport_error(err) from err
        finally:
            conn.close()
        if not 200 <= response.status < 300:
            raise _answer_error(response, payload)
        if raw:
            media_type = (response.getheader("Content-Type") or "").split(";")[0].strip()
            return media_type or "application/octet-stream", payload
        try:
            return json.loads(payload)
        except ValueError:
            raise HyperauctionError(
                BAD_RESPONSE,
                "The answer of %s %s is not JSON: %r" % (method, path, payload[:80]),
                response.status,
            ) from None

    def _transport_error(self, err: Exception) -> HyperauctionError:
        if isinstance(err, socket.timeout):
            return HyperauctionError(
                REQUEST_TIMEOUT, "No answer from %s within %g s" % (self.base_url, self.timeout)
            )
        reason = getattr(err, "strerror", None) or str(err) or type(err).__name__
        return HyperauctionError(
            CONNECTION_FAILED,
            "Cannot reach the hyperauction daemon at %s (%s); is `hyperauction start "
            "--web` running there?" % (self.base_url, reason),
        )


def _answer_error(response: http.client.HTTPResponse, payload: bytes) -> HyperauctionError:
    try:
        error = json.loads(payload)["error"]
        code, message = error["code"], error["message"]
        if isinstance(code, str) and isinstance(message, str):
            return HyperauctionError(code, message, response.status, error)
    except (ValueError, KeyError, TypeError):
        pass
    return HyperauctionError(
        BAD_RESPONSE,
        "HTTP %d %s without the API's error object: %r"
        % (response.status, response.reason, payload[:80]),
        response.status,
    )


def _settlement(settlement: Dict[str, Any]) -> Dict[str, Any]:
    if not isinstance(settlement, dict):
        raise TypeError("settlement must be a dict with pay_to, token and chain_id")
    out: Dict[str, Any] = {}
    for key, value in settlement.items():
        name = SETTLEMENT_KEYS.get(key, key)
        if name not in SETTLEMENT_KEYS.values():
            raise TypeError(
                "unknown settlement term %r (known: %s)" % (key, ", ".join(SETTLEMENT_KEYS))
            )
        if name == "payWithin":
            value = duration_arg(value, "pay_within")
        out[name] = value
    return out


def _picture(picture: Picture, picture_type: Optional[str]) -> Tuple[str, bytes]:
    path = None
    if isinstance(picture, (bytes, bytearray, memoryview)):
        data = bytes(picture)
    elif isinstance(picture, (str, os.PathLike)):
        path = os.fspath(picture)
        with open(path, "rb") as f:
            data = f.read()
    else:
        raise TypeError("picture must be a file path or bytes, not %s" % type(picture).__name__)
    if picture_type:
        return picture_type, data
    for magic, media_type in SIGNATURES:
        if data.startswith(magic):
            return media_type, data
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", data
    guessed = mimetypes.guess_type(path)[0] if path else None
    if guessed and guessed.startswith("image/"):
        return guessed, data
    raise ValueError(
        "Cannot tell the picture's media type from its bytes: pass picture_type='image/png'"
    )
