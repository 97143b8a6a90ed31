"""Stand-in of ``validate_generator_output`` from SkyRL's ``skyrl/train/utils/trainer_utils.py``: the assertions
SkyRL's trainer makes on a generator's output, re-stated from their documented behaviour."""

from __future__ import annotations

from typing import Any

PER_ROW_KEYS = (
    "response_ids",
    "loss_masks",
    "rewards",
    "rollout_logprobs",
    "stop_reasons",
    "trajectory_ids",
    "rollout_expert_indices",
    "is_last_step",
)


def validate_generator_output(num_prompts: int, generator_output: dict[str, Any], step_wise: bool = False) -> None:
    responses = generator_output["response_ids"]
    if len(responses) == 0:
        raise RuntimeError("No outputs generated")
    if not step_wise:
        assert num_prompts == len(responses), "as many responses as prompts"
    assert len(generator_output["prompt_token_ids"]) == len(responses), "one prompt per response"
    for key in PER_ROW_KEYS:
        if isinstance(generator_output.get(key), list):
            assert len(generator_output[key]) == len(responses), f"{key} has one entry per response"
    logprobs = generator_output["rollout_logprobs"]
    for index, (ids, mask, reward) in enumerate(zip(responses, generator_output["loss_masks"], generator_output["rewards"])):
        assert len(ids) == len(mask), f"row {index}: mask length"
        if isinstance(reward, list):
            assert len(reward) == len(ids), f"row {index}: token rewards length"
        if logprobs:
            assert len(logprobs[index]) == len(ids), f"row {index}: logprobs length"
    rewards = generator_output["rewards"]
    assert all(isinstance(r, list) for r in rewards) or not any(isinstance(r, list) for r in rewards)
    if step_wise:
        last = generator_output["is_last_step"]
        ids = [trajectory.to_string() for trajectory in generator_output["trajectory_ids"]]
        assert last is not None and last[-1] is True
        seen: set[str] = set()
        for index, key in enumerate(ids):
            if index > 0 and key != ids[index - 1]:
                assert key not in seen, "the steps of a trajectory are next to each other"
                assert last[index - 1] is True, "is_last_step ends each trajectory"
            elif index > 0:
                assert last[index - 1] is not True, "is_last_step only on a trajectory's final step"
            seen.add(key)
