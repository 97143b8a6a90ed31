"""The HTTP client every bridge uses: ``POST /v1/rollouts`` with the standard library only.

The request runs in a worker thread (``http.client``) of the client's own pool, one thread per request in flight
(up to ``max_concurrent_requests``), so the trainer's event loop keeps going and its concurrent rollouts do not
queue behind asyncio's few default threads. Cancelling the
awaiting task shuts the connection's socket down from the event loop's side (a blocking read in a thread would
otherwise run on after the task is gone): the worker thread's read ends at once, the service sees its client go
away and cancels the rollouts, whose model calls end. A 429 (the service is saturated) or a 503 (it is draining) is retried after its
``Retry-After``, and a connection that fails before any answer (a replica that went away, a name that does not
resolve) after a second, up to ``max_wait_seconds`` in all; the service is stateless, so a retried request simply
runs its rollouts again. An answer that does not come within ``timeout_seconds`` (the socket's deadline for each
read) is ``RolloutServiceError`` type ``timeout``, not retried. Every failure is a ``RolloutServiceError``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import http.client
import json
import logging
import os
import socket
import threading
import urllib.parse
from typing import Any

logger = logging.getLogger(__name__)

#: Seconds before retrying a request whose connection failed before any answer.
CONNECTION_RETRY_SECONDS = 1.0

#: Requests of one client in flight at once (each waits in a thread of its own); more wait for a thread.
MAX_CONCURRENT_REQUESTS = 1024

#: Where the service listens unless ``VLLM_TITO_SERVICE_URL`` or the bridge's ``service_url`` says otherwise.
DEFAULT_SERVICE_URL = "http://127.0.0.1:8300"

#: The vLLM chat fields the service accepts in ``sampling_params`` (its list; anything else is a 400).
SAMPLING_FIELDS = frozenset(
    {
        "temperature",
        "top_p",
        "top_k",
        "min_p",
        "max_tokens",
        "max_completion_tokens",
        "min_tokens",
        "repetition_penalty",
        "presence_penalty",
        "frequency_penalty",
        "seed",
        "stop",
        "stop_token_ids",
        "ignore_eos",
        "logprobs",
        "top_logprobs",
        "skip_special_tokens",
        "spaces_between_special_tokens",
        "include_stop_str_in_output",
        "chat_template_kwargs",
    }
)


class RolloutServiceError(RuntimeError):
    """The service refused a request or failed it; ``status``, ``type``, ``field`` and ``rule`` say how."""

    def __init__(self, status: int, error: dict[str, Any]) -> None:
        self.status = status
        self.type = str(error.get("type", "unknown"))
        self.field = error.get("field")
        self.rule = error.get("rule")
        self.error = error
        where = f" (field {self.field})" if self.field else f" (rule {self.rule})" if self.rule else ""
        super().__init__(f"rollout service answered {status} {self.type}{where}: {error.get('message', '')}")


class RolloutLeftOutError(RolloutServiceError):
    """The service ran the rollouts, but has no row for some: ``left_out`` names each (``rollout_id``, ``rule``,
    ``reason``, ``failure``). Raised by a bridge whose trainer needs a row for every sample it asked for."""

    def __init__(self, left_out: list[dict[str, Any]]) -> None:
        described = "; ".join(_describe_left_out(entry) for entry in left_out)
        rule = left_out[0].get("rule") if left_out else None
        super().__init__(200, {"type": "left_out", "rule": rule, "message": f"{len(left_out)} rollouts have no row: {described}"})
        self.left_out = left_out


def _describe_left_out(entry: dict[str, Any]) -> str:
    failure = f" (the rollout failed: {entry['failure']})" if entry.get("failure") else ""
    return f"{entry.get('rollout_id')}: {entry.get('reason')}{failure}"


def left_out_of(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """The rollouts the service's answer has no row for (its ``left_out``); empty when every rollout has its rows."""
    return list(answer.get("left_out") or [])


class _Exchange:
    """One request on its own connection, which the event loop can shut down while the thread waits."""

    def __init__(self, connection: http.client.HTTPConnection) -> None:
        self.connection = connection
        self.cancelled = False
        self.lock = threading.Lock()

    def run(self, path: str, payload: bytes) -> tuple[int, dict[str, str], Any]:
        try:
            self.connection.connect()
        except TimeoutError as error:
            # no connection at all is a replica that is not there (retried), unlike an answer that never comes
            raise ConnectionError(f"no connection within {self.connection.timeout} s") from error
        with self.lock:
            # a cancel that came while connecting found no socket to shut down: stop here instead
            if self.cancelled:
                self.connection.close()
                raise ConnectionAbortedError("the request was cancelled before it was sent")
        try:
            self.connection.request("POST", path, body=payload, headers={"content-type": "application/json"})
            response = self.connection.getresponse()
            data = response.read()
            headers = {name.lower(): value for name, value in response.getheaders()}
            return response.status, headers, _decode(data)
        finally:
            self.connection.close()

    def cancel(self) -> None:
        with self.lock:
            self.cancelled = True
            sock = self.connection.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.connection.close()


def _plain(value: Any) -> Any:
    """JSON for the numpy values trainers' batches hold (``np.int64``, arrays): their plain Python form."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _decode(data: bytes) -> Any:
    try:
        return json.loads(data.decode("utf-8") or "null")
    except (UnicodeDecodeError, json.JSONDecodeError):
        return {"error": {"type": "not_json", "message": data[:200].decode("utf-8", "replace")}}


class RolloutServiceClient:
    """Calls one rollout service: ``await client.rollouts(body)`` returns the answer's JSON (``rows``, ...)."""

    def __init__(
        self,
        url: str | None = None,
        *,
        timeout_seconds: float = 3600.0,
        max_wait_seconds: float = 600.0,
        max_concurrent_requests: int = MAX_CONCURRENT_REQUESTS,
    ) -> None:
        self.url = (url or os.environ.get("VLLM_TITO_SERVICE_URL") or DEFAULT_SERVICE_URL).rstrip("/")
        parts = urllib.parse.urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"the rollout service URL must be http(s)://host[:port], got {self.url!r}")
        self._parts = parts
        self.timeout_seconds = timeout_seconds
        self.max_wait_seconds = max_wait_seconds
        # a pool of its own: asyncio's default one has min(32, CPUs + 4) threads, which would hold a trainer's
        # hundreds of concurrent rollouts to a handful in flight (6 on a 2-core machine); threads start on demand
        self._threads = concurrent.futures.ThreadPoolExecutor(
            max_workers=max_concurrent_requests, thread_name_prefix="vllm-tito-service-client"
        )

    def _connection(self) -> http.client.HTTPConnection:
        connection_class = http.client.HTTPSConnection if self._parts.scheme == "https" else http.client.HTTPConnection
        return connection_class(self._parts.hostname, self._parts.port, timeout=self.timeout_seconds)

    async def rollouts(self, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /v1/rollouts``; retries 429 and 503 after ``Retry-After``; raises ``RolloutServiceError``."""
        payload = json.dumps(body, default=_plain).encode("utf-8")
        waited = 0.0
        while True:
            try:
                status, headers, answer = await self._post("/v1/rollouts", payload)
            except TimeoutError as error:
                # the request was sent: the service may still run its rollouts, and a retry would run them twice
                message = f"{self.url}: no answer within {self.timeout_seconds} s (timeout_seconds)"
                raise RolloutServiceError(0, {"type": "timeout", "message": message}) from error
            except (OSError, http.client.HTTPException) as error:
                # OSError: refused, reset, a name that does not resolve, no route to the host
                if waited + CONNECTION_RETRY_SECONDS > self.max_wait_seconds:
                    raise RolloutServiceError(0, {"type": "unreachable", "message": f"{self.url}: {error!r}"}) from error
                logger.info("rollout service unreachable (%r); retrying in %.1f s", error, CONNECTION_RETRY_SECONDS)
                await asyncio.sleep(CONNECTION_RETRY_SECONDS)
                waited += CONNECTION_RETRY_SECONDS
                continue
            if status == 200 and isinstance(answer, dict):
                return answer
            error = answer.get("error") if isinstance(answer, dict) else None
            error = error if isinstance(error, dict) else {"message": str(answer)}
            if status in (429, 503) and error.get("type") in ("saturated", "draining"):
                delay = float(headers.get("retry-after") or error.get("retry_after_seconds") or 1)
                if waited + delay > self.max_wait_seconds:
                    raise RolloutServiceError(status, error)
                logger.info("rollout service %s; retrying in %.1f s", error.get("type"), delay)
                await asyncio.sleep(delay)
                waited += delay
                continue
            raise RolloutServiceError(status, error)

    async def _post(self, path: str, payload: bytes) -> tuple[int, dict[str, str], Any]:
        exchange = _Exchange(self._connection())
        try:
            return await asyncio.get_running_loop().run_in_executor(self._threads, exchange.run, path, payload)
        except asyncio.CancelledError:
            # the service cancels the rollouts of a client that goes away
            exchange.cancel()
            raise


def keep_sampling_fields(params: dict[str, Any] | None, renames: dict[str, str] | None = None) -> dict[str, Any]:
    """The trainer's sampling params as the service takes them: renamed, ``None`` values and unknown keys left out."""
    kept: dict[str, Any] = {}
    for key, value in (params or {}).items():
        name = (renames or {}).get(key, key)
        if value is None:
            continue
        if name not in SAMPLING_FIELDS:
            logger.debug("sampling param %r is not a vLLM chat field; not sent", key)
            continue
        kept[name] = list(value) if isinstance(value, tuple) else value
    return kept


def question_of(prompt: Any) -> str:
    """The question of a prompt: a string as it is, or the last user message of a list of chat messages."""
    if isinstance(prompt, str):
        return prompt
    for message in reversed(list(prompt or [])):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return "\n".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    raise ValueError("the prompt has no user message to ask the agent")
