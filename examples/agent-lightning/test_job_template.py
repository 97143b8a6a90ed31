"""Renders job-template.yaml the way Agent Lightning's k8s reconciler does, with the standard library only.

The reconciler renders the template with Jinja (`job_name`, the rollout's `input`, and the filter
`yaml_escape = json.dumps(str(value), ensure_ascii=True)`), loads the YAML, and appends AGL_OPENAI_BASE_URL,
AGL_EVENT_URL and AGL_KEY to each container's env (replacing entries of the same name). Jinja is not
installed here, so the test renders the template's `{{ path | filter }}` expressions itself and refuses any
other template syntax; without PyYAML it compares the rendered text to the expected text and reads the env
entries with a parser for exactly this shape.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

TEMPLATE = (Path(__file__).resolve().parent / "job-template.yaml").read_text(encoding="utf-8")
EXPRESSION = re.compile(r"\{\{\s*(.*?)\s*\}\}")


class _Undefined:
    """Jinja's default Undefined: renders as the empty string."""

    def __str__(self) -> str:
        return ""


def _lookup(path: str, variables: dict[str, Any]) -> Any:
    """Resolves `input.question` as Jinja does for dicts: each dotted part is an item lookup."""
    parts = path.split(".")
    if not all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part) for part in parts):
        raise ValueError(f"unsupported expression: {path!r}")
    value: Any = variables.get(parts[0], _Undefined())
    for part in parts[1:]:
        value = value.get(part, _Undefined()) if isinstance(value, dict) else _Undefined()
    return value


def render(template: str, **variables: Any) -> str:
    """A Jinja subset: `{{ name.path }}` and `{{ name.path | yaml_escape }}`; anything else raises."""
    if "{%" in template or "{#" in template:
        raise ValueError("block and comment tags are not supported by this renderer")

    def substitute(match: re.Match[str]) -> str:
        expression, *filters = [part.strip() for part in match.group(1).split("|")]
        value = _lookup(expression, variables)
        for name in filters:
            if name != "yaml_escape":
                raise ValueError(f"unsupported filter: {name!r}")
            value = json.dumps(str(value), ensure_ascii=True)
        return str(value)

    rendered = EXPRESSION.sub(substitute, template)
    # Jinja drops one trailing newline unless keep_trailing_newline is set
    return rendered[:-1] if rendered.endswith("\n") else rendered


def container_env(rendered: str) -> list[dict[str, str]]:
    """The `env:` list of the single container, each value decoded as the YAML scalar it is."""
    lines = rendered.splitlines()
    start = lines.index("          env:") + 1
    entries: list[dict[str, str]] = []
    for line in lines[start:]:
        name = re.fullmatch(r"            - name: (\S+)", line)
        value = re.fullmatch(r"              value: (.*)", line)
        if name:
            entries.append({"name": name.group(1)})
        elif value:
            scalar = value.group(1)
            # yaml_escape writes a JSON string: a valid YAML double-quoted scalar with the same escapes
            assert scalar.startswith('"') and scalar.endswith('"'), f"unquoted value: {scalar}"
            entries[-1]["value"] = json.loads(scalar)
        else:
            break
    return entries


def inject_agent_lightning_env(env: list[dict[str, str]], rollout_id: str, mode: str, gateway: str, key: str) -> None:
    """What build_job_spec does to every container's env (attempt id "0")."""
    for name, value in {
        "AGL_OPENAI_BASE_URL": f"{gateway}/proxy/rollout/{rollout_id}/attempt/0/mode/{mode}/openai/v1",
        "AGL_EVENT_URL": f"{gateway}/api/rollouts/{rollout_id}/attempt/0/events",
        "AGL_KEY": key,
    }.items():
        existing = next((entry for entry in env if entry.get("name") == name), None)
        if existing is None:
            env.append({"name": name, "value": value})
        else:
            existing.clear()
            existing.update({"name": name, "value": value})


EXPECTED = """apiVersion: batch/v1
kind: Job
metadata:
  name: "agl-rollout-0f9a"
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: agent
          image: vllm-tito-agl-agent:dev
          imagePullPolicy: IfNotPresent
          env:
            - name: QUESTION
              value: "How many degrees of 75\\u00b0 make a \\"right\\" angle?\\nAnswer: ###"
            - name: ANSWER
              value: "15"
          resources:
            requests:
              cpu: "500m"
              memory: "1Gi\""""


def _body(rendered: str) -> str:
    return "\n".join(line for line in rendered.splitlines() if not line.startswith("#"))


def test_rendering_gives_exactly_the_expected_job() -> None:
    rendered = render(
        TEMPLATE,
        job_name="agl-rollout-0f9a",
        input={"question": 'How many degrees of 75° make a "right" angle?\nAnswer: ###', "answer": 15},
    )
    assert _body(rendered) == EXPECTED


def test_question_and_answer_come_back_unchanged_from_the_rendered_yaml() -> None:
    question = "Wang Li: 1/4 cake + 90 g = 1 cake; what does a cake weigh? {{ not a tag }} # not a comment"
    rendered = render(TEMPLATE, job_name="j", input={"question": question, "answer": "120"})
    assert container_env(rendered) == [
        {"name": "QUESTION", "value": question},
        {"name": "ANSWER", "value": "120"},
    ]


def test_non_string_inputs_are_rendered_with_python_str_and_a_missing_one_as_empty() -> None:
    rendered = render(TEMPLATE, job_name="j", input={"question": 6.5, "answer": None})
    assert container_env(rendered) == [{"name": "QUESTION", "value": "6.5"}, {"name": "ANSWER", "value": "None"}]
    missing = render(TEMPLATE, job_name="j", input={"question": "q"})
    assert container_env(missing)[1] == {"name": "ANSWER", "value": ""}


def test_the_controller_adds_the_three_agl_variables_after_question_and_answer() -> None:
    rendered = render(TEMPLATE, job_name="agl-rollout-r7", input={"question": "2+3?", "answer": "5"})
    env = container_env(rendered)
    inject_agent_lightning_env(env, "r7", "train", "http://agl.default.svc:8080", "")
    assert env == [
        {"name": "QUESTION", "value": "2+3?"},
        {"name": "ANSWER", "value": "5"},
        {"name": "AGL_OPENAI_BASE_URL", "value": "http://agl.default.svc:8080/proxy/rollout/r7/attempt/0/mode/train/openai/v1"},
        {"name": "AGL_EVENT_URL", "value": "http://agl.default.svc:8080/api/rollouts/r7/attempt/0/events"},
        {"name": "AGL_KEY", "value": ""},
    ]


def test_the_template_sets_none_of_the_variables_the_controller_owns() -> None:
    assert "AGL_" not in _body(TEMPLATE)
    assert len(EXPRESSION.findall(TEMPLATE)) == 3


def test_the_renderer_refuses_syntax_it_does_not_implement() -> None:
    with pytest.raises(ValueError, match="unsupported filter: 'upper'"):
        render("{{ input.question | upper }}", input={"question": "q"})
    with pytest.raises(ValueError, match="block and comment tags"):
        render("{% if input %}x{% endif %}", input={})
