"""Stand-in of verl's ``verl/experimental/agent_loop/agent_loop.py``.

What it re-states, from verl's documented behaviour (see docs/rollout-service.md for the commit):

- ``AgentLoopMetrics`` and ``AgentLoopOutput`` — pydantic models there; here plain classes that check the same
  field types, with ``metrics`` required (it has no default) and a ``metrics`` dict turned into
  ``AgentLoopMetrics`` as pydantic does. Unlike pydantic, an unknown field is refused, so a misspelt row field
  fails the test instead of being dropped;
- ``AgentLoopBase.__init__(trainer_config, server_manager, tokenizer, processor, dataset_cls, data_config,
  hf_model_type=None, **kwargs)`` setting ``config``, ``rollout_config``, ``server_manager``, ``tokenizer`` and
  ``apply_chat_template_kwargs`` (the data config's, default ``{}``), and the abstract
  ``async run(sampling_params, **kwargs) -> AgentLoopOutput``;
- ``register(name)`` filling the registry with ``{"_target_": "<module>.<qualname>"}``, and
  ``instantiate_agent_loop``: what ``AgentLoopWorker._run_agent_loop`` does with a registry entry (hydra's
  ``instantiate``: the entry's other keys and the worker's keyword arguments go to the constructor).
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from typing import Any


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_float(value: object) -> bool:
    return _is_int(value) or isinstance(value, float)


def _int_list(value: object, name: str) -> list[int]:
    if not isinstance(value, list) or not all(_is_int(item) for item in value):
        raise TypeError(f"AgentLoopOutput.{name} must be list[int]")
    return value


class AgentLoopMetrics:
    def __init__(
        self,
        generate_sequences: float = 0.0,
        tool_calls: float = 0.0,
        compute_score: float = 0.0,
        num_preempted: int = -1,
    ) -> None:
        if not all(_is_float(value) for value in (generate_sequences, tool_calls, compute_score)):
            raise TypeError("AgentLoopMetrics timings must be floats")
        if not _is_int(num_preempted):
            raise TypeError("AgentLoopMetrics.num_preempted must be an int")
        self.generate_sequences = float(generate_sequences)
        self.tool_calls = float(tool_calls)
        self.compute_score = float(compute_score)
        self.num_preempted = num_preempted


class AgentLoopOutput:
    REQUIRED = ("prompt_ids", "response_ids", "response_mask", "metrics")
    OPTIONAL: dict[str, Any] = {
        "response_logprobs": None,
        "routed_experts": None,
        "multi_modal_data": None,
        "reward_score": None,
        "num_turns": 0,
        "extra_fields": {},
        "mm_processor_kwargs": None,
    }

    def __init__(self, **fields: Any) -> None:
        missing = [name for name in self.REQUIRED if name not in fields]
        if missing:
            raise TypeError(f"AgentLoopOutput: missing required fields {missing}")
        unknown = sorted(set(fields) - set(self.REQUIRED) - set(self.OPTIONAL))
        if unknown:
            raise TypeError(f"AgentLoopOutput: unknown fields {unknown}")
        values = {**self.OPTIONAL, **fields}
        self.prompt_ids = _int_list(values["prompt_ids"], "prompt_ids")
        self.response_ids = _int_list(values["response_ids"], "response_ids")
        self.response_mask = _int_list(values["response_mask"], "response_mask")
        logprobs = values["response_logprobs"]
        if logprobs is not None and not (isinstance(logprobs, list) and all(_is_float(item) for item in logprobs)):
            raise TypeError("AgentLoopOutput.response_logprobs must be list[float] | None")
        self.response_logprobs = logprobs
        if values["reward_score"] is not None and not _is_float(values["reward_score"]):
            raise TypeError("AgentLoopOutput.reward_score must be float | None")
        self.reward_score = values["reward_score"]
        if not _is_int(values["num_turns"]):
            raise TypeError("AgentLoopOutput.num_turns must be an int")
        self.num_turns = values["num_turns"]
        metrics = values["metrics"]
        self.metrics = metrics if isinstance(metrics, AgentLoopMetrics) else AgentLoopMetrics(**metrics)
        if not isinstance(values["extra_fields"], dict):
            raise TypeError("AgentLoopOutput.extra_fields must be a dict")
        self.extra_fields = values["extra_fields"]


class DictConfigWrap:
    def __init__(self, config: Any) -> None:
        self.config = config


class AgentLoopBase(ABC):
    def __init__(
        self,
        trainer_config: DictConfigWrap,
        server_manager: Any,
        tokenizer: Any,
        processor: Any,
        dataset_cls: Any,
        data_config: DictConfigWrap,
        hf_model_type: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.config = trainer_config.config
        self.rollout_config = self.config.actor_rollout_ref.rollout
        self.server_manager = server_manager
        self.tokenizer = tokenizer
        self.processor = processor
        self.dataset_cls = dataset_cls
        self.data_config = data_config.config
        self.apply_chat_template_kwargs = self.data_config.get("apply_chat_template_kwargs", {})

    @abstractmethod
    async def run(self, sampling_params: dict[str, Any], **kwargs: Any) -> AgentLoopOutput:
        raise NotImplementedError


_agent_loop_registry: dict[str, dict[str, Any]] = {}


def register(agent_name: str):
    def decorator(subclass: type[AgentLoopBase]) -> type[AgentLoopBase]:
        _agent_loop_registry[agent_name] = {"_target_": f"{subclass.__module__}.{subclass.__qualname__}"}
        return subclass

    return decorator


def instantiate_agent_loop(config: dict[str, Any], **kwargs: Any) -> AgentLoopBase:
    """A registry entry (or an agent-loop config file entry) instantiated the way hydra does it."""
    module_name, _, class_name = config["_target_"].rpartition(".")
    cls = getattr(importlib.import_module(module_name), class_name)
    extra = {key: value for key, value in config.items() if key not in ("_target_", "name")}
    return cls(**extra, **kwargs)
