"""Work is budgeted before it is done: YAML aliases and templates cannot make a small file cost
minutes or gigabytes before a limit refuses it, and `validate` refuses what `render` refuses.

Each attack here is a file of a few KiB to a few tens of KiB, run as the sidecar runs it,
within its 256 MiB memory limit. Before the budgets, the first cost 260 s and 1.2 GiB, and the
second rendered (exit 0) after 220 s of compiling one template per value.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bgrender.errors import InvalidInput
from bgrender.plan.templating import MAX_DISTINCT_TEMPLATE_CHARS, MAX_OUTPUT_CHARS, MAX_TEMPLATE_CHARS, MAX_TEMPLATES
from bgrender.yamlfile import document as yamldoc
from bgrender.yamlfile.dump import MAX_OUTPUT_BYTES

from .conftest import SIDECAR_MEMORY, add_to_app_container, assert_refused, render

LONG_IMAGE = "registry.example.com/" + "/".join(["a" * 50] * 4)
LONG_VERSION = "v" + "1" * 127
# The template with the largest output for its length: every few characters the longest variable.
BIG_TEMPLATE = "{{image~image~image~image}}" * (MAX_TEMPLATE_CHARS // 27)


def _spoil(app: Path, container_lines: str) -> None:
    """Longest image and versions (the largest template output), and lines added to the container."""
    intent = (app / "bluegreen.yaml").read_text()
    intent = intent.replace("registry.example.com/team/web", LONG_IMAGE).replace("v1.0.0", LONG_VERSION)
    (app / "bluegreen.yaml").write_text(intent.replace("v1.1.0", LONG_VERSION[:-1] + "2"))
    add_to_app_container(app, container_lines)


def _aliases(name: str, count: int) -> str:
    return "[" + ", ".join([f"*{name}"] * count) + "]"


ATTACKS = {
    # One template of the maximum length, aliased just under the count budget: ~116 KiB of output each.
    "big-template-aliased": (f'          x-t: &t "{BIG_TEMPLATE}"\n'
                             f'          args: {_aliases("t", MAX_TEMPLATES - 2)}\n',
                             f"templates expand to more than {MAX_OUTPUT_CHARS // 2**20} MiB for one color"),
    # 90,000 small templates through aliases (before: one compile each, 220 s).
    "many-templates-aliased": ('          x-s: &s [' + ", ".join(['"{{ name }}"'] * 1000) + "]\n"
                               f"          args: {_aliases('s', 90)}\n",
                               f"more than {MAX_TEMPLATES} values hold a template once aliases are expanded"),
    # Distinct templates of the maximum length: compiling each costs ~20 ms.
    "many-distinct-templates": ("          args: [" + ", ".join(
        f'"{i}{BIG_TEMPLATE[:MAX_TEMPLATE_CHARS - 8]}"' for i in range(MAX_DISTINCT_TEMPLATE_CHARS // 2000 + 1))
        + "]\n", f"the templates hold more than {MAX_DISTINCT_TEMPLATE_CHARS // 1024} KiB of distinct text"),
    # A long list nested 85 deep, aliased: 33 MiB of indentation once printed.
    "deep-list-aliased": ("          x-d: &d " + "{a: " * 85 + "[" + ", ".join(["x"] * 1000) + "]" + "}" * 85 + "\n"
                          f"          args: {_aliases('d', 90)}\n",
                          "MiB of text once aliases are expanded and indented"),
    # Long text within every input limit, copied into both colors: over the output limit.
    "text-over-the-output-limit": (f'          x-l: &l "{"x" * 40_000}"\n          args: {_aliases("l", 100)}\n',
                                   f"more than the {MAX_OUTPUT_BYTES // 2**20} MiB limit"),
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_attack_is_refused_within_the_sidecars_memory(app, attack):
    lines, refusal = ATTACKS[attack]
    _spoil(app, lines)
    assert (app / "deployment.yaml").stat().st_size < 150_000
    assert_refused(render(app, memory=SIDECAR_MEMORY), refusal)


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_validate_refuses_what_render_refuses(app, attack):
    _spoil(app, ATTACKS[attack][0])
    rendered, validated = render(app), render(app, command="validate")
    assert (validated.returncode, validated.stdout) == (1, "")
    *problems, count = validated.stderr.splitlines(True)
    assert ("".join(problems), count) == (rendered.stderr, "0 of 1 app valid\n")


def test_validate_agrees_with_render_on_a_valid_app(app):
    _spoil(app, '          env:\n            - name: V\n              value: "{{ version[:7] }}"\n')
    assert render(app).returncode == 0
    validated = render(app, command="validate")
    assert (validated.returncode, validated.stdout) == (0, "")
    assert validated.stderr == "bluegreen.yaml: valid\n1 of 1 app valid\n"


# The early check counts on the composed graph what the builder would count value by value.
# Small limits make the random documents below cross them often.
@st.composite
def aliased_documents(draw: st.DrawFn) -> str:
    anchors: list[str] = []

    def value(depth: int, alias: bool = True) -> str:
        kinds = ["scalar", "alias"] * (alias and bool(anchors)) + ["scalar"] + ["list", "map"] * (depth < 4)
        kind = draw(st.sampled_from(kinds))
        if kind == "scalar":
            return draw(st.sampled_from(["x", "yy", "a" * 30, "1", "zzz zzz"]))
        if kind == "alias":
            return "*" + draw(st.sampled_from(anchors))
        items = [value(depth + 1) for _ in range(draw(st.integers(1, 4)))]
        if kind == "list":
            return "[" + ", ".join(items) + "]"
        return "{" + ", ".join(f"k{i}: {item}" for i, item in enumerate(items)) + "}"

    lines = []
    for i in range(draw(st.integers(1, 5))):
        lines.append(f"a{i}: &a{i} {value(0, alias=False)}")  # an alias cannot carry an anchor
        anchors.append(f"a{i}")
    lines.append(f"main: {value(0)}")
    return "\n".join(lines) + "\n"


def _outcome(text: str) -> object:
    try:
        return yamldoc.load_document(text, "f.yaml").data
    except InvalidInput as err:
        return err.problems


@settings(max_examples=800, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=aliased_documents(), nodes=st.integers(5, 80), chars=st.integers(20, 400))
def test_early_budget_check_refuses_exactly_what_building_would(text, nodes, chars):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(yamldoc, "MAX_NODES", nodes)
        patch.setattr(yamldoc, "MAX_EXPANDED_CHARS", chars)
        early = _outcome(text)
        patch.setattr(yamldoc._Builder, "check_budget", lambda self, root: None)
        built = _outcome(text)
    assert early == built
    assert yaml.safe_load(text) is not None  # the generator makes valid YAML
