"""A slime custom generate function that runs the TypeScript agent through the vllm-tito rollout service.

Point slime at it with ``--custom-generate-function-path vllm_tito_bridges.slime_generate.generate``. slime calls it
once per sample with the sample's ``group_index`` (its prompt group) and ``index``; it sends the sample's question to
the service as a group of one with those integer ids, and returns the sample filled from the service's ``Sample``
row (or several samples sharing one ``rollout_id``, when the rollout split at a prefix break).

The question is ``sample.prompt`` (a string, or the last user message of a message list — so run slime without
``--apply-chat-template``, which would hand over the rendered prompt instead); the answer is ``sample.label``. The
model server is ``VLLM_TITO_VLLM_BASE_URL`` or slime's router (``--sglang-router-ip``/``--sglang-router-port``),
and it must return vLLM-style ``prompt_token_ids``/``token_ids`` on chat completions; the model is
``VLLM_TITO_MODEL`` or ``--hf-checkpoint``. The service URL is ``VLLM_TITO_SERVICE_URL``.

A sample the service has no row for (the answer's ``left_out``: it failed before its first call and its prompt ids
could not be found) raises ``RolloutLeftOutError`` naming it: slime trains on every sample of a group, and a
sample without tokens is not one it can train on.
"""

from __future__ import annotations

import copy
import os
from argparse import Namespace
from typing import Any

from slime.utils.types import Sample

from vllm_tito_bridges.service_client import (
    RolloutLeftOutError,
    RolloutServiceClient,
    keep_sampling_fields,
    left_out_of,
    question_of,
)

#: SGLang's names for the sampling fields, and vLLM's (``no_stop_trim`` has no vLLM counterpart and is dropped).
SAMPLING_RENAMES = {"max_new_tokens": "max_tokens"}

#: The fields of a service row copied onto slime's ``Sample``.
ROW_FIELDS = ("tokens", "response_length", "loss_mask", "rollout_log_probs", "reward", "rollout_id")

_client: RolloutServiceClient | None = None


def _service() -> RolloutServiceClient:
    global _client
    if _client is None:
        _client = RolloutServiceClient()
    return _client


async def generate(args: Namespace, sample: Sample, sampling_params: dict[str, Any]) -> Sample | list[Sample]:
    """slime's custom generate function: ``async def generate(args, sample, sampling_params)``."""
    task: dict[str, Any] = {"id": int(sample.group_index), "question": question_of(sample.prompt)}
    if sample.label is not None:
        task["answer"] = sample.label
    answer = await _service().rollouts(
        {
            "task": task,
            "group_size": 1,
            "rollout_ids": [int(sample.index)],
            "base_url": os.environ.get("VLLM_TITO_VLLM_BASE_URL")
            or f"http://{args.sglang_router_ip}:{args.sglang_router_port}",
            "model": os.environ.get("VLLM_TITO_MODEL") or str(args.hf_checkpoint),
            "sampling_params": keep_sampling_fields(sampling_params, SAMPLING_RENAMES),
            "format": "slime",
        }
    )
    left_out = left_out_of(answer)
    if left_out:
        raise RolloutLeftOutError(left_out)
    # the agent's final answer is the response text slime logs and its reward models read
    text = answer["rollouts"][0].get("answer") or ""
    samples = [_filled(sample, row, text) for row in answer["rows"]]
    return samples[0] if len(samples) == 1 else samples


def _filled(sample: Sample, row: dict[str, Any], text: str) -> Sample:
    filled = copy.deepcopy(sample)
    filled.response = text
    for name in ROW_FIELDS:
        if name in row:
            setattr(filled, name, row[name])
    filled.status = Sample.Status(row["status"])
    filled.metadata = {**(filled.metadata or {}), **(row.get("metadata") or {})}
    return filled
