"""The parts of the client that need no daemon: SSE parsing, amounts, URLs, answers."""

import datetime
import socket
import threading
from decimal import Decimal

import pytest

from hyperauction import Client, Event, HyperauctionError, to_decimal
from hyperauction.events import SSEParser
from hyperauction.values import amount_arg, duration_arg


def parse(*chunks):
    parser = SSEParser()
    events = []
    for chunk in chunks:
        events.extend(parser.feed(chunk))
    return events


def test_sse_events_with_json_data_and_comments():
    stream = b': ping\n\nevent: watching\ndata: {"name":"Alice"}\n\n: ping\n\n'
    stream += b"event: bid\ndata: 1\n\n"
    assert parse(stream) == [Event("watching", {"name": "Alice"}), Event("bid", 1)]


def test_sse_multi_line_data_is_joined_with_newlines():
    assert parse(b"data: first\ndata:second\ndata\n\n") == [Event("message", "first\nsecond\n")]


def test_sse_any_line_ending_and_any_split():
    whole = b'\xef\xbb\xbfevent: a\r\ndata: {"x": 1}\r\n\r\nevent: b\rdata: 2\r\r'
    expected = [Event("a", {"x": 1}), Event("b", 2)]
    assert parse(whole) == expected
    for size in (1, 2, 3, 5):
        assert parse(*[whole[i : i + size] for i in range(0, len(whole), size)]) == expected


def test_sse_events_without_data_or_unfinished_are_not_yielded():
    assert parse(b"event: empty\n\nid: 7\nretry: 10\nfoo: bar\n\nevent: cut\ndata: 1\n") == []
    parser = SSEParser()
    parser.feed(b"id: 7\nretry: 1000\n\n")
    assert (parser.last_id, parser.retry) == ("7", 1000)


def test_amounts_go_as_exact_decimal_strings():
    assert amount_arg("75.5") == "75.5"
    assert amount_arg(Decimal("80.50")) == "80.50"
    assert amount_arg(Decimal("1E+2")) == "100"
    assert amount_arg(Decimal("1E-7")) == "0.0000001"
    assert amount_arg(80) == "80"
    with pytest.raises(TypeError, match="not float"):
        amount_arg(0.1)  # type: ignore  # what a type checker refuses too
    with pytest.raises(TypeError):
        amount_arg(True)
    with pytest.raises(ValueError):
        amount_arg(Decimal("NaN"))


def test_durations_and_to_decimal():
    assert duration_arg("1h30m") == "1h30m"
    assert duration_arg(datetime.timedelta(minutes=2)) == 120000
    with pytest.raises(TypeError):
        duration_arg(1.5)  # type: ignore
    assert to_decimal("80.5") + to_decimal("0.1") == Decimal("80.6")
    assert to_decimal(None) is None
    with pytest.raises(ValueError):
        to_decimal("eighty")


def test_the_token_comes_from_the_url_and_never_shows():
    c = Client("http://127.0.0.1:4000/?token=" + "a" * 64)
    assert c.base_url == "http://127.0.0.1:4000/"
    assert "a" * 64 not in repr(c)
    assert Client("http://[::1]:4000/", token="t").base_url == "http://[::1]:4000/"
    with pytest.raises(ValueError, match="token"):
        Client("http://127.0.0.1:4000/")
    with pytest.raises(ValueError):
        Client("127.0.0.1:4000")


def serve_once(answer):
    """A one-shot HTTP server on 127.0.0.1 that reads a request and writes answer."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def run():
        conn, _ = server.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(answer)
        server.close()

    threading.Thread(target=run, daemon=True).start()
    return "http://127.0.0.1:%d/?token=t" % server.getsockname()[1]


def test_an_answer_that_is_not_the_apis_is_bad_response():
    url = serve_once(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 4\r\n\r\noops")
    with pytest.raises(HyperauctionError) as err:
        Client(url).status()
    assert (err.value.code, err.value.status) == ("BAD_RESPONSE", 502)


def test_a_stream_the_daemon_closes_yields_its_events_then_fails():
    body = b"event: watching\ndata: {}\n\n: ping\n\nevent: peer-add\ndata: {\"name\": \"Bob\"}\n\n"
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
    stream = Client(serve_once(head + body)).events(timeout=10)
    assert next(stream) == Event("watching", {})
    assert next(stream) == Event("peer-add", {"name": "Bob"})
    with pytest.raises(HyperauctionError) as err:
        next(stream)
    assert err.value.code == "CONNECTION_FAILED"
    assert stream.closed
    assert list(stream) == []
