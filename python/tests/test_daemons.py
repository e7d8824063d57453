"""The client against two real peers (see conftest.py): what a Python user of the API sees."""

import struct
import subprocess
import sys
import uuid
import zlib
from decimal import Decimal
from pathlib import Path

import pytest

from hyperauction import Client, HyperauctionError, to_decimal

from conftest import free_udp_port

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "board.py"
WAIT = 30


def unique(name):
    return "%s-%s" % (name, uuid.uuid4().hex[:6])


def open_seen(network, item, price, **terms):
    """Alice opens an auction; returns it once Bob's peer holds it."""
    with network.bob.events(timeout=WAIT) as stream:
        assert next(stream).name == "watching"
        auction = network.alice.open(item, price, **terms)
        stream.wait_for("auction-opened", lambda e: e.auction_id == auction["id"])
    return auction


def tiny_png():
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x80\x00")
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", pixels)
        + chunk(b"IEND", b"")
    )


def test_identity_status_and_peers(network):
    me = network.alice.id()
    assert me["name"] == "Alice"
    assert len(me["publicKey"]) == 64 and int(me["publicKey"], 16) >= 0
    status = network.alice.status()
    assert status["publicKey"] == me["publicKey"]
    assert status["web"] == network.alice_url, "status names the URL the peer printed"
    assert network.bob_key in [p["publicKey"] for p in network.alice.peers()]


def test_open_bid_and_sell_seen_by_both_peers(network):
    alice, bob = network.alice, network.bob
    item = unique("Pic#1")
    with bob.events(timeout=WAIT) as stream:
        assert next(stream).name == "watching", "the stream says first that it is live"

        auction = alice.open(item, "75", currency="USDt")
        assert len(auction["id"]) == 32
        assert auction["startPrice"] == "75"
        opened = stream.wait_for("auction-opened", lambda e: e.auction_id == auction["id"])
        assert opened.data["item"] == item

        listed = bob.auctions(q=item.upper())
        assert [a["id"] for a in listed] == [auction["id"]], "Bob lists Alice's auction"
        assert listed[0]["seller"] == network.alice_key

        first = bob.bid(auction["id"][:8], Decimal("75"))
        assert (first["amount"], first["position"]) == ("75", 1)
        second = bob.bid(auction["id"], "80.5")
        assert (second["amount"], second["position"]) == ("80.5", 2)

        seen = []
        while len(seen) < 2:
            event = stream.wait_for("bid-accepted", lambda e: e.auction_id == auction["id"])
            seen.append(event.data["bid"]["amount"])
        assert seen == ["75", "80.5"], "the stream yields both bids in order"

        sale = alice.close(auction["id"])
        assert sale["outcome"] == "sold"
        assert sale["winner"] == {"bidder": network.bob_key, "amount": "80.5"}
        assert to_decimal(sale["winner"]["amount"]) == Decimal("80.5")

        closed = stream.wait_for("auction-closed", lambda e: e.auction_id == auction["id"])
        assert closed.data["outcome"] == "sold"

    for client in (alice, bob):
        shown = client.auction(auction["id"])
        assert shown["status"] == "closed"
        assert shown["outcome"] == "sold"
        assert shown["winner"]["amount"] == "80.5"
        assert [b["amount"] for b in shown["bids"]] == ["75", "80.5"]


def test_refusals_raise_with_the_daemons_code(network):
    alice, bob = network.alice, network.bob
    auction = open_seen(network, unique("Lamp"), "10")
    bob.bid(auction["id"], "10")

    with pytest.raises(HyperauctionError) as low:
        bob.bid(auction["id"], Decimal("9.5"))
    assert low.value.code == "BID_TOO_LOW"
    assert low.value.status == 400
    assert "10" in low.value.message

    with pytest.raises(HyperauctionError) as own:
        alice.bid(auction["id"], "20")
    assert own.value.code == "OWN_AUCTION"

    with pytest.raises(HyperauctionError) as seller:
        bob.close(auction["id"])
    assert seller.value.code == "NOT_SELLER"

    with pytest.raises(HyperauctionError) as missing:
        bob.auction("f" * 32)
    assert (missing.value.code, missing.value.status) == ("AUCTION_NOT_FOUND", 404)

    with pytest.raises(HyperauctionError) as no_bid:
        bob.bid("f" * 32, "1")
    assert no_bid.value.code == "AUCTION_NOT_FOUND"


def test_a_wrong_token_is_unauthorized(network):
    wrong = Client(network.alice_url, token="0" * 64)
    with pytest.raises(HyperauctionError) as err:
        wrong.status()
    assert (err.value.code, err.value.status) == ("UNAUTHORIZED", 401)
    with pytest.raises(HyperauctionError) as stream:
        wrong.events()
    assert stream.value.code == "UNAUTHORIZED"
    with pytest.raises(ValueError):
        Client(network.alice_url.split("?")[0])


def test_a_daemon_out_of_reach_is_connection_failed():
    client = Client("http://127.0.0.1:%d/?token=%s" % (free_udp_port(), "0" * 64), timeout=5)
    with pytest.raises(HyperauctionError) as err:
        client.status()
    assert err.value.code == "CONNECTION_FAILED"
    assert err.value.status is None


def test_float_amounts_are_refused_before_any_request(network):
    item = unique("Float")
    with pytest.raises(TypeError, match="not float"):
        network.alice.open(item, 75.5)
    with pytest.raises(TypeError, match="not float"):
        network.alice.open(item, "75", reserve=80.0)
    assert network.alice.auctions(q=item) == [], "nothing was opened"

    auction = open_seen(network, item, "1")
    with pytest.raises(TypeError, match="Decimal"):
        network.bob.bid(auction["id"], 1.5)
    assert network.alice.auction(auction["id"])["bids"] == []


def test_listing_search_paging_and_filters(network):
    alice = network.alice
    prefix = unique("Shelf")
    ids = [alice.open("%s %d" % (prefix, i), "5")["id"] for i in range(3)]

    page = alice.auctions_page(q=prefix.lower(), limit=2)
    assert (page["total"], page["offset"], page["limit"]) == (3, 0, 2)
    assert len(page["auctions"]) == 2
    rest = alice.auctions(q=prefix, offset=2, limit=2)
    assert len(rest) == 1
    assert {a["id"] for a in page["auctions"] + rest} == set(ids)
    assert {a["id"] for a in alice.iter_auctions(q=prefix)} == set(ids)

    assert alice.auctions(q=prefix, sort="newest")[0]["id"] == ids[2], "newest first"

    alice.cancel(ids[0])
    assert [a["id"] for a in alice.auctions(q=prefix, status="ended")] == [ids[0]]
    assert {a["id"] for a in alice.auctions(q=prefix, status="open")} == set(ids[1:])


def test_pictures_reach_the_other_peer(network, tmp_path):
    png = tiny_png()
    auction = open_seen(network, unique("Painting"), "30", picture=png)
    assert network.bob.picture(auction["id"]) == ("image/png", png), "Bob gets Alice's bytes"

    path = tmp_path / "photo.png"
    path.write_bytes(png)
    second = network.alice.open(unique("Photo"), "30", picture=str(path))
    assert network.alice.picture(second["id"]) == ("image/png", png)

    plain = network.alice.open(unique("Plain"), "30")
    with pytest.raises(HyperauctionError) as err:
        network.alice.picture(plain["id"])
    assert (err.value.code, err.value.status) == ("NO_PICTURE", 404)


def test_cancel_and_refuse(network):
    alice, bob = network.alice, network.bob
    cancelled = alice.cancel(alice.open(unique("Chair"), "3")["id"])
    assert cancelled["outcome"] == "cancelled"

    auction = open_seen(network, unique("Table"), "5")
    bob.bid(auction["id"], "5")
    refused = alice.refuse(auction["id"], "Bob")
    assert network.bob_key in refused["refused"]
    with pytest.raises(HyperauctionError) as err:
        bob.bid(auction["id"], "6")
    assert err.value.code == "BIDDER_REFUSED"


def test_the_example_script_lists_opens_and_bids(network):
    auction = open_seen(network, unique("Vase"), "12")
    run = subprocess.run(
        [sys.executable, str(EXAMPLE), network.bob_url, auction["id"]],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=90,
    )
    out = run.stdout.decode()
    assert run.returncode == 0, out
    assert "open auctions" in out
    assert "opened " in out
    assert "accepted as bid #1" in out
    bids = network.alice.auction(auction["id"])["bids"]
    assert [(b["bidder"], b["amount"]) for b in bids] == [(network.bob_key, "12")]
    mine = network.bob.auctions(q="Board example", sort="newest")[0]
    assert mine["seller"] == network.bob_key
