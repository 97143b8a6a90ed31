"""Stand-in of SkyRL's ``skyrl/train/generators/base.py``: ``TrajectoryID``, ``GeneratorInput``,
``GeneratorOutput`` and ``GeneratorInterface`` with the same fields and signature (see docs/rollout-service.md)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, TypedDict, Union


@dataclass
class TrajectoryID:
    instance_id: str
    repetition_id: int

    def to_string(self) -> str:
        return f"{self.instance_id}_{self.repetition_id}"


@dataclass
class BatchMetadata:
    global_step: int
    training_phase: str


class GeneratorInput(TypedDict):
    prompts: List[Any]
    env_classes: List[str]
    env_extras: Optional[List[Dict[str, Any]]]
    sampling_params: Optional[Dict[str, Any]]
    trajectory_ids: Optional[List[TrajectoryID]]
    batch_metadata: Optional[BatchMetadata]


class GeneratorOutput(TypedDict):
    prompt_token_ids: List[List[int]]
    response_ids: List[List[int]]
    rewards: Union[List[float], List[List[float]]]
    loss_masks: List[List[int]]
    stop_reasons: Optional[List[str]]
    rollout_metrics: Optional[Dict[str, Any]]
    rollout_logprobs: Optional[List[List[float]]]
    trajectory_ids: Optional[List[TrajectoryID]]
    trajectory_generation_times: Optional[List[float]]
    trajectory_time_splits: Optional[Dict[str, List[float]]]
    rollout_expert_indices: Optional[List[Any]]
    is_last_step: Optional[List[bool]]
    env_metrics: Optional[List[Dict[str, Any]]]
    pixel_values: Optional[List[Any]]
    image_grid_thw: Optional[List[Any]]


class GeneratorInterface(ABC):
    @abstractmethod
    async def generate(self, input_batch: GeneratorInput) -> GeneratorOutput:
        """Generate trajectories for the input batch, in the input batch's order."""
        raise NotImplementedError
