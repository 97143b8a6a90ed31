"""A verl agent loop that runs the TypeScript agent through the vllm-tito rollout service.

verl runs one agent loop per sample (the batch is already repeated ``rollout.n`` times) and gathers one
``AgentLoopOutput`` per sample. This loop sends the sample's question to the service as a group of one, against
one of verl's own vLLM servers, and returns the service's row as the ``AgentLoopOutput``.

Configure it with an agent-loop config file (``actor_rollout_ref.rollout.agent.agent_loop_config_path``)::

    - name: vllm_tito_agent
      _target_: vllm_tito_bridges.verl_agent_loop.VllmTitoAgentLoop
      service_url: http://rollouts.internal:8300   # or VLLM_TITO_SERVICE_URL

and ``actor_rollout_ref.rollout.agent.default_agent_loop=vllm_tito_agent`` (or an ``agent_name`` column). Importing
this module also registers the class as ``vllm_tito_agent``.

Which vLLM server: ``vllm_base_url`` (or ``VLLM_TITO_VLLM_BASE_URL``) when set; otherwise one of verl's replicas,
picked by verl's own load balancer for this rollout (``server_manager._acquire_server``, a private method of verl's
``LLMServerClient`` — its server ids are the replicas' ``host:port``) and released when the rollout ends.

A sample the service has no row for (it failed before its first model call and its prompt ids could not be
found; the answer's ``left_out``) becomes a row with no response and the service's reward: verl gathers one
``AgentLoopOutput`` per sample and an exception would fail the whole step. Its prompt ids are verl's own rendering
of the sample's ``raw_prompt`` (the tokenizer's chat template, as verl's agent loops render a prompt), not the
agent's prompt; ``extra_fields["vllm_tito"]`` says so (``prompt_ids_from``) and carries the reason.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

from verl.experimental.agent_loop.agent_loop import AgentLoopBase, AgentLoopOutput, register

from vllm_tito_bridges.service_client import RolloutServiceClient, keep_sampling_fields, left_out_of, question_of


@register("vllm_tito_agent")
class VllmTitoAgentLoop(AgentLoopBase):
    """``AgentLoopBase`` whose ``run`` asks the rollout service for the sample's ``AgentLoopOutput``."""

    def __init__(
        self,
        *args: Any,
        service_url: str | None = None,
        vllm_base_url: str | None = None,
        model: str | None = None,
        request_timeout_seconds: float = 3600.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.service = RolloutServiceClient(service_url, timeout_seconds=request_timeout_seconds)
        self.vllm_base_url = vllm_base_url or os.environ.get("VLLM_TITO_VLLM_BASE_URL")
        # verl's vLLM servers serve the model under its path unless a served name is configured
        self.model = model or os.environ.get("VLLM_TITO_MODEL") or str(self.config.actor_rollout_ref.model.path)

    async def run(self, sampling_params: dict[str, Any], **kwargs: Any) -> AgentLoopOutput:
        rollout_id = uuid.uuid4().hex
        task_id = str(kwargs.get("uid") or kwargs.get("index", rollout_id))
        task: dict[str, Any] = {"id": task_id, "question": question_of(list(kwargs["raw_prompt"]))}
        ground_truth = (kwargs.get("reward_model") or {}).get("ground_truth")
        if ground_truth is not None:
            task["answer"] = ground_truth
        base_url, release = await self._server_for(rollout_id)
        try:
            answer = await self.service.rollouts(
                {
                    "task": task,
                    "group_size": 1,
                    "rollout_ids": [rollout_id],
                    "base_url": base_url,
                    "model": self.model,
                    "sampling_params": keep_sampling_fields(sampling_params),
                    "format": "verl",
                    "export_options": {
                        "splitRollout": "last-sequence",
                        "maxPromptLength": int(self.rollout_config.prompt_length),
                        "maxResponseLength": int(self.rollout_config.response_length),
                    },
                }
            )
        finally:
            release()
        left_out = left_out_of(answer)
        if left_out:
            return self._empty_output(list(kwargs["raw_prompt"]), answer["rollouts"][0], left_out[0])
        return AgentLoopOutput(**answer["rows"][0])

    def _empty_output(self, raw_prompt: list[dict[str, Any]], rollout: dict[str, Any], left_out: dict[str, Any]) -> AgentLoopOutput:
        """A row with nothing to train on for a sample the service has no row for (see the module's docstring)."""
        prompt_ids = self.tokenizer.apply_chat_template(
            raw_prompt, add_generation_prompt=True, tokenize=True, return_dict=False, **self.apply_chat_template_kwargs
        )
        return AgentLoopOutput(
            prompt_ids=list(prompt_ids),
            response_ids=[],
            response_mask=[],
            # an empty list, not None: verl takes rollout logprobs from every sample of the batch or from none
            response_logprobs=[],
            reward_score=rollout.get("reward"),
            num_turns=0,
            metrics={"generate_sequences": 0.0, "tool_calls": 0.0, "compute_score": 0.0, "num_preempted": -1},
            extra_fields={
                "vllm_tito": {
                    "task_id": rollout.get("task_id"),
                    "sample_index": rollout.get("sample_index"),
                    "rollout_id": rollout.get("rollout_id"),
                    "status": "failed",
                    "failure": rollout.get("failure"),
                    "left_out": {"rule": left_out.get("rule"), "reason": left_out.get("reason")},
                    "prompt_ids_from": "verl tokenizer (raw_prompt)",
                }
            },
        )

    async def _server_for(self, rollout_id: str) -> tuple[str, Any]:
        if self.vllm_base_url:
            return self.vllm_base_url, lambda: None
        server_id, _ = await self.server_manager._acquire_server(rollout_id)
        return f"http://{server_id}", lambda: self.server_manager._release_server(server_id)
