"""Releases of an app with spec.configMaps: the config goes with the release, is checked when it
is pinned, and never makes a lock that bgrender could not read back."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bgrender.app.files import MAX_FILE_BYTES
from bgrender.lock.lockfile import dump_lock, new_entry, read_lock
from bgrender.yamlfile.document import load_document

from .conftest import MANUAL, make_app, run

CONFIG = """\
  configMaps:
    - name: app-config
      files: [app.properties]
"""
MOUNT = """\
          volumeMounts:
            - name: config
              mountPath: /etc/app
      volumes:
        - name: config
          configMap:
            name: app-config
"""


@pytest.fixture
def app(tmp_path: Path) -> Path:
    app = make_app(tmp_path / "app", MANUAL + CONFIG)
    (app / "deployment.yaml").write_text((app / "deployment.yaml").read_text() + MOUNT)
    (app / "app.properties").write_text("mode=a\n")
    return app


def _files(app: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in app.iterdir()}


def _pinned(app: Path) -> dict[str, dict]:
    lock = yaml.safe_load((app / "bluegreen.lock.yaml").read_text())
    return {color: entry.get("configMaps") for color, entry in lock["colors"].items()}


def test_a_config_edit_goes_to_the_idle_color_with_the_next_release(app, monkeypatch):
    assert run(["lock"], app, monkeypatch).exit_code == 0
    before = _pinned(app)
    (app / "app.properties").write_text("mode=b\n")
    result = run(["release"], app, monkeypatch)
    assert (result.exit_code, result.stdout) == (0, "release gorilla-sfx-demo 3f9c2e1d with the current base to green "
                                                    "(production stays on blue)\n"), result.stderr
    after = _pinned(app)
    assert after["blue"] == before["blue"]  # production keeps the config it was released with
    assert list(after["green"].values()) == [{"app.properties": "mode=b\n"}]


def test_a_release_is_refused_when_its_config_maps_nothing_refers_to(app, monkeypatch):
    with open(app / "bluegreen.yaml", "a") as f:
        f.write("    - name: forgotten\n      data: {a: b}\n")
    before = _files(app)
    result = run(["release", "99aa00b"], app, monkeypatch)
    assert (result.exit_code, result.stdout) == (1, "")
    assert 'spec.configMaps[1].name: no volume, envFrom or env of the pod template refers to "forgotten"' \
        in result.stderr
    assert _files(app) == before


def test_a_release_whose_lock_could_not_be_read_back_is_refused(app, monkeypatch):
    """The lock pins each color's config; two colors of a large config would pass the size
    bgrender reads, so the release is refused and nothing is written."""
    (app / "app.properties").write_text("x" * (MAX_FILE_BYTES * 6 // 10))
    before = _files(app)
    result = run(["release", "99aa00b"], app, monkeypatch)
    assert (result.exit_code, result.stdout) == (1, ""), result.stderr
    assert re.search(rf"bluegreen.lock.yaml: would be 12\d\d KiB, larger than the {MAX_FILE_BYTES // 1024} KiB "
                     "bgrender reads", result.stderr), result.stderr
    assert _files(app) == before


def test_lock_pins_again_an_entry_whose_config_map_name_was_forged(app, monkeypatch):
    """A hand edit may rename a pinned ConfigMap and make the digest match again; render refuses
    that entry and names `bgrender lock`, so `lock` must not keep it."""
    assert run(["lock"], app, monkeypatch).exit_code == 0
    path = app / "bluegreen.lock.yaml"
    lock = read_lock(load_document(path.read_text(), str(path))).lock
    blue = lock.colors["blue"]
    ((name, data),) = blue.config_maps.items()
    forged = new_entry(blue.version, blue.selector, blue.template, {name[:-1] + "0": data})
    path.write_text(dump_lock(lock.replace(colors={**lock.colors, "blue": forged})))
    assert "the name's hash does not match the data" in run(["render"], app, monkeypatch).stderr
    result = run(["lock"], app, monkeypatch)
    assert result.exit_code == 0, result.stderr
    assert run(["render"], app, monkeypatch).exit_code == 0
    assert _pinned(app)["blue"] == {name: data}
