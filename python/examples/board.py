"""Lists the open auctions of a hyperauction peer, opens one, and bids on another seller's.

    hyperauction start --web 127.0.0.1:0 ...      # prints web: http://127.0.0.1:PORT/?token=...
    python examples/board.py 'http://127.0.0.1:PORT/?token=...' [AUCTION]

Bids the lowest amount the seller takes on AUCTION (an id or a unique prefix), or on the
newest open auction of another seller.
"""

import sys
from typing import Optional

from hyperauction import Client, HyperauctionError


def main(url: str, target: Optional[str] = None) -> int:
    c = Client(url)
    me = c.id()["publicKey"]

    page = c.auctions_page(status="open")
    print(f"{page['total']} open auctions")
    for a in page["auctions"]:
        price = (a["highestBid"] or {}).get("amount", a["startPrice"])
        print(f"  {a['id'][:8]}  {a['item']:<24} {price} {a['currency']}")

    mine = c.open("Board example", "60", currency="USDt", duration="10m", increment="5%")
    print(f"opened {mine['item']} for {mine['startPrice']} {mine['currency']} (id {mine['id']})")

    others = [a for a in c.auctions(status="open", sort="newest") if a["seller"] != me]
    if target is None and not others:
        print("no auction of another seller to bid on")
        return 0
    auction = c.auction(target or others[0]["id"])
    try:
        bid = c.bid(auction["id"], auction["minimumBid"])
    except HyperauctionError as err:
        print(f"bid refused: {err}")
        return 1
    print(
        f"bid {bid['amount']} {auction['currency']} on {auction['item']}: "
        f"accepted as bid #{bid['position']}"
    )
    return 0


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: python board.py WEB_URL [AUCTION]")
    sys.exit(main(*sys.argv[1:]))
