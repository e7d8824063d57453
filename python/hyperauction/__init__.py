"""hyperauction: the Python client of a hyperauction daemon's HTTP API.

Start a peer with its web API, ``hyperauction start --web 127.0.0.1:0 ...``, and pass the
``web:`` URL it prints::

    from hyperauction import Client
    c = Client("http://127.0.0.1:PORT/?token=TOKEN")
    auction = c.open("Pic#1", "75", currency="USDt", duration="10m")
    for a in c.auctions(status="open"):
        print(a["item"], a["startPrice"], a["currency"])
"""

__version__ = "0.6.2"

from .client import Client  # noqa: E402
from .errors import HyperauctionError  # noqa: E402
from .events import Event, EventStream  # noqa: E402
from .values import to_decimal  # noqa: E402

__all__ = ["Client", "HyperauctionError", "Event", "EventStream", "to_decimal", "__version__"]
