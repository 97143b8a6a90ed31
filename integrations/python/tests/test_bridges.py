"""The bridges against their trainers' stand-ins (tests/standins) and a real running rollout service.

Each test drives a bridge the way its trainer does — verl instantiates the registered agent loop and awaits
``run(sampling_params, **dataset_fields)``; SkyRL awaits ``generate(input_batch)`` and validates the output; slime
awaits ``generate(args, sample, sampling_params)`` — and checks the trainer's own data class came back right. The
service is the CLI from sources with the embedded mock-vllm (conftest.py), whose demo model solves calculator
tasks: "What is 17 * 23?" is answered 391 after one calculator call.

Run from the repository root: ``python3 -m pytest integrations/python/tests -q`` (Node 22 and pnpm on PATH).
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import threading
import time
import types
import urllib.error
import urllib.request
from argparse import Namespace
from collections.abc import Callable

import pytest
from skyrl.train.generators.base import TrajectoryID
from skyrl.train.utils.trainer_utils import validate_generator_output
from slime.utils.types import Sample
from verl.experimental.agent_loop.agent_loop import (
    AgentLoopOutput,
    DictConfigWrap,
    _agent_loop_registry,
    instantiate_agent_loop,
)
from verl.workers.rollout.llm_server import LLMServerClient

from vllm_tito_bridges.service_client import RolloutLeftOutError, RolloutServiceClient, RolloutServiceError
from vllm_tito_bridges.skyrl_generator import VllmTitoGenerator
from vllm_tito_bridges.slime_generate import generate as slime_generate
from vllm_tito_bridges.verl_agent_loop import VllmTitoAgentLoop

MODEL = "Qwen/Qwen3-8B"
QUESTION = "What is 17 * 23? Use the calculator tool."
#: A question the ``refusing_model_server`` answers 400, with no /tokenize: the service has no row for it.
BROKEN_QUESTION = "What is broken 2 + 2? Use the calculator tool."


async def until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Awaits ``condition`` (polled every 20 ms); fails the test naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.02)


class StandInTokenizer:
    """A Hugging Face tokenizer's ``apply_chat_template(conversation, tools=None, add_generation_prompt=False,
    tokenize=True, return_dict=False, **kwargs)``: here the UTF-8 bytes of a plain rendering, one id per byte."""

    def apply_chat_template(self, conversation, tools=None, add_generation_prompt=False, tokenize=True, return_dict=False, **kwargs):
        assert tokenize and not return_dict, "the bridge asks for a plain list of ids"
        text = "".join(f"<{message['role']}>{message['content']}" for message in conversation)
        return list((text + ("<assistant>" if add_generation_prompt else "")).encode("utf-8"))


def verl_config(prompt_length: int = 4096, response_length: int = 4096) -> DictConfigWrap:
    rollout = types.SimpleNamespace(prompt_length=prompt_length, response_length=response_length)
    model = types.SimpleNamespace(path=MODEL)
    return DictConfigWrap(types.SimpleNamespace(actor_rollout_ref=types.SimpleNamespace(rollout=rollout, model=model)))


def verl_agent_loop(service, server_manager, tokenizer=None, **config_entry) -> VllmTitoAgentLoop:
    """What verl's AgentLoopWorker does: the registered entry, instantiated with the worker's arguments."""
    entry = {**_agent_loop_registry["vllm_tito_agent"], "service_url": service.url, **config_entry}
    return instantiate_agent_loop(
        entry,
        trainer_config=verl_config(),
        server_manager=server_manager,
        tokenizer=tokenizer,
        processor=None,
        hf_model_type="qwen3",
        dataset_cls=None,
        data_config=DictConfigWrap({}),
        tools=None,
    )


VERL_SAMPLING = {"temperature": 1.0, "top_p": 1.0, "top_k": -1, "repetition_penalty": 1.0, "logprobs": True}
VERL_SAMPLE = {
    "raw_prompt": [{"role": "user", "content": QUESTION}],
    "reward_model": {"ground_truth": "391", "style": "rule"},
    "uid": "uid-17",
    "index": 0,
    "extra_info": {},
    "tools_kwargs": {},
}


def test_verl_agent_loop_returns_the_samples_agent_loop_output_from_verls_own_server(rollout_service) -> None:
    address = rollout_service.mock_url.removeprefix("http://")
    server_manager = LLMServerClient(address)
    loop = verl_agent_loop(rollout_service, server_manager)
    assert isinstance(loop, VllmTitoAgentLoop)
    output = asyncio.run(loop.run(VERL_SAMPLING, **VERL_SAMPLE))
    assert isinstance(output, AgentLoopOutput)
    assert output.reward_score == 1
    assert len(output.response_mask) == len(output.response_ids) == len(output.response_logprobs)
    assert output.response_mask[0] == 1 and 0 in output.response_mask, "model tokens, then the tool result"
    assert output.num_turns == 4
    assert output.metrics.num_preempted == -1 and output.metrics.generate_sequences > 0
    info = output.extra_fields["vllm_tito"]
    assert info["task_id"] == "uid-17" and info["sample_index"] == 0
    # one server acquired from verl's balancer for the rollout, under the rollout's id, and released after it
    assert server_manager.acquired == [info["rollout_id"]]
    assert server_manager.released == [address]


def test_verl_agent_loop_cuts_the_response_to_rollout_response_length(rollout_service) -> None:
    loop = verl_agent_loop(rollout_service, LLMServerClient("unused:1"), vllm_base_url=rollout_service.mock_url)
    loop.rollout_config.response_length = 12
    output = asyncio.run(loop.run(VERL_SAMPLING, **VERL_SAMPLE))
    assert len(output.response_ids) == len(output.response_mask) == 12
    assert output.extra_fields["vllm_tito"]["truncated"]["response_tokens_dropped"] > 0
    assert loop.server_manager.acquired == [], "an explicit vllm_base_url bypasses verl's balancer"


def test_skyrl_generator_answers_the_batch_in_input_order_and_passes_skyrls_validation(rollout_service) -> None:
    conversation = lambda question: [{"role": "user", "content": question}]  # noqa: E731
    questions = {"a": "What is 2 + 3? Use the calculator tool.", "b": "What is 4 * 4? Use the calculator tool."}
    answers = {"a": "5", "b": "17"}  # b's answer on file is wrong: its group is rewarded 0
    order = [("b", 0), ("a", 0), ("a", 1), ("b", 1)]
    input_batch = {
        "prompts": [conversation(questions[instance]) for instance, _ in order],
        "env_classes": ["vllm_tito"] * 4,
        "env_extras": [{"reward_spec": {"method": "rule", "ground_truth": answers[instance]}} for instance, _ in order],
        "sampling_params": {"temperature": 1.0, "top_p": 1.0, "max_generate_length": 1024, "logprobs": 1, "stop": None},
        "trajectory_ids": [TrajectoryID(instance_id=instance, repetition_id=rep) for instance, rep in order],
        "batch_metadata": None,
    }

    class EngineClient:
        model_name = MODEL

        def get_endpoint_url(self) -> str:
            return rollout_service.mock_url

    generator = VllmTitoGenerator(service_url=rollout_service.url, inference_engine_client=EngineClient())
    output = asyncio.run(generator.generate(input_batch))
    validate_generator_output(len(input_batch["prompts"]), output)
    assert output["trajectory_ids"] == input_batch["trajectory_ids"]
    assert all(isinstance(trajectory, TrajectoryID) for trajectory in output["trajectory_ids"])
    assert output["rewards"] == [0, 1, 1, 0]
    assert output["rollout_metrics"]["vllm_tito/rollouts"] == 4
    assert output["stop_reasons"] == ["stop"] * 4


def test_slime_generate_fills_the_sample_with_its_own_integer_ids(rollout_service, monkeypatch) -> None:
    monkeypatch.setenv("VLLM_TITO_SERVICE_URL", rollout_service.url)
    host, port = rollout_service.mock_url.removeprefix("http://").split(":")
    args = Namespace(sglang_router_ip=host, sglang_router_port=int(port), hf_checkpoint=MODEL)
    sample = Sample(group_index=5, index=21, prompt=[{"role": "user", "content": QUESTION}], label="391")
    sampling = {"temperature": 1.0, "top_p": 1.0, "top_k": -1, "max_new_tokens": 1024, "no_stop_trim": True}
    filled = asyncio.run(slime_generate(args, sample, sampling))
    assert isinstance(filled, Sample)
    assert (filled.group_index, filled.index, filled.rollout_id) == (5, 21, 21)
    assert filled.status is Sample.Status.COMPLETED
    assert filled.reward == 1
    assert len(filled.loss_mask) == filled.response_length < len(filled.tokens)
    assert len(filled.rollout_log_probs) == filled.response_length
    assert "391" in filled.response
    assert filled.metadata["vllm_tito"]["task_id"] == 5
    assert sample.status is Sample.Status.PENDING, "the trainer's own sample is left as it was"


def test_the_service_names_the_bad_field_and_the_bridge_raises_it(rollout_service) -> None:
    client = RolloutServiceClient(rollout_service.url)
    body = {"task": {"id": "x", "question": QUESTION}, "format": "slime", "base_url": rollout_service.mock_url, "model": MODEL}
    with pytest.raises(RolloutServiceError) as raised:
        asyncio.run(client.rollouts(body))
    assert (raised.value.status, raised.value.type, raised.value.field) == (400, "invalid_request", "task.id")


def test_the_client_retries_an_unreachable_service_then_says_so() -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = RolloutServiceClient(f"http://127.0.0.1:{port}", max_wait_seconds=2)
    started = time.monotonic()
    with pytest.raises(RolloutServiceError) as raised:
        asyncio.run(client.rollouts({"task": {"id": 1, "question": "?"}, "format": "verl"}))
    assert raised.value.type == "unreachable"
    assert time.monotonic() - started >= 2.0, "two retries, one second apart, before giving up"


def test_a_service_that_never_answers_is_a_timeout_error_after_timeout_seconds() -> None:
    """A server that reads the request and never answers: the socket's deadline ends the wait, as the typed error."""
    listener = socket.create_server(("127.0.0.1", 0))
    connections: list[socket.socket] = []

    def accept() -> None:
        connection, _ = listener.accept()
        connections.append(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    client = RolloutServiceClient(f"http://127.0.0.1:{listener.getsockname()[1]}", timeout_seconds=0.5, max_wait_seconds=30)
    started = time.monotonic()
    try:
        with pytest.raises(RolloutServiceError) as raised:
            asyncio.run(client.rollouts({"task": {"id": 1, "question": "?"}, "format": "verl"}))
    finally:
        thread.join(timeout=5)
        for connection in connections:
            connection.close()
        listener.close()
    assert (raised.value.status, raised.value.type) == (0, "timeout")
    assert "no answer within 0.5 s" in str(raised.value)
    # not retried: the service may still be running the rollouts, and a retry would run them a second time
    assert time.monotonic() - started < 10


def test_many_concurrent_calls_are_all_in_flight_at_once() -> None:
    """verl runs hundreds of agent loops at once: their requests must not queue behind a few worker threads."""
    calls = 40
    listener = socket.create_server(("127.0.0.1", 0), backlog=calls)
    received: list[socket.socket] = []
    all_received = threading.Event()

    def serve() -> None:
        while len(received) < calls:
            connection, _ = listener.accept()
            connection.settimeout(30)
            data = b""
            while b"\r\n\r\n" not in data:
                data += connection.recv(65536)
            received.append(connection)
        all_received.set()
        # answer nothing: every request stays in flight until the test ends it

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    client = RolloutServiceClient(f"http://127.0.0.1:{listener.getsockname()[1]}", timeout_seconds=60)

    async def scenario() -> None:
        tasks = [asyncio.create_task(client.rollouts({"task": {"id": index, "question": "?"}, "format": "verl"})) for index in range(calls)]
        await until(all_received.is_set, 15, f"all {calls} requests to reach the server at once")
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    try:
        asyncio.run(scenario())
    finally:
        for connection in received:
            connection.close()
        listener.close()
    assert len(received) == calls


def test_a_service_host_that_does_not_resolve_is_retried_then_unreachable() -> None:
    client = RolloutServiceClient("http://no-such-host.invalid:8300", max_wait_seconds=1)
    with pytest.raises(RolloutServiceError) as raised:
        asyncio.run(client.rollouts({"task": {"id": 1, "question": "?"}, "format": "verl"}))
    assert raised.value.type == "unreachable"
    assert "no-such-host.invalid" in str(raised.value)


def test_verl_agent_loop_gives_a_sample_without_a_row_an_empty_response_marked_failed(rollout_service, refusing_model_server) -> None:
    loop = verl_agent_loop(rollout_service, LLMServerClient("unused:1"), tokenizer=StandInTokenizer(), vllm_base_url=refusing_model_server)
    raw_prompt = [{"role": "user", "content": BROKEN_QUESTION}]
    output = asyncio.run(loop.run(VERL_SAMPLING, **{**VERL_SAMPLE, "raw_prompt": raw_prompt, "uid": "uid-broken"}))
    assert isinstance(output, AgentLoopOutput)
    assert output.prompt_ids == StandInTokenizer().apply_chat_template(raw_prompt, add_generation_prompt=True)
    assert (output.response_ids, output.response_mask, output.response_logprobs) == ([], [], [])
    assert output.reward_score == 0, "the service's reward of the failed rollout"
    info = output.extra_fields["vllm_tito"]
    assert (info["task_id"], info["status"], info["prompt_ids_from"]) == ("uid-broken", "failed", "verl tokenizer (raw_prompt)")
    assert info["failure"]["status_code"] == 400
    assert info["left_out"]["rule"] == "row-required"
    assert "POST /tokenize of its first request failed" in info["left_out"]["reason"]


def test_skyrl_generator_raises_naming_the_trajectories_without_a_row(rollout_service, refusing_model_server) -> None:
    order = [("a", 0), ("b", 0), ("a", 1), ("b", 1)]
    questions = {"a": "What is 2 + 3? Use the calculator tool.", "b": BROKEN_QUESTION}
    input_batch = {
        "prompts": [[{"role": "user", "content": questions[instance]}] for instance, _ in order],
        "env_extras": [{"reward_spec": {"ground_truth": "5"}} for _ in order],
        "sampling_params": {"temperature": 1.0},
        "trajectory_ids": [TrajectoryID(instance_id=instance, repetition_id=rep) for instance, rep in order],
    }
    generator = VllmTitoGenerator(service_url=rollout_service.url, base_url=refusing_model_server, model=MODEL)
    with pytest.raises(RolloutLeftOutError) as raised:
        asyncio.run(generator.generate(input_batch))
    assert [entry["rollout_id"] for entry in raised.value.left_out] == ["b_0", "b_1"]
    assert "2 rollouts have no row: b_0: no record to build a row from" in str(raised.value)
    assert "(the rollout failed: ModelError: vLLM /v1/chat/completions returned HTTP 400" in str(raised.value)


def test_slime_generate_raises_for_a_sample_without_a_row(rollout_service, refusing_model_server, monkeypatch) -> None:
    monkeypatch.setenv("VLLM_TITO_SERVICE_URL", rollout_service.url)
    monkeypatch.setenv("VLLM_TITO_VLLM_BASE_URL", refusing_model_server)
    monkeypatch.setattr("vllm_tito_bridges.slime_generate._client", None)
    args = Namespace(sglang_router_ip="unused", sglang_router_port=1, hf_checkpoint=MODEL)
    sample = Sample(group_index=2, index=9, prompt=BROKEN_QUESTION, label="4")
    with pytest.raises(RolloutLeftOutError) as raised:
        asyncio.run(slime_generate(args, sample, {"temperature": 1.0}))
    assert [(entry["rollout_id"], entry["rule"]) for entry in raised.value.left_out] == [(9, "row-required")]


def ready(service) -> dict:
    try:
        with urllib.request.urlopen(f"{service.url}/ready", timeout=5) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        return json.load(error)


def test_the_client_waits_out_a_429_and_a_cancelled_request_cancels_its_rollouts(slow_rollout_service) -> None:
    service = slow_rollout_service
    body = {"task": {"id": "s", "question": QUESTION, "answer": "391"}, "format": "verl", "base_url": service.mock_url, "model": MODEL}

    async def scenario() -> tuple[dict, float]:
        client = RolloutServiceClient(service.url, max_wait_seconds=30)
        first = asyncio.create_task(client.rollouts(body))
        await until(lambda: ready(service)["pending"] >= 1 or first.done(), 20, "the first request to be admitted")
        assert not first.done(), f"the first request ended before it was seen running: {first.result()}"
        # the service admits one rollout at a time: the second request is refused with 429 and retried
        started = time.monotonic()
        second = asyncio.create_task(client.rollouts(body))
        await asyncio.sleep(0.3)
        assert ready(service)["status"] == "saturated"
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        answer = await asyncio.wait_for(second, timeout=30)
        return answer, time.monotonic() - started

    answer, waited = asyncio.run(scenario())
    assert answer["rollouts"][0]["status"] == "succeeded"
    assert waited >= 1.0, "the second request waited out at least one Retry-After"
    # the second request ran its own two 1.5 s calls once admitted; it was admitted at its first retry (1 s),
    # because the cancelled request gave its slot back at once: had its rollout run on, the second would have
    # waited for its two calls first (about 6.5 s in all)
    assert waited < 5.5
    assert ready(service)["pending"] == 0


def test_a_cancelled_call_disconnects_and_the_service_cancels_its_rollouts_at_once(slow_rollout_service) -> None:
    service = slow_rollout_service
    body = {"task": {"id": "c", "question": QUESTION, "answer": "391"}, "format": "verl", "base_url": service.mock_url, "model": MODEL}
    logged_before = len(service.log)

    async def scenario() -> float:
        client = RolloutServiceClient(service.url, max_wait_seconds=30)
        call = asyncio.create_task(client.rollouts(body))
        await until(lambda: ready(service)["running"] == 1 or call.done(), 20, "the rollout to start")
        assert not call.done(), "the rollout ended before it could be cancelled"
        call.cancel()
        cancelled_at = time.monotonic()
        with pytest.raises(asyncio.CancelledError):
            await call
        # the rollout makes two 1.5 s model calls: run to its end, it would hold its slot for seconds more
        await until(lambda: ready(service)["pending"] == 0 and ready(service)["running"] == 0, 10, "the rollout to end")
        return time.monotonic() - cancelled_at

    ended_after = asyncio.run(scenario())
    assert ended_after < 1.0, f"the service ended the cancelled rollout {ended_after:.2f} s after the cancel"
    cancel_line = "POST /v1/rollouts cancelled: the rollout run was cancelled (the client disconnected): 0 rollout(s) finished, 1 not run to the end"
    deadline = time.monotonic() + 5
    while not any(cancel_line in line for line in service.log[logged_before:]):
        assert time.monotonic() < deadline, f"the service did not log the cancel: {service.log[logged_before:]}"
        time.sleep(0.02)


def test_cancelling_a_call_ends_its_worker_thread_and_closes_the_socket() -> None:
    """A server that reads the request and never answers: only closing the socket can end the bridge's read."""
    listener = socket.create_server(("127.0.0.1", 0))
    received, closed = threading.Event(), threading.Event()

    def serve() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.settimeout(30)
            while data := connection.recv(65536):
                if b"\r\n\r\n" in data or received.is_set():
                    received.set()
            closed.set()

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    client = RolloutServiceClient(f"http://127.0.0.1:{listener.getsockname()[1]}", timeout_seconds=60)

    def exchanges_running() -> int:
        frames = sys._current_frames().values()
        return sum(1 for frame in frames if _in_exchange(frame))

    async def scenario() -> None:
        call = asyncio.create_task(client.rollouts({"task": {"id": 1, "question": "?"}, "format": "verl"}))
        await until(received.is_set, 10, "the request to reach the server")
        assert exchanges_running() == 1, "the request waits for its answer in a worker thread"
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call

    try:
        asyncio.run(scenario())
        assert closed.wait(timeout=2), "the server did not see the connection close after the cancel"
        deadline = time.monotonic() + 2
        while exchanges_running() > 0:
            assert time.monotonic() < deadline, "the worker thread still waits for an answer after the cancel"
            time.sleep(0.02)
    finally:
        listener.close()
        server.join(timeout=5)


def _in_exchange(frame) -> bool:
    while frame is not None:
        if frame.f_code.co_name == "run" and "service_client" in frame.f_code.co_filename:
            return True
        frame = frame.f_back
    return False
