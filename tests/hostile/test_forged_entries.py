"""Forged lock entries (#26, class 6): an entry whose digests were all recomputed, so that only
what it pins is wrong. A render runs the base's checks on every pinned pod template and
refuses it with the lock's position, instead of handing the API server a Deployment it
rejects in a later wave of the sync."""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

import pytest

from bgrender.lock.lockfile import dump_lock, new_entry, read_lock
from bgrender.yamlfile.document import load_document

from ..conftest import REPO, SIDECAR_ENV
from .conftest import assert_refused, render

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path
    from typing import Any

ORDERS = REPO / "examples" / "orders"


def _forge(app: Path, color: str, spoil: Callable[[dict[str, Any]], Any]) -> None:
    """Spoils `color`'s pinned template, then recomputes its digest and every release in the
    production history that names it, and the history's own digest (dump_lock writes it)."""
    path = app / "bluegreen.lock.yaml"
    lock = read_lock(load_document(path.read_text(), path.name)).lock
    old = lock.colors[color]
    template = spoil(old.template)
    entry = new_entry(old.version, old.selector, old.template if template is None else template, old.config_maps)
    releases = {key: getattr(lock, key) for key in ("current", "previous", "rolled_back", "pending")}
    lock = lock.replace(colors={**lock.colors, color: entry}, **{
        key: r.replace(digest=entry.digest) for key, r in releases.items() if r is not None and r.color == color})
    path.write_text(dump_lock(lock))


def _labels(template: dict[str, Any]) -> None:
    template["metadata"]["labels"]["app"] = "payments"


def _sync_wave(template: dict[str, Any]) -> None:
    template["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"] = "-5"


def _no_version(template: dict[str, Any]) -> None:
    del template["metadata"]["annotations"]["bgrender.io/version"]


def _number_label(template: dict[str, Any]) -> None:
    template["metadata"]["labels"]["tier"] = 3


def _containers(value: Any) -> Callable[[dict[str, Any]], None]:
    def spoil(template: dict[str, Any]) -> None:
        template["spec"]["containers"] = value
    return spoil


def _nameless(template: dict[str, Any]) -> None:
    del template["spec"]["containers"][0]["name"]


@pytest.mark.parametrize(("spoil", "where", "message"), [
    (_labels, "template.metadata.labels", "must contain every label of spec.selector.matchLabels"),
    (lambda t: {}, "template.metadata", "required mapping is missing"),
    (lambda t: {"metadata": {}, "spec": []}, "template.spec", "must be a mapping"),
    (_containers([]), "template.spec.containers", "must be a non-empty list of containers"),
    (_containers("orders"), "template.spec.containers", "must be a non-empty list of containers"),
    (_nameless, "template.spec.containers[0]", "must be a container with a name"),
    (_number_label, "template.metadata.labels", "must be a mapping of keys to string values"),
    (_sync_wave, "template.metadata.annotations.argocd.argoproj.io/sync-wave", "bgrender sets the sync waves"),
    (_no_version, "template.metadata.annotations", "must hold bgrender.io/version"),
], ids=["labels", "empty", "spec-type", "no-containers", "containers-type", "nameless", "label-type", "wave",
        "no-version"])
@pytest.mark.parametrize("color", ["blue", "green"])
def test_a_forged_entry_with_recomputed_digests_is_refused(tmp_path, color, spoil, where, message):
    app = tmp_path / "orders"
    shutil.copytree(ORDERS, app)
    _forge(app, color, spoil)
    result = render(app, SIDECAR_ENV)
    assert_refused(result, "bluegreen.lock.yaml:", f"colors.{color}.{where}", message)


def test_the_forgery_itself_keeps_every_digest_intact(tmp_path):
    """The helper above forges well: a forged entry that spoils nothing renders as before."""
    app = tmp_path / "orders"
    shutil.copytree(ORDERS, app)
    before = render(app, SIDECAR_ENV)
    _forge(app, "green", lambda t: None)
    _forge(app, "blue", lambda t: {**t, "metadata": {**t["metadata"]}})
    assert (before.returncode, render(app, SIDECAR_ENV).stdout) == (0, before.stdout)
