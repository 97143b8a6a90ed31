"""Stand-in checks of the trainer rows `pnpm example trainer-rows` writes.

Each trainer's data class is re-created here from its documented signature (standard library only, no trainer
installed): verl's ``AgentLoopOutput`` / ``AgentLoopMetrics`` (verl/experimental/agent_loop/agent_loop.py),
SkyRL's ``GeneratorOutput`` / ``TrajectoryID`` (skyrl/train/generators/base.py) and the assertions of its
``validate_generator_output`` (skyrl/train/utils/trainer_utils.py), slime's ``Sample`` with ``Status``
(slime/utils/types.py), and the way Agent Lightning's verl bridge indexes a triplet
(agentlightning/verl/rollout_adapter.py). The stand-ins are written from that behaviour, in our own code;
see docs/trainer-rows.md for the rules and the upstream links.

Run from the repository root: ``python3 -m pytest integrations/python/tests -q``. The fixture runs the example
into a temporary folder (Node 22 and pnpm on PATH), or reads the files from ``TRAINER_ROWS_DIR`` when it is set.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import os
import shutil
import subprocess
import typing
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[3]
GROUP_SIZE = 4


@pytest.fixture(scope="session")
def rows_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    configured = os.environ.get("TRAINER_ROWS_DIR")
    if configured:
        return Path(configured)
    pnpm = shutil.which("pnpm")
    if pnpm is None:
        pytest.fail("pnpm is not on PATH: put Node 22 and pnpm on PATH, or set TRAINER_ROWS_DIR to the rows folder")
    out = tmp_path_factory.mktemp("examples-out")
    environment = {key: value for key, value in os.environ.items() if not key.startswith("VLLM_")}
    environment["EXAMPLES_OUT_DIR"] = str(out)
    subprocess.run(
        [pnpm, "--silent", "example", "trainer-rows"],
        cwd=REPOSITORY,
        env=environment,
        check=True,
        timeout=300,
        capture_output=True,
    )
    return out / "trainer-rows"


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line]


# ---------------------------------------------------------------------------------------------------------------
# small type checks, standing in for pydantic's validation of the fields below
# ---------------------------------------------------------------------------------------------------------------


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_float(value: object) -> bool:
    # pydantic and float() take JSON integers for float fields
    return is_int(value) or isinstance(value, float)


def int_list(value: object, name: str) -> list[int]:
    assert isinstance(value, list) and all(is_int(item) for item in value), f"{name} must be list[int]"
    return value


def float_list(value: object, name: str) -> list[float]:
    assert isinstance(value, list) and all(is_float(item) for item in value), f"{name} must be list[float]"
    return value


# ---------------------------------------------------------------------------------------------------------------
# verl
# ---------------------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class AgentLoopMetrics:
    generate_sequences: float = 0.0
    tool_calls: float = 0.0
    compute_score: float = 0.0
    num_preempted: int = -1


class AgentLoopOutput:
    """The fields of verl's pydantic model; `metrics` has no default, so a row without it fails."""

    REQUIRED = ("prompt_ids", "response_ids", "response_mask", "metrics")
    OPTIONAL = {
        "response_logprobs": None,
        "routed_experts": None,
        "multi_modal_data": None,
        "reward_score": None,
        "num_turns": 0,
        "extra_fields": {},
        "mm_processor_kwargs": None,
    }

    def __init__(self, **fields: object) -> None:
        missing = [name for name in self.REQUIRED if name not in fields]
        if missing:
            raise TypeError(f"AgentLoopOutput: missing required fields {missing}")
        # pydantic would ignore an unknown key; refusing it here catches a misspelt field that verl would drop
        unknown = sorted(set(fields) - set(self.REQUIRED) - set(self.OPTIONAL))
        if unknown:
            raise TypeError(f"AgentLoopOutput: unknown fields {unknown}")
        values = {**self.OPTIONAL, **fields}
        self.prompt_ids = int_list(values["prompt_ids"], "prompt_ids")
        self.response_ids = int_list(values["response_ids"], "response_ids")
        self.response_mask = int_list(values["response_mask"], "response_mask")
        logprobs = values["response_logprobs"]
        self.response_logprobs = None if logprobs is None else float_list(logprobs, "response_logprobs")
        reward = values["reward_score"]
        assert reward is None or is_float(reward), "reward_score must be float | None"
        self.reward_score = reward
        assert is_int(values["num_turns"]), "num_turns must be int"
        self.num_turns = values["num_turns"]
        metrics = values["metrics"]
        assert isinstance(metrics, dict), "metrics must be an AgentLoopMetrics"
        self.metrics = AgentLoopMetrics(**metrics)
        assert isinstance(values["extra_fields"], dict), "extra_fields must be a dict"
        self.extra_fields = values["extra_fields"]


def test_verl_rows_are_agent_loop_outputs_one_per_sample(rows_dir: Path) -> None:
    rows = [AgentLoopOutput(**row) for row in read_jsonl(rows_dir / "verl.jsonl")]
    # verl runs one agent loop per sample: the group gives exactly one output per rollout, in order
    assert [row.extra_fields["vllm_tito"]["sample_index"] for row in rows] == list(range(GROUP_SIZE))
    for row in rows:
        assert len(row.response_mask) == len(row.response_ids)
        assert set(row.response_mask) <= {0, 1}
        assert row.response_mask[0] == 1, "the response starts with the model's first reply"
        assert row.metrics.num_preempted == -1 and row.metrics.generate_sequences > 0
        assert row.num_turns >= 2
        if row.response_logprobs is not None:
            assert len(row.response_logprobs) == len(row.response_ids)
            assert all(lp == 0.0 for lp, mask in zip(row.response_logprobs, row.response_mask) if mask == 0)
    split = [row for row in rows if row.extra_fields["vllm_tito"]["sequences_in_rollout"] > 1]
    assert len(split) == 1 and split[0].extra_fields["vllm_tito"]["sequence_index"] == 1


def test_verl_batch_rules_hold(rows_dir: Path) -> None:
    rows = [AgentLoopOutput(**row) for row in read_jsonl(rows_dir / "verl.jsonl")]
    # _postprocess concatenates logprobs when the first row has them: all rows must then have them
    assert len({row.response_logprobs is None for row in rows}) == 1
    # rm_scores are written only when every row has a reward
    assert len({row.reward_score is None for row in rows}) == 1
    assert [row.reward_score for row in rows] == [1, 1, 0, 1]


# ---------------------------------------------------------------------------------------------------------------
# SkyRL
# ---------------------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class TrajectoryID:
    instance_id: str
    repetition_id: int

    def to_string(self) -> str:
        return f"{self.instance_id}_{self.repetition_id}"


class GeneratorOutput(typing.TypedDict):
    prompt_token_ids: list[list[int]]
    response_ids: list[list[int]]
    rewards: list[float] | list[list[float]]
    loss_masks: list[list[int]]
    stop_reasons: list[str] | None
    rollout_metrics: dict[str, typing.Any] | None
    rollout_logprobs: list[list[float]] | None
    trajectory_ids: list[TrajectoryID] | None
    trajectory_generation_times: list[float] | None
    trajectory_time_splits: dict[str, list[float]] | None
    rollout_expert_indices: list[typing.Any] | None
    is_last_step: list[bool] | None
    env_metrics: list[dict[str, typing.Any]] | None
    pixel_values: list[typing.Any] | None
    image_grid_thw: list[typing.Any] | None


# SkyRL's own generator sets these only for vision models
VISION_KEYS = {"pixel_values", "image_grid_thw"}
PER_ROW_KEYS = [
    "response_ids",
    "loss_masks",
    "rewards",
    "rollout_logprobs",
    "stop_reasons",
    "trajectory_ids",
    "rollout_expert_indices",
    "is_last_step",
]


def validate_generator_output(num_prompts: int, output: dict, step_wise: bool) -> None:
    """What SkyRL's validate_generator_output asserts, re-stated from its documented behaviour."""
    responses = output["response_ids"]
    if len(responses) == 0:
        raise RuntimeError("no outputs generated")
    if not step_wise:
        assert num_prompts == len(responses), "as many responses as prompts"
    assert len(output["prompt_token_ids"]) == len(responses), "one prompt per response"
    for key in PER_ROW_KEYS:
        if isinstance(output.get(key), list):
            assert len(output[key]) == len(responses), f"{key} has one entry per response"
    for index, (ids, mask, reward) in enumerate(zip(responses, output["loss_masks"], output["rewards"])):
        assert len(ids) == len(mask), f"row {index}: mask length"
        if isinstance(reward, list):
            assert len(reward) == len(ids), f"row {index}: token rewards length"
        if output["rollout_logprobs"]:
            assert len(output["rollout_logprobs"][index]) == len(ids), f"row {index}: logprobs length"
    rewards = output["rewards"]
    assert all(isinstance(r, list) for r in rewards) or not any(isinstance(r, list) for r in rewards)
    if step_wise:
        last = output["is_last_step"]
        ids = [TrajectoryID(**value).to_string() for value in output["trajectory_ids"]]
        assert last is not None and ids is not None and last[-1] is True
        seen: set[str] = set()
        for index, key in enumerate(ids):
            if index > 0 and key != ids[index - 1]:
                assert key not in seen, "the steps of a trajectory are next to each other"
                assert last[index - 1] is True, "is_last_step ends each trajectory"
            elif index > 0:
                assert last[index - 1] is not True, "is_last_step only on a trajectory's final step"
            seen.add(key)


def test_skyrl_generator_output_passes_validation_in_step_wise_mode(rows_dir: Path) -> None:
    output: GeneratorOutput = json.loads((rows_dir / "skyrl.json").read_text())
    expected_keys = set(GeneratorOutput.__annotations__) - VISION_KEYS
    assert set(output) == expected_keys
    validate_generator_output(GROUP_SIZE, output, step_wise=True)
    assert sum(output["is_last_step"]) == GROUP_SIZE, "one trajectory per input prompt"
    # the trainer reads this key directly, and turns a scalar reward into per-token with response[-1]
    assert output["rollout_metrics"] is not None
    for ids, reward in zip(output["response_ids"], output["rewards"]):
        assert len(ids) > 0, "SkyRL writes a scalar reward at response[-1]"
        assert isinstance(float(reward), float)
    assert [TrajectoryID(**value).instance_id for value in output["trajectory_ids"]] == ["0"] * 5
    assert output["rewards"] == [1, 0, 1, 0, 1], "a split trajectory's reward sits on its last step"


# ---------------------------------------------------------------------------------------------------------------
# slime
# ---------------------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Sample:
    """The fields of slime's Sample that a generate function fills (the others keep their defaults)."""

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
    reward: float | dict[str, typing.Any] | None = None
    loss_mask: list[int] | None = None
    rollout_log_probs: list[float] | None = None
    status: Status = Status.PENDING
    metadata: dict = dataclasses.field(default_factory=dict)

    @staticmethod
    def from_dict(data: dict) -> "Sample":
        """As slime's from_dict: the status by value, known fields to the constructor, the rest as attributes."""
        data = dict(data)
        data["status"] = Sample.Status(data["status"])
        names = {field.name for field in dataclasses.fields(Sample)}
        sample = Sample(**{key: value for key, value in data.items() if key in names})
        for key, value in data.items():
            if key not in names:
                setattr(sample, key, value)
        return sample


def test_slime_samples_follow_samples_rules(rows_dir: Path) -> None:
    samples = [Sample.from_dict(row) for row in read_jsonl(rows_dir / "slime.jsonl")]
    for sample in samples:
        assert is_int(sample.group_index) and is_int(sample.index) and is_int(sample.rollout_id)
        assert sample.status is not Sample.Status.ABORTED, "aborted samples are sent back to be generated again"
        assert len(sample.loss_mask) == sample.response_length <= len(sample.tokens)
        if sample.rollout_log_probs is not None:
            assert len(sample.rollout_log_probs) == sample.response_length
        assert sample.reward is not None, "a None reward makes slime call its reward model"
    # slime's first sample decides whether logprobs are taken for the batch
    assert len({sample.rollout_log_probs is None for sample in samples}) == 1
    # one GRPO group; the two samples of the split rollout share rollout_id, index and the full reward
    assert {sample.group_index for sample in samples} == {0}
    by_rollout: dict[int, list[Sample]] = {}
    for sample in samples:
        by_rollout.setdefault(sample.rollout_id, []).append(sample)
    assert sorted(by_rollout) == list(range(GROUP_SIZE))
    siblings = by_rollout[1]
    assert len(siblings) == 2 and {sample.index for sample in siblings} == {1}
    assert [sample.reward for sample in siblings] == [1, 1]


# ---------------------------------------------------------------------------------------------------------------
# Agent Lightning 1.0
# ---------------------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Triplet:
    prompt: typing.Any
    response: typing.Any
    reward: float | None = None
    metadata: dict = dataclasses.field(default_factory=dict)


def ids_startswith(full: list[int], prefix: list[int]) -> bool:
    return len(full) >= len(prefix) and full[: len(prefix)] == prefix


def test_agent_lightning_triplets_index_like_the_verl_bridge(rows_dir: Path) -> None:
    triplets = [Triplet(**row) for row in read_jsonl(rows_dir / "agent-lightning.jsonl")]
    by_rollout: dict[object, list[Triplet]] = {}
    for triplet in triplets:
        # the bridge indexes these keys directly: a missing log_probs key is a KeyError there
        int_list(triplet.prompt["token_ids"], "prompt.token_ids")
        int_list(triplet.response["token_ids"], "response.token_ids")
        log_probs = triplet.response["log_probs"]
        assert log_probs is None or len(float_list(log_probs, "log_probs")) == len(triplet.response["token_ids"])
        by_rollout.setdefault(triplet.metadata["vllm_tito"]["rollout_id"], []).append(triplet)
    assert sorted(by_rollout) == list(range(GROUP_SIZE))
    merged_rows = 0
    for rollout_triplets in by_rollout.values():
        # only the last triplet carries the rollout's reward, as Agent Lightning's manager places it
        assert all(triplet.reward is None for triplet in rollout_triplets[:-1])
        assert rollout_triplets[-1].reward is not None
        # the bridge merges a call into the previous one when its prompt extends prompt + response
        context = None
        for triplet in rollout_triplets:
            prompt = triplet.prompt["token_ids"]
            if context is None or not ids_startswith(prompt, context):
                merged_rows += 1
            context = prompt + triplet.response["token_ids"]
    # three rollouts merge into one row each; the split one gives two
    assert merged_rows == GROUP_SIZE + 1
