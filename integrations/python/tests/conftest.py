"""Shared set-up of the Python tests.

- The trainer stand-ins (``tests/standins``) come first on ``sys.path``, so ``import verl…``, ``import skyrl…`` and
  ``import slime…`` in the bridges resolve to them, and ``integrations/python`` is on it for ``vllm_tito_bridges``.
- ``rollout_service`` starts the real rollout service from the repository's sources (``vllm-tito serve`` under
  Node 22 with tsx) on a free loopback port, with the embedded mock-vllm as its model server, and stops it after
  the session. ``slow_rollout_service`` is one that admits a single rollout at a time and whose mock answers late,
  to see 429s and cancellation. Each keeps the lines the service logs (``log``), to see what it did.
- ``refusing_model_server`` stands in front of the rollout service's mock like a vLLM server without
  ``/tokenize`` that answers 400 to every chat call whose question says "broken": such a rollout fails at its first
  call and its prompt ids cannot be found, so the service has no row for it.
- Every wait has a deadline (``wait_until``): a test that would hang fails with a message instead.
"""

from __future__ import annotations

import dataclasses
import http.server
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
REPOSITORY = TESTS.parents[2]
sys.path.insert(0, str(TESTS / "standins"))
sys.path.insert(0, str(TESTS.parent))

BIN = REPOSITORY / "packages" / "rollouts" / "src" / "bin.ts"
START_TIMEOUT_SECONDS = 120


def wait_until(condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.02) -> None:
    """Polls ``condition`` until it holds; fails the test naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


@dataclasses.dataclass
class RunningService:
    url: str
    mock_url: str
    process: subprocess.Popen
    #: The lines the service logged on stderr so far (one per request: method, path, status, what happened).
    log: list[str] = dataclasses.field(default_factory=list, repr=False)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def node_22() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: the rollout service needs Node 22 (source scripts/setup.sh)")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    if int(version.lstrip("v").split(".")[0]) < 22:
        pytest.fail(f"the rollout service needs Node 22 or newer, found {version} (source scripts/setup.sh)")
    return node


def _collect_lines(stream, put: Callable[[str], None]) -> None:
    for line in stream:
        put(line)


def start_service(*flags: str) -> RunningService:
    command = [node_22(), "--conditions=@vllm-tito/source", "--import", "tsx", str(BIN), "serve"]
    command += ["--port", "0", "--embedded-mock", *flags]
    environment = {key: value for key, value in os.environ.items() if not key.startswith("VLLM_")}
    process = subprocess.Popen(
        command, cwd=REPOSITORY, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    lines: queue.Queue[str] = queue.Queue()
    log: list[str] = []
    threading.Thread(target=_collect_lines, args=(process.stdout, lines.put), daemon=True).start()
    threading.Thread(target=_collect_lines, args=(process.stderr, log.append), daemon=True).start()
    mock_url = service_url = None
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while service_url is None:
        if process.poll() is not None:
            pytest.fail(f"the rollout service exited with code {process.returncode}: {''.join(log[-20:])}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the rollout service did not start within {START_TIMEOUT_SECONDS} s: {''.join(log[-20:])}")
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            continue
        if match := re.search(r"embedded mock-vllm at (http://\S+),", line):
            mock_url = match.group(1)
        if match := re.search(r"listening on (http://\S+)", line):
            service_url = match.group(1)
    assert mock_url is not None
    return RunningService(url=service_url, mock_url=mock_url, process=process, log=log)


@pytest.fixture(scope="session")
def rollout_service():
    service = start_service("--concurrency", "8")
    yield service
    service.stop()


@pytest.fixture(scope="session")
def slow_rollout_service():
    service = start_service(
        "--concurrency", "1", "--max-pending", "1", "--retry-after", "1", "--embedded-mock-delay", "1500"
    )
    yield service
    service.stop()


class _RefusingHandler(http.server.BaseHTTPRequestHandler):
    """Forwards to the mock (``server.target``), except ``/tokenize`` (404) and chat calls about "broken" (400)."""

    def do_GET(self) -> None:
        self._forward(None)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        if self.path.startswith("/tokenize"):
            return self._answer(404, b'{"detail":"Not Found"}')
        if self.path.startswith("/v1/chat/completions") and b"broken" in body:
            return self._answer(400, b'{"error":{"message":"refused by the test server","type":"BadRequestError","code":400}}')
        self._forward(body)

    def _forward(self, body: bytes | None) -> None:
        headers = {name: value for name, value in self.headers.items() if name.lower() not in ("host", "content-length")}
        request = urllib.request.Request(self.server.target + self.path, data=body, headers=headers, method=self.command)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                self._answer(response.status, response.read())
        except urllib.error.HTTPError as error:
            self._answer(error.code, error.read())

    def _answer(self, status: int, data: bytes) -> None:
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args) -> None:
        pass


@pytest.fixture(scope="session")
def refusing_model_server(rollout_service) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RefusingHandler)
    server.target = rollout_service.mock_url
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)
