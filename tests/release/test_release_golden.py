"""Golden edit cases: tests/release/golden/<case>/ holds an input bluegreen.yaml (and, when
the case has one, bluegreen.lock.yaml and deployment.yaml) and `args` (the command line, run
from the app directory), and the expected results:

- expected.yaml, expected.lock.yaml: bluegreen.yaml and the lock afterwards, byte for byte
  (absent: the file must be as it was, or still absent);
- expected.out / expected.err: stdout and stderr, exactly;
- exit_code: when not 0.

Also, for every case: a non-zero exit leaves stdout empty and both files unchanged, and no
temporary file is left beside them. BGRENDER_UPDATE_GOLDEN=1 rewrites the expectations.
"""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest

from ..conftest import UPDATE, check_golden
from .conftest import BASE_DEPLOYMENT, HERE, run

GOLDEN = HERE / "golden"
CASES = sorted(p for p in GOLDEN.iterdir() if p.is_dir())


FILES = {"bluegreen.yaml": "expected.yaml", "bluegreen.lock.yaml": "expected.lock.yaml"}


def _app_from(case: Path, directory: Path) -> Path:
    """The case's app: every file of the case but the expectations (config files and manifests
    too), and the shared base Deployment unless the case has its own."""
    shutil.copytree(case, directory, ignore=shutil.ignore_patterns("expected.*", "got.*", "args", "exit_code"))
    if not (directory / "deployment.yaml").exists():
        shutil.copyfile(BASE_DEPLOYMENT, directory / "deployment.yaml")
    return directory


def _read(path: Path) -> bytes | None:
    return path.read_bytes() if path.exists() else None


def _expected_exit_code(case: Path) -> int:
    code_file = case / "exit_code"
    return int(code_file.read_text()) if code_file.exists() else 0


def _check_file(case: Path, name: str, before: bytes | None, after: bytes | None) -> None:
    expected = case / FILES[name]
    got = case / ("got." + FILES[name].removeprefix("expected."))
    if UPDATE and after != before:
        expected.write_bytes(after or b"")
    want = expected.read_bytes() if expected.exists() else before
    if after != want:
        got.write_bytes(after or b"")
        pytest.fail(f"{case.name}: {name} afterwards differs from {expected.name}; written to {got}")
    got.unlink(missing_ok=True)


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_edit_case(case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    app = _app_from(case, tmp_path / "app")
    before = {name: _read(app / name) for name in FILES}
    files = {p.name for p in app.iterdir()}

    result = run(shlex.split((case / "args").read_text()), app, monkeypatch)

    after = {name: _read(app / name) for name in FILES}
    if UPDATE and result.exit_code:
        (case / "exit_code").write_text(f"{result.exit_code}\n")
    assert result.exit_code == _expected_exit_code(case), result.stderr
    assert "Traceback" not in result.stderr
    if result.exit_code:
        assert (result.stdout, after) == ("", before)
    check_golden(case / "expected.out", result.stdout)
    check_golden(case / "expected.err", result.stderr)
    for name in FILES:
        _check_file(case, name, before[name], after[name])
    assert {p.name for p in app.iterdir()} <= files | FILES.keys()  # no temporary file left behind


def test_every_command_and_refusal_has_a_case():
    names = {case.name for case in CASES}
    for needed in ("release-manual-odd-formatting", "release-auto", "release-first-no-colors",
                   "release-noop-already-idle", "release-refused-serving-production",
                   "release-dry-run", "promote", "promote-dry-run", "rollback",
                   "promote-refused-idle-without-version", "rollback-refused-idle-without-version",
                   "lock", "lock-noop", "lock-after-hand-edit", "release-config-only",
                   "rollback-refused-idle-replaced", "rollback-refused-second", "rollback-refused-no-history"):
        assert needed in names


def test_refusals_name_file_line_column_and_field():
    """Every refusal line is `FILE:LINE:COL: FIELD.PATH: message` (DESIGN §3), after at most
    one header line saying that the edited file would not validate."""
    problem = re.compile(r"^bluegreen\.yaml:\d+:\d+: [a-z][A-Za-z.]*: \S.*$")
    header = "bluegreen.yaml: refusing to write: the edited files would not validate:"
    for case in CASES:
        if _expected_exit_code(case) and "refused" in case.name:
            lines = (case / "expected.err").read_text().splitlines()
            lines = lines[1:] if lines[0] == header else lines
            assert lines and all(problem.match(line) for line in lines), case.name
