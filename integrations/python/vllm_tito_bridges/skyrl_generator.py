"""A SkyRL generator that runs the TypeScript agent through the vllm-tito rollout service.

SkyRL calls ``generate(input_batch)`` once per batch: one prompt per trajectory, already repeated
``n_samples_per_prompt`` times, with ``trajectory_ids`` (``instance_id``, ``repetition_id``). This generator sends
the batch's distinct tasks to the service in one request (the group size is the repetitions per instance), and
returns the service's ``GeneratorOutput`` with its rows in ``input_batch`` order.

Use it from your entrypoint by overriding ``BasePPOExp.get_generator``::

    class VllmTitoExp(BasePPOExp):
        def get_generator(self, cfg, tokenizer, inference_engine_client):
            return VllmTitoGenerator(
                inference_engine_client=inference_engine_client,
                step_wise=cfg.generator.step_wise_trajectories,
            )

The vLLM server is ``base_url`` (or ``VLLM_TITO_VLLM_BASE_URL``), else SkyRL's data-plane endpoint
(``inference_engine_client.get_endpoint_url()``, its router); the model is ``model``, else
``inference_engine_client.model_name``. The answer of a task is its ``env_extras["reward_spec"]["ground_truth"]``.

SkyRL validates one output row per input trajectory, each with a response token that carries its reward
(``validate_generator_output``). A rollout that failed before its first call gets an empty-response row with one
mask-0 token when ``empty_response_token_id`` is set (the tokenizer's EOS id) and the service has its prompt ids;
one without a row (the answer's ``left_out``) raises ``RolloutLeftOutError`` naming each, instead of handing SkyRL
a batch it would reject.
"""

from __future__ import annotations

import os
from typing import Any

from skyrl.train.generators.base import GeneratorInput, GeneratorInterface, GeneratorOutput, TrajectoryID

from vllm_tito_bridges.service_client import (
    RolloutLeftOutError,
    RolloutServiceClient,
    keep_sampling_fields,
    left_out_of,
    question_of,
)

#: SkyRL's name for the per-call token budget, and vLLM's.
SAMPLING_RENAMES = {"max_generate_length": "max_tokens"}


class VllmTitoGenerator(GeneratorInterface):
    """``GeneratorInterface`` whose ``generate`` asks the rollout service for the batch's ``GeneratorOutput``."""

    def __init__(
        self,
        *,
        service_url: str | None = None,
        base_url: str | None = None,
        model: str | None = None,
        inference_engine_client: Any = None,
        step_wise: bool = False,
        empty_response_token_id: int | None = None,
        request_timeout_seconds: float = 3600.0,
    ) -> None:
        self.service = RolloutServiceClient(service_url, timeout_seconds=request_timeout_seconds)
        self.base_url = base_url or os.environ.get("VLLM_TITO_VLLM_BASE_URL")
        self.model = model or os.environ.get("VLLM_TITO_MODEL")
        self.inference_engine_client = inference_engine_client
        self.step_wise = step_wise
        self.empty_response_token_id = empty_response_token_id
        if self.base_url is None and inference_engine_client is None:
            raise ValueError("VllmTitoGenerator needs base_url (or VLLM_TITO_VLLM_BASE_URL) or an inference_engine_client")

    async def generate(self, input_batch: GeneratorInput) -> GeneratorOutput:
        prompts = list(input_batch["prompts"])
        extras = list(input_batch.get("env_extras") or [{} for _ in prompts])
        ids = input_batch.get("trajectory_ids")
        # without trajectory ids every prompt is its own task
        trajectory_ids = list(ids) if ids else [TrajectoryID(instance_id=str(index), repetition_id=0) for index in range(len(prompts))]
        tasks, group_size = _tasks_of(prompts, extras, trajectory_ids)
        export_options: dict[str, Any] = {
            "stepWise": self.step_wise,
            "inputTrajectoryIds": [
                {"instance_id": str(trajectory.instance_id), "repetition_id": int(trajectory.repetition_id)}
                for trajectory in trajectory_ids
            ],
        }
        if self.empty_response_token_id is not None:
            export_options["emptyResponseTokenId"] = self.empty_response_token_id
        answer = await self.service.rollouts(
            {
                "tasks": tasks,
                "group_size": group_size,
                "rollout_ids": [f"{task['id']}_{sample}" for task in tasks for sample in range(group_size)],
                "base_url": self.base_url or self.inference_engine_client.get_endpoint_url(),
                "model": self.model or self.inference_engine_client.model_name,
                "sampling_params": _sampling_params(input_batch.get("sampling_params")),
                "format": "skyrl",
                "export_options": export_options,
            }
        )
        left_out = left_out_of(answer)
        if left_out:
            raise RolloutLeftOutError(left_out)
        output = answer["rows"]
        output["trajectory_ids"] = [TrajectoryID(**trajectory) for trajectory in output["trajectory_ids"]]
        return output


def _sampling_params(params: dict[str, Any] | None) -> dict[str, Any]:
    """SkyRL's vLLM sampling params for chat: its ``logprobs`` is a count (vLLM's completions meaning); chat takes
    ``logprobs: true`` for the sampled tokens' logprobs, which is what training needs."""
    kept = keep_sampling_fields(params, SAMPLING_RENAMES)
    logprobs = kept.get("logprobs")
    if isinstance(logprobs, int) and not isinstance(logprobs, bool):
        kept["logprobs"] = logprobs >= 0
    return kept


def _tasks_of(
    prompts: list[Any], extras: list[dict[str, Any]], trajectory_ids: list[TrajectoryID]
) -> tuple[list[dict[str, Any]], int]:
    """The batch's distinct tasks in first-appearance order, and the repetitions each has (SkyRL's are equal)."""
    tasks: dict[str, dict[str, Any]] = {}
    repetitions: dict[str, set[int]] = {}
    for prompt, extra, trajectory in zip(prompts, extras, trajectory_ids, strict=True):
        instance = str(trajectory.instance_id)
        if instance not in tasks:
            task: dict[str, Any] = {"id": instance, "question": question_of(prompt)}
            ground_truth = ((extra or {}).get("reward_spec") or {}).get("ground_truth")
            if ground_truth is not None:
                task["answer"] = ground_truth
            tasks[instance] = task
        repetitions.setdefault(instance, set()).add(int(trajectory.repetition_id))
    sizes = {len(found) for found in repetitions.values()}
    if len(sizes) != 1 or any(found != set(range(len(found))) for found in repetitions.values()):
        raise ValueError("every instance of the batch needs repetitions 0..n-1, the same n for all")
    return list(tasks.values()), sizes.pop()
