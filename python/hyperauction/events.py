"""The live event stream: Server-Sent Events parsed as the HTML standard says."""

import collections
import http.client
import json
import socket
import time
from typing import Any, Callable, Deque, Dict, List, Optional, cast

from .errors import CONNECTION_FAILED, REQUEST_TIMEOUT, HyperauctionError

# The daemon sends ": ping" every 15 s: a stream silent for three of them is dead
STREAM_SILENCE = 45.0
READ_SIZE = 65536


class Event:
    """One notification of the peer.

    Attributes:
        name: the event name, as ``hyperauction watch`` gives it: ``"watching"`` (first, once
            the stream is live), ``"auction-opened"``, ``"bid-accepted"``, ``"outbid"``,
            ``"auction-closed"``, ``"peer-add"``, ...
        data: the event's data, decoded from JSON (a dict for every event of the daemon);
            the raw text if it is not JSON.
        id: the SSE ``id`` of the event, or ``""``.
    """

    __slots__ = ("name", "data", "id")

    def __init__(self, name: str, data: Any, id: str = "") -> None:
        self.name = name
        self.data = data
        self.id = id

    @property
    def auction_id(self) -> Optional[str]:
        """The id of the auction the event is about, or None (``peer-add``, ``watching``).

        ``auction-opened`` carries the auction itself; the others name it in ``auction``,
        the auction object (``bid-accepted``, ``auction-closed``...) or its id.
        """
        if not isinstance(self.data, dict):
            return None
        data = cast(Dict[str, Any], self.data)
        if self.name == "auction-opened":
            return data.get("id")
        auction = data.get("auction")
        if isinstance(auction, dict):
            return cast(Dict[str, Any], auction).get("id")
        return auction if isinstance(auction, str) else None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Event):
            return NotImplemented
        return (self.name, self.data, self.id) == (other.name, other.data, other.id)

    def __repr__(self) -> str:
        return "Event(%r, %r)" % (self.name, self.data)


class SSEParser:
    """Turns the bytes of a text/event-stream into Events, chunk by chunk.

    Lines end with LF, CRLF or CR; ``data`` lines of one event are joined with newlines;
    comment lines (``: ping``) and unknown fields are ignored; an event is dispatched at its
    blank line, and one without data is dropped.
    """

    def __init__(self) -> None:
        self._buffer = b""
        self._started = False
        self._skip_lf = False
        self._name = ""
        self._data: List[str] = []
        self.last_id = ""
        self.retry: Optional[int] = None

    def feed(self, chunk: bytes) -> List[Event]:
        """The events completed by this chunk, in order."""
        buf = self._buffer + chunk
        if not self._started and buf:
            if len(buf) < 3 and b"\xef\xbb\xbf".startswith(buf):
                self._buffer = buf
                return []
            if buf.startswith(b"\xef\xbb\xbf"):
                buf = buf[3:]
            self._started = True
        events: List[Event] = []
        pos = 0
        while pos < len(buf):
            if self._skip_lf:
                self._skip_lf = False
                if buf[pos : pos + 1] == b"\n":
                    pos += 1
                    continue
            lf = buf.find(b"\n", pos)
            cr = buf.find(b"\r", pos)
            if lf < 0 and cr < 0:
                break
            end = lf if cr < 0 or (0 <= lf < cr) else cr
            line = buf[pos:end]
            pos = end + 1
            # A CR may be the first half of a CRLF that the next chunk completes
            if buf[end : end + 1] == b"\r":
                self._skip_lf = True
            event = self._line(line.decode("utf-8", "replace"))
            if event is not None:
                events.append(event)
        self._buffer = buf[pos:]
        return events

    def _line(self, line: str) -> Optional[Event]:
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            return None
        field, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if field == "event":
            self._name = value
        elif field == "data":
            self._data.append(value)
        elif field == "id":
            if "\0" not in value:
                self.last_id = value
        elif field == "retry":
            if value.isdigit():
                self.retry = int(value)
        return None

    def _dispatch(self) -> Optional[Event]:
        name = self._name or "message"
        data = self._data
        self._name = ""
        self._data = []
        if not data:
            return None
        text = "\n".join(data)
        try:
            value = json.loads(text)
        except ValueError:
            value = text
        return Event(name, value, self.last_id)


class EventStream:
    """An open ``/api/events`` stream: iterate it for Events, close it when done.

    Made by ``Client.events()``. The first event is ``watching``: from then on no event of
    the peer is missed. Iteration raises HyperauctionError with ``REQUEST_TIMEOUT`` when no
    event came within the stream's timeout, and with ``CONNECTION_FAILED`` when the daemon
    closes the stream (it stopped) or goes silent (no ping for 45 s); the stream is then
    closed. After ``close()`` iteration ends. Use it in a ``with`` block to close it.
    """

    def __init__(
        self,
        conn: http.client.HTTPConnection,
        sock: socket.socket,
        response: http.client.HTTPResponse,
        timeout: Optional[float],
        where: str,
    ) -> None:
        self._conn = conn
        self._sock = sock
        self._response = response
        self._timeout = timeout
        self._where = where
        self._parser = SSEParser()
        self._pending: Deque[Event] = collections.deque()
        self._closed = False

    @property
    def closed(self) -> bool:
        """True once the stream is closed, by ``close()`` or by an error."""
        return self._closed

    def __iter__(self) -> "EventStream":
        return self

    def __next__(self) -> Event:
        deadline = None if self._timeout is None else time.monotonic() + self._timeout
        event = self._next(deadline, self._timeout)
        if event is None:
            raise StopIteration
        return event

    def wait_for(
        self,
        name: str,
        where: Optional[Callable[[Event], bool]] = None,
        timeout: Optional[float] = None,
    ) -> Event:
        """The next event named ``name`` (and for which ``where(event)`` is true), skipping
        the others. Raises HyperauctionError ``REQUEST_TIMEOUT`` if none came within
        ``timeout`` seconds (default: the stream's timeout)."""
        if timeout is None:
            timeout = self._timeout
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            event = self._next(deadline, timeout, name)
            if event is None:
                raise HyperauctionError(CONNECTION_FAILED, "The event stream is closed")
            if event.name == name and (where is None or where(event)):
                return event

    def _next(
        self, deadline: Optional[float], timeout: Optional[float], name: Optional[str] = None
    ) -> Optional[Event]:
        what = "event" if name is None else "%r event" % name
        while not self._pending:
            if self._closed:
                return None
            wait = STREAM_SILENCE
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self.close()
                    raise HyperauctionError(
                        REQUEST_TIMEOUT, "No %s from %s within %g s" % (what, self._where, timeout)
                    )
                wait = min(wait, remaining)
            try:
                self._sock.settimeout(wait)
                chunk = self._response.read1(READ_SIZE)
            except Exception as err:
                # close() from another thread breaks the read: that is the end, not an error
                if self._closed:
                    return None
                self.close()
                if isinstance(err, socket.timeout):
                    # A timed-out socket file cannot be read again: the stream ends here
                    if deadline is not None and time.monotonic() >= deadline - 0.01:
                        raise HyperauctionError(
                            REQUEST_TIMEOUT,
                            "No %s from %s within %g s" % (what, self._where, timeout),
                        ) from None
                    raise HyperauctionError(
                        CONNECTION_FAILED,
                        "The event stream of %s went silent (no ping for %g s)"
                        % (self._where, STREAM_SILENCE),
                    ) from None
                if isinstance(err, (OSError, ValueError, http.client.HTTPException)):
                    raise HyperauctionError(
                        CONNECTION_FAILED, "The event stream of %s broke: %s" % (self._where, err)
                    ) from err
                raise
            if not chunk:
                if self._closed:
                    return None
                self.close()
                raise HyperauctionError(
                    CONNECTION_FAILED,
                    "The event stream of %s ended: the daemon closed it (did it stop?)"
                    % self._where,
                )
            self._pending.extend(self._parser.feed(chunk))
        return self._pending.popleft()

    def close(self) -> None:
        """Closes the stream; safe to call more than once and from another thread."""
        if self._closed:
            return
        self._closed = True
        self._pending.clear()
        # shutdown wakes a read blocked in another thread, which close alone may not
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._response.close()
        self._conn.close()
        self._sock.close()

    def __enter__(self) -> "EventStream":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
