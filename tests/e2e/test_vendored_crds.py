"""The CRDs in e2e/crds/ are upstream's, as the Go modules named in e2e/crds/README.md hold them."""

from __future__ import annotations

import shutil

import pytest

from .vendored_crds import CRDS, expected

pytestmark = pytest.mark.e2e


def test_vendored_crds_match_their_modules() -> None:
    if shutil.which("go") is None:
        pytest.skip("go is not on PATH (it downloads the modules to compare with; CI has it)")
    want = expected()
    assert sorted(p.name for p in CRDS.glob("*.yaml")) == sorted(want)
    for name, text in want.items():
        assert (CRDS / name).read_text() == text, (
            f"e2e/crds/{name} differs from its module: rerun python -m tests.e2e.vendored_crds")
