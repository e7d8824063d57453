"""Real daemons for the tests: the project's own bootstrap node and two peers serving the
HTTP API, all on 127.0.0.1, started once for the session and stopped with SIGTERM."""

import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Callable, List, Optional, TypeVar

import pytest

from hyperauction import Client

REPO = Path(os.environ.get("HYPERAUCTION_REPO") or Path(__file__).resolve().parents[2])
BIN = REPO / "bin" / "hyperauction.js"
NODE = os.environ.get("HYPERAUCTION_NODE") or shutil.which("node")
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0

T = TypeVar("T")


def _interrupt(signum, frame):
    # A SIGTERM (test/python.js giving up) still runs the teardown that stops the daemons
    raise KeyboardInterrupt("SIGTERM")


signal.signal(signal.SIGTERM, _interrupt)


class Daemon:
    """A long-running `node bin/hyperauction.js ...` whose output is read as it comes (a
    full pipe would block the daemon)."""

    def __init__(self, name: str, args: List[str]) -> None:
        self.name = name
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("HYPERAUCTION_STORAGE", "HYPERAUCTION_WALLET_SEED")
        }
        assert NODE is not None
        self.process = subprocess.Popen(
            [NODE, str(BIN), *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=str(REPO),
        )
        self.lines: List[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            with self._changed:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_line(self, pattern: str, timeout: float = START_TIMEOUT) -> "re.Match[str]":
        """The first output line that matches pattern; fails with the output so far if the
        daemon exits first or the time runs out."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        seen = 0
        with self._changed:
            while True:
                for line in self.lines[seen:]:
                    m = regex.search(line)
                    if m:
                        return m
                seen = len(self.lines)
                if self.process.poll() is not None and not self._reader.is_alive():
                    raise RuntimeError(
                        "%s exited %s before printing %r:\n%s"
                        % (self.name, self.process.returncode, pattern, self.output)
                    )
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise RuntimeError(
                        "%s printed no %r within %g s:\n%s"
                        % (self.name, pattern, timeout, self.output)
                    )
                self._changed.wait(min(remaining, 0.5))

    def stop(self) -> Optional[int]:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(5)
        return self.process.returncode


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def until(check: Callable[[], T], timeout: float, what: str, interval: float = 0.1) -> T:
    """Polls check until it returns something true; fails naming what after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %g s waiting for %s" % (timeout, what))
        time.sleep(interval)


class Network:
    def __init__(self, alice: Client, bob: Client, alice_url: str, bob_url: str) -> None:
        self.alice = alice
        self.bob = bob
        self.alice_url = alice_url
        self.bob_url = bob_url
        self.alice_key = alice.id()["publicKey"]
        self.bob_key = bob.id()["publicKey"]


@pytest.fixture(scope="session")
def network(tmp_path_factory):
    """Alice and Bob, two peers that know each other, each a Client of its HTTP API."""
    if not BIN.exists():
        pytest.skip("needs the hyperauction repository: set HYPERAUCTION_REPO (no %s)" % BIN)
    if not NODE:
        pytest.skip("needs Node.js: node is not on PATH (or set HYPERAUCTION_NODE)")
    dir = tmp_path_factory.mktemp("peers")
    daemons: List[Daemon] = []
    try:
        for _ in range(5):
            port = free_udp_port()
            boot = Daemon("bootstrap", ["bootstrap", "--host", "127.0.0.1", "--port", str(port)])
            daemons.append(boot)
            try:
                boot.wait_line(r"listening on 127\.0\.0\.1:")
                break
            except RuntimeError:
                # Another process took the port between the check and the bind
                if "PORT_IN_USE" not in boot.output:
                    raise
        else:
            raise RuntimeError("no free UDP port for the bootstrap node in 5 tries")
        network_name = "pytest-" + uuid.uuid4().hex[:8]
        urls = []
        for name in ("Alice", "Bob"):
            peer = Daemon(
                name,
                [
                    "start",
                    "--storage",
                    str(dir / name.lower()),
                    "--bootstrap",
                    "127.0.0.1:%d" % port,
                    "--host",
                    "127.0.0.1",
                    "--network",
                    network_name,
                    "--name",
                    name,
                    "--web",
                    "127.0.0.1:0",
                ],
            )
            daemons.append(peer)
            urls.append(peer.wait_line(r"^web: (http://\S+)$").group(1))
        alice, bob = Client(urls[0]), Client(urls[1])
        until(lambda: alice.peers() and bob.peers(), 30, "Alice and Bob to know each other")
        yield Network(alice, bob, urls[0], urls[1])
    finally:
        for daemon in reversed(daemons):
            daemon.stop()
