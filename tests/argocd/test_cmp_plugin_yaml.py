"""plugin.yaml: only what Argo CD reads, named as Applications use it, and true to the code."""

from __future__ import annotations

import codecs
import re

import pytest

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import cmp_harness as cmp
from argocd_testenv import REPO_ROOT
from bgrender.app.pipeline import INTENT_FILE
from bgrender.errors import InvalidInput
from bgrender.intent.env import options_from_env

SHELLS = {"sh", "bash", "dash", "zsh", "/bin/sh", "/bin/bash", "/usr/bin/env"}


@pytest.fixture(scope="module")
def raw() -> dict:
    return yaml.safe_load((REPO_ROOT / "plugin.yaml").read_text())


def test_uses_only_fields_argo_cd_reads(raw):
    assert raw["apiVersion"] == "argoproj.io/v1alpha1"
    assert set(raw) == {"apiVersion", "kind", "metadata", "spec"}
    assert cmp.unknown_plugin_fields(raw) == []


def test_applications_name_it_bgrender_v1(plugin_config):
    assert plugin_config.socket_name == "bgrender-v1"


def test_version_is_a_protocol_version_not_the_package_version(plugin_config):
    import bgrender

    assert re.fullmatch(r"v[0-9]+", plugin_config.version)
    assert plugin_config.version.lstrip("v") != bgrender.__version__


def test_discovers_apps_by_the_intent_file_the_code_reads(raw):
    assert raw["spec"]["discover"] == {"fileName": INTENT_FILE}
    assert not set("*?[") & set(INTENT_FILE)  # a literal name, not a glob


def test_generate_is_bgrender_render_without_a_shell(plugin_config):
    assert plugin_config.generate == ("bgrender", "render")
    assert plugin_config.init is None
    assert plugin_config.generate[0] not in SHELLS and "-c" not in plugin_config.generate


def test_generate_runs_the_installed_console_script():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    assert project["project"]["scripts"]["bgrender"] == "bgrender.__main__:main"


def test_no_risky_switches(raw):
    # preserveFileMode would hand repository files their exec bits; provideGitCreds, Git credentials.
    assert not {"preserveFileMode", "provideGitCreds", "init"} & set(raw["spec"])


def test_announces_no_parameters(raw):
    # The code accepts none (below), so announcing any would be a lie in the UI.
    assert "parameters" not in raw["spec"]


parameter_entries = st.fixed_dictionaries(
    {"name": st.text(min_size=1, max_size=80)},
    optional={"string": st.text(max_size=20), "array": st.lists(st.text(max_size=5), max_size=2),
              "map": st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2)},
)


@settings(max_examples=60, derandomize=True, deadline=None)
@given(st.lists(parameter_entries, min_size=1, max_size=4))
def test_every_parameter_argo_cd_could_send_is_refused_by_name(params):
    env = cmp.build_env(cmp.Application(plugin=cmp.PluginSource(parameters=tuple(params))), {})
    with pytest.raises(InvalidInput) as raised:
        options_from_env(env)
    messages = [str(p) for p in raised.value.problems]
    # Each name is quoted and escaped to printable ASCII, so it cannot forge a line in the UI
    # nor reach a terminal raw; the escapes decode back to the name, so nothing is lost.
    assert all(m.isascii() and m.isprintable() for m in messages)
    shown = [_unescape(m.split("unknown parameter ", 1)[1].split(": bgrender takes", 1)[0]) for m in messages]
    for param in params:
        assert param["name"][:64] + ("..." if len(param["name"]) > 64 else "") in shown


def _unescape(quoted: str) -> str:
    assert quoted.startswith('"') and quoted.endswith('"'), quoted
    return codecs.decode(quoted[1:-1].replace('\\"', '"'), "unicode_escape")


@pytest.mark.parametrize("plugin", [None, cmp.PluginSource()], ids=["no-plugin-block", "null"])
def test_requests_without_parameters_pass_the_check(plugin):
    options_from_env(cmp.build_env(cmp.Application(plugin=plugin), {}))
