"""Tests of ts_agent.Agent with a stand-in agent command (a small Python script), standard library only."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ts_agent import COMMAND_VARIABLE, REPOSITORY_ROOT, Agent, AgentProcessError, agent_command

HERE = Path(__file__).resolve().parent

# the stand-in agent: reports its environment and working directory, prints to both streams, then exits
# (or waits for a marker file, or kills itself) as PROBE_* variables say
PROBE = """
import json, os, pathlib, signal, sys, time
report = {name: os.environ.get(name) for name in
          ["AGL_OPENAI_BASE_URL", "AGL_EVENT_URL", "AGL_KEY", "QUESTION", "ANSWER"]}
report["cwd"] = os.getcwd()
pathlib.Path(os.environ["PROBE_REPORT"]).write_text(json.dumps(report), encoding="utf-8")
print("agent: started", flush=True)
print("agent: warming up", file=sys.stderr, flush=True)
marker = os.environ.get("PROBE_WAIT_FOR")
if marker:
    deadline = time.monotonic() + 20
    while not os.path.exists(marker) and time.monotonic() < deadline:
        time.sleep(0.02)
for index in range(int(os.environ.get("PROBE_ERROR_LINES", "0"))):
    print(f"error line {index}", file=sys.stderr, flush=True)
print("agent: done", flush=True)
if os.environ.get("PROBE_SIGNAL"):
    os.kill(os.getpid(), getattr(signal, os.environ["PROBE_SIGNAL"]))
sys.exit(int(os.environ.get("PROBE_EXIT", "0")))
"""

ROLLOUT_ENV = {
    "AGL_OPENAI_BASE_URL": "http://gateway:8080/proxy/rollout/r1/attempt/0/mode/train/openai/v1",
    "AGL_EVENT_URL": "http://gateway:8080/api/rollouts/r1/attempt/0/events",
    "AGL_KEY": "agl-key",
    "QUESTION": "What is 75° minus 15°?",
    "ANSWER": "60",
}


@pytest.fixture
def probe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Points the agent command at the stand-in and sets a rollout's environment; returns the report path."""
    script = tmp_path / "probe agent.py"
    script.write_text(PROBE, encoding="utf-8")
    report = tmp_path / "report.json"
    monkeypatch.setenv(COMMAND_VARIABLE, shlex.join([sys.executable, str(script)]))
    monkeypatch.setenv("PROBE_REPORT", str(report))
    for name, value in ROLLOUT_ENV.items():
        monkeypatch.setenv(name, value)
    return report


def test_the_default_command_is_pnpm_agl_agent_run_from_the_repository_root() -> None:
    assert agent_command({}) == ["pnpm", "--silent", "agl-agent"]
    assert agent_command({COMMAND_VARIABLE: "   "}) == ["pnpm", "--silent", "agl-agent"]
    assert REPOSITORY_ROOT == HERE.parent.parent
    assert (REPOSITORY_ROOT / "pnpm-workspace.yaml").is_file()


def test_the_command_variable_is_split_like_a_shell_command_line() -> None:
    assert agent_command({COMMAND_VARIABLE: "node 'dist/my agent.js' --flag"}) == ["node", "dist/my agent.js", "--flag"]
    with pytest.raises(AgentProcessError, match=r"VLLM_TITO_AGENT_COMMAND is not a valid command line"):
        agent_command({COMMAND_VARIABLE: "node 'unclosed"})


def test_run_gives_the_agent_the_inherited_environment_and_the_repository_root(probe: Path) -> None:
    assert Agent().run() is None
    report = json.loads(probe.read_text(encoding="utf-8"))
    assert report == {**ROLLOUT_ENV, "cwd": str(REPOSITORY_ROOT)}


def test_run_streams_the_output_as_it_arrives(
    probe: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "go"
    monkeypatch.setenv("PROBE_WAIT_FOR", str(marker))
    failures: list[BaseException] = []

    def run() -> None:
        try:
            Agent().run()
        except BaseException as error:  # reported to the test thread below
            failures.append(error)

    worker = threading.Thread(target=run)
    worker.start()
    seen = ""
    seen_err = ""
    deadline = time.monotonic() + 20
    # the agent is still running (it waits for the marker) when its first lines must already be visible
    while "agent: started" not in seen and time.monotonic() < deadline:
        captured = capsys.readouterr()
        seen += captured.out
        seen_err += captured.err
        time.sleep(0.02)
    assert "agent: started" in seen
    assert worker.is_alive()
    marker.write_text("go", encoding="utf-8")
    worker.join(timeout=20)
    assert not worker.is_alive()
    assert failures == []
    rest = capsys.readouterr()
    assert seen + rest.out == "agent: started\nagent: done\n"
    assert seen_err + rest.err == "agent: warming up\n"


def test_a_non_zero_exit_raises_with_the_code_and_the_last_stderr_lines(
    probe: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROBE_EXIT", "3")
    monkeypatch.setenv("PROBE_ERROR_LINES", "25")
    with pytest.raises(AgentProcessError) as caught:
        Agent().run()
    error = caught.value
    assert error.returncode == 3
    assert error.stderr_tail == [f"error line {index}" for index in range(5, 25)]
    assert str(error).startswith(f"the agent command {os.environ[COMMAND_VARIABLE]!r} exited with code 3;")
    assert str(error).endswith("error line 23\nerror line 24")


def test_a_kill_by_signal_is_named(probe: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROBE_SIGNAL", "SIGKILL")
    with pytest.raises(AgentProcessError, match=r"was killed by SIGKILL") as caught:
        Agent().run()
    assert caught.value.returncode == -9


def test_a_command_that_cannot_start_raises_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(COMMAND_VARIABLE, "no-such-agent-command-4242 --x")
    with pytest.raises(AgentProcessError) as caught:
        Agent().run()
    assert caught.value.returncode is None
    message = str(caught.value)
    assert message.startswith(f"could not start the agent command 'no-such-agent-command-4242 --x' in {REPOSITORY_ROOT}:")
    assert message.endswith("(set VLLM_TITO_AGENT_COMMAND to change it)")


# what Agent Lightning's local reconciler does in its worker process, restated: import the class named by
# "module:Class", instantiate it without arguments, call run(), await an awaitable result, exit 0, or 1 on
# any exception (after printing the traceback)
LOCAL_MODE_WORKER = """
import asyncio, importlib, inspect, sys, traceback
module_name, class_name = sys.argv[1].split(":", 1)
try:
    result = getattr(importlib.import_module(module_name), class_name)().run()
    if inspect.isawaitable(result):
        asyncio.run(result)
except Exception:
    traceback.print_exc()
    sys.exit(1)
"""


@pytest.mark.parametrize(("probe_exit", "worker_exit"), [("0", 0), ("4", 1)])
def test_agent_lightning_local_mode_loads_it_as_ts_agent_colon_agent(
    probe: Path, probe_exit: str, worker_exit: int
) -> None:
    environment = {**os.environ, "PROBE_EXIT": probe_exit, "PYTHONPATH": str(HERE), "PYTHONDONTWRITEBYTECODE": "1"}
    finished = subprocess.run(
        [sys.executable, "-c", LOCAL_MODE_WORKER, "ts_agent:Agent"],
        env=environment,
        cwd=REPOSITORY_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert finished.returncode == worker_exit, finished.stderr
    assert "agent: started\nagent: done\n" == finished.stdout
    if worker_exit != 0:
        assert "ts_agent.AgentProcessError: the agent command" in finished.stderr
        assert "exited with code 4" in finished.stderr
    assert json.loads(probe.read_text(encoding="utf-8"))["AGL_KEY"] == "agl-key"

