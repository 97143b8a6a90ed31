"""Shared set-up of the Python tests.

- The trainer stand-ins (``tests/standins``) come first on ``sys.path``, so ``import verl…``, ``import skyrl…`` and
  ``import slime…`` in the bridges resolve to them, and ``integrations/python`` is on it for ``vllm_tito_bridges``.
- ``rollout_service`` starts the real rollout service from the repository's sources (``vllm-tito serve`` under
  Node 22 with tsx) on a free loopback port, with the embedded mock-vllm as its model server, and stops it after
  the session. ``slow_rollout_service`` is one that admits a single rollout at a time and whose mock answers late,
  to see 429s and cancellation.
"""

from __future__ import annotations

import dataclasses
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
REPOSITORY = TESTS.parents[2]
sys.path.insert(0, str(TESTS / "standins"))
sys.path.insert(0, str(TESTS.parent))

BIN = REPOSITORY / "packages" / "rollouts" / "src" / "bin.ts"
START_TIMEOUT_SECONDS = 120


@dataclasses.dataclass
class RunningService:
    url: str
    mock_url: str
    process: subprocess.Popen

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


def start_service(*flags: str) -> RunningService:
    command = [node_22(), "--conditions=@vllm-tito/source", "--import", "tsx", str(BIN), "serve"]
    command += ["--port", "0", "--embedded-mock", *flags]
    environment = {key: value for key, value in os.environ.items() if not key.startswith("VLLM_")}
    process = subprocess.Popen(
        command, cwd=REPOSITORY, env=environment, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    mock_url = service_url = None
    try:
        while service_url is None:
            line = lines.get(timeout=START_TIMEOUT_SECONDS)
            if match := re.search(r"embedded mock-vllm at (http://\S+),", line):
                mock_url = match.group(1)
            if match := re.search(r"listening on (http://\S+)", line):
                service_url = match.group(1)
    except queue.Empty:
        process.kill()
        pytest.fail(f"the rollout service did not start within {START_TIMEOUT_SECONDS} s")
    assert mock_url is not None
    return RunningService(url=service_url, mock_url=mock_url, process=process)


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
