"""`validate` warns about config that bypasses blue/green (DESIGN §19): each case of
tests/golden/warnings/<case> is an app that is valid (exit 0) and whose warnings, with the
rest of `validate`'s stderr, are exactly expected.err. `render`, Argo CD's path, prints none:
its stdout holds manifests only and its stderr stays empty.
"""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from bgrender.cli.main import cli

from .conftest import case_env, cases, check_golden, runner_env

WARNING = re.compile(r"^[^:]+:\d+:\d+: [^ ]+: warning: the (ConfigMap|Secret) \"[^\"]+\" \(([a-zA-Z ]+)\) is not "
                     r"versioned by bgrender: changes to it reach both colors at once, production included; ")


def _run(case, monkeypatch, *args):
    monkeypatch.chdir(case)
    return CliRunner().invoke(cli, list(args), env=runner_env(case_env(case)))


@pytest.mark.parametrize("case", cases("warnings"), ids=lambda p: p.name)
def test_validate_warns_and_stays_valid(case, monkeypatch):
    result = _run(case, monkeypatch, "validate", ".")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    check_golden(case / "expected.err", result.stderr)
    assert result.stderr.splitlines()[-1] == "1 of 1 app valid"


@pytest.mark.parametrize("case", cases("warnings"), ids=lambda p: p.name)
def test_render_prints_no_warning(case, monkeypatch):
    result = _run(case, monkeypatch, "render")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.startswith("---\napiVersion: ")
    assert "not versioned by bgrender" not in result.stdout


def test_every_reference_form_of_both_kinds_is_warned_about(monkeypatch):
    case = next(c for c in cases("warnings") if c.name == "every-reference-form")
    lines = _run(case, monkeypatch, "validate", ".").stderr.splitlines()
    forms = {m.groups() for m in map(WARNING.match, lines) if m}
    assert forms >= {(kind, form) for kind in ("ConfigMap", "Secret")
                     for form in ("volume", "projected volume", "envFrom", "env valueFrom")}
    named = re.findall(r'warning: the \w+ "([^"]+)"', "\n".join(lines))
    assert len(named) == len(set(named)), "one warning per object"
    assert not {"web-config", "web-db", "registry"} & set(named), "versioned objects and pull secrets are not warned"
    assert any(line.startswith("bluegreen.lock.yaml:") and '"legacy-config"' in line for line in lines)
