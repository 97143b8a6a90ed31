"""Stand-in of verl's ``verl/workers/rollout/llm_server.py``: the two ``LLMServerClient`` methods the bridge uses.

verl's client asks its global load balancer for a server per request id (sticky, least loaded) and gets back
``(server_id, handle)``; the server ids are the replicas' HTTP addresses (``host:port``, the keys the
``LLMServerManager`` registers). ``_release_server(server_id)`` gives the slot back. Here one fixed address.
"""

from __future__ import annotations

from typing import Any


class LLMServerClient:
    def __init__(self, address: str) -> None:
        self.address = address
        self.acquired: list[str] = []
        self.released: list[str] = []

    async def _acquire_server(self, request_id: str) -> tuple[str, Any]:
        self.acquired.append(request_id)
        return self.address, object()

    def _release_server(self, server_id: str) -> None:
        self.released.append(server_id)
