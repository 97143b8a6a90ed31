"""Stand-in of slime's ``slime/utils/types.py``: the ``Sample`` fields a generate function reads and fills, with
``Status`` by value (see docs/rollout-service.md for the commit)."""

from __future__ import annotations

import dataclasses
import enum
from typing import Any


@dataclasses.dataclass
class Sample:
    class Status(enum.Enum):
        PENDING = "pending"
        COMPLETED = "completed"
        TRUNCATED = "truncated"
        ABORTED = "aborted"
        FAILED = "failed"

    group_index: int | None = None
    index: int | None = None
    rollout_id: int | None = None
    prompt: str | list[dict[str, str]] = ""
    tokens: list[int] = dataclasses.field(default_factory=list)
    response: str = ""
    response_length: int = 0
    label: str | None = None
    reward: float | dict[str, Any] | None = None
    loss_mask: list[int] | None = None
    rollout_log_probs: list[float] | None = None
    status: Status = Status.PENDING
    metadata: dict = dataclasses.field(default_factory=dict)
    session_id: str | None = None
