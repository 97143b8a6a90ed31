"""Trainer-side bridges to the vllm-tito rollout service (``vllm-tito serve``).

Each bridge is the small hook its trainer calls per sample or per batch; it sends the task to the rollout
service, which runs the TypeScript agent against the vLLM server the trainer serves and answers with rows in the
trainer's own format:

- ``vllm_tito_bridges.verl_agent_loop.VllmTitoAgentLoop`` — a verl ``AgentLoopBase`` registered as
  ``vllm_tito_agent``;
- ``vllm_tito_bridges.skyrl_generator.VllmTitoGenerator`` — a SkyRL ``GeneratorInterface``;
- ``vllm_tito_bridges.slime_generate.generate`` — a slime ``--custom-generate-function-path`` function.

They import only their trainer and the standard library. The HTTP API they speak is in
``docs/rollout-service.md`` of the vllm-tito repository.
"""

from vllm_tito_bridges.service_client import (
    RolloutLeftOutError,
    RolloutServiceClient,
    RolloutServiceError,
    keep_sampling_fields,
    left_out_of,
    question_of,
)

__all__ = [
    "RolloutLeftOutError",
    "RolloutServiceClient",
    "RolloutServiceError",
    "keep_sampling_fields",
    "left_out_of",
    "question_of",
]
