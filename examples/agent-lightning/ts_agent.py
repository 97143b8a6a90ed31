"""Run the TypeScript agent as an Agent Lightning 1.0 local-mode agent class.

Agent Lightning's local controller imports ``config.local.agent_class`` (``module:Class`` or
``module.Class``) in a fresh Python process, instantiates it with no arguments and calls ``run()``
(awaiting the result when it is awaitable). The process exit code decides the rollout's state, and
the process already holds the rollout's environment: ``AGL_OPENAI_BASE_URL``, ``AGL_EVENT_URL``,
``AGL_KEY`` and the ``env_map`` entries (``QUESTION``, ``ANSWER``).

``Agent.run()`` starts the Node entry point with that environment, streams its output line by line,
and raises :class:`AgentProcessError` when it exits non-zero, so the rollout is marked failed.

Use it with ``PYTHONPATH=examples/agent-lightning`` and ``agent_class: "ts_agent:Agent"``.
The command defaults to ``pnpm --silent agl-agent`` run from the repository root; set
``VLLM_TITO_AGENT_COMMAND`` to run something else (``node dist/agent.js``, ``npx tsx path/to/agent.ts``).
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import threading
from collections import deque
from pathlib import Path
from typing import IO

COMMAND_VARIABLE = "VLLM_TITO_AGENT_COMMAND"
"""Environment variable that overrides the agent command (split like a POSIX shell would)."""

DEFAULT_COMMAND = "pnpm --silent agl-agent"
"""The command run when ``VLLM_TITO_AGENT_COMMAND`` is unset or empty."""

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent.parent
"""The vllm-tito checkout this file belongs to (``examples/agent-lightning/`` is two levels down)."""

STDERR_TAIL_LINES = 20
"""How many of the agent's last stderr lines an :class:`AgentProcessError` repeats."""


class AgentProcessError(RuntimeError):
    """The agent process could not be started, or exited with a non-zero code or a signal."""

    def __init__(self, message: str, returncode: int | None, stderr_tail: list[str]) -> None:
        super().__init__(message)
        self.returncode = returncode
        """The exit code (negative: killed by that signal), or ``None`` when it never started."""
        self.stderr_tail = stderr_tail
        """The agent's last stderr lines, oldest first."""


def agent_command(environ: dict[str, str] | None = None) -> list[str]:
    """The command to run: ``VLLM_TITO_AGENT_COMMAND`` split with :func:`shlex.split`, or the default."""
    source = os.environ if environ is None else environ
    text = source.get(COMMAND_VARIABLE, "").strip() or DEFAULT_COMMAND
    try:
        command = shlex.split(text)
    except ValueError as error:
        message = f"{COMMAND_VARIABLE} is not a valid command line ({error}): {text!r}"
        raise AgentProcessError(message, None, []) from error
    if not command:
        raise AgentProcessError(f"{COMMAND_VARIABLE} holds no command: {text!r}", None, [])
    return command


class Agent:
    """Agent Lightning's local-mode agent class for the TypeScript agent (instantiated with no arguments)."""

    def run(self) -> None:
        """Runs the agent command from the repository root with this process's environment.

        Its stdout and stderr are copied to this process's stdout and stderr as they arrive.

        Raises:
            AgentProcessError: the command could not be started, or it exited non-zero or by a signal.
        """
        command = agent_command()
        if not (REPOSITORY_ROOT / "package.json").is_file():
            message = (
                f"no package.json in {REPOSITORY_ROOT}: ts_agent.py must stay in "
                "examples/agent-lightning/ of a vllm-tito checkout"
            )
            raise AgentProcessError(message, None, [])
        try:
            process = subprocess.Popen(
                command,
                cwd=REPOSITORY_ROOT,
                env=dict(os.environ),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        except OSError as error:
            message = (
                f"could not start the agent command {shlex.join(command)!r} in {REPOSITORY_ROOT}: "
                f"{error} (set {COMMAND_VARIABLE} to change it)"
            )
            raise AgentProcessError(message, None, []) from error
        stderr_tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
        copiers = [
            threading.Thread(target=_copy_lines, args=(process.stdout, sys.stdout, None), daemon=True),
            threading.Thread(target=_copy_lines, args=(process.stderr, sys.stderr, stderr_tail), daemon=True),
        ]
        for copier in copiers:
            copier.start()
        returncode = process.wait()
        for copier in copiers:
            copier.join()
        if returncode != 0:
            tail = list(stderr_tail)
            raise AgentProcessError(_failure_message(command, returncode, tail), returncode, tail)


def _copy_lines(source: IO[bytes] | None, target: IO[str], tail: deque[str] | None) -> None:
    """Copies one pipe to a text stream line by line, keeping the last lines in ``tail``."""
    if source is None:
        return
    with source:
        for raw in iter(source.readline, b""):
            line = raw.decode("utf-8", errors="replace")
            target.write(line)
            target.flush()
            if tail is not None:
                tail.append(line.rstrip("\n"))


def _failure_message(command: list[str], returncode: int, stderr_tail: list[str]) -> str:
    if returncode < 0:
        try:
            how = f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            how = f"was killed by signal {-returncode}"
    else:
        how = f"exited with code {returncode}"
    message = f"the agent command {shlex.join(command)!r} {how}"
    if stderr_tail:
        message += "; its last stderr lines:\n" + "\n".join(stderr_tail)
    return message
