"""The parts of `bgrender import`: running kustomize (process.py), finding and building a
layout (layouts.py), the templates that tell the colors apart in the base (importer.py), and
OUT_DIR's guards (import_cli.py). tests/test_import.py runs the command on whole layouts."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bgrender.app.files import WriteFailed
from bgrender.cli import importing as import_cli
from bgrender.errors import BgRenderError, InvalidInput, Problem
from bgrender.importing import layouts
from bgrender.importing.base_from_colors import Pair, literal, templated
from bgrender.importing.layouts import BuildFailed, kustomize_command, read_layout, roots
from bgrender.plan.templating import expand
from bgrender.process import run_bounded

from .cluster.conftest import exited
from .conftest import BGRENDER, GOLDEN, clean_env

PYTHON = sys.executable
KUSTOMIZATION = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"


def _run(code: str, **limits: float) -> object:
    options = {"timeout": 20.0, "max_stdout": 1 << 20, "max_stderr": 64, **limits}
    return run_bounded([PYTHON, "-c", code], env=os.environ, **options)  # type: ignore[arg-type]


# --- process.py -----------------------------------------------------------------------------------


def test_a_run_gives_its_exit_code_its_output_and_the_start_of_its_errors():
    ran = _run("import sys; print('built'); sys.stderr.write('e' * 100); sys.exit(3)")
    assert (ran.returncode, ran.stdout, ran.stderr, ran.failure) == (3, b"built\n", b"e" * 64, None)


def test_both_pipes_are_drained_so_a_chatty_tool_cannot_deadlock():
    ran = _run("import sys\nfor _ in range(64): sys.stderr.write('w' * 4096); sys.stdout.write('o' * 4096)")
    assert (ran.returncode, len(ran.stdout), ran.failure) == (0, 64 * 4096, None)


@pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="needs pidfd_open (Linux 5.3) to watch the processes")
def test_a_tool_past_the_deadline_is_killed_with_what_it_started(tmp_path: Path):
    pids = tmp_path / "pids"
    ran = run_bounded(["sh", "-c", f'sleep 300 & echo "$$ $!" > {pids}; wait'], env=os.environ, timeout=0.5,
                      max_stdout=1024, max_stderr=1024)
    assert (ran.returncode, ran.failure) == (None, "did not finish within 0.5 s")
    shell, child = map(int, pids.read_text().split())
    assert exited(shell) and exited(child)


def test_a_tool_that_closes_its_output_but_runs_on_is_killed_at_the_deadline():
    ran = run_bounded(["sh", "-c", "exec >&- 2>&-; sleep 300"], env=os.environ, timeout=0.5, max_stdout=1024,
                      max_stderr=1024)
    assert ran.failure == "did not finish within 0.5 s"


def test_output_past_the_cap_stops_the_tool():
    ran = _run("import sys\nwhile True: sys.stdout.write('x' * 65536)", max_stdout=1 << 20)
    assert ran.failure == "printed more than 1 MiB"
    assert len(ran.stdout) == 1 << 20


def test_a_tool_that_cannot_start_is_a_failure_not_a_traceback(tmp_path: Path):
    ran = run_bounded([str(tmp_path / "nowhere")], env=os.environ, timeout=1, max_stdout=1, max_stderr=1)
    assert ran.failure == "could not be started: No such file or directory"


# --- layouts.py ---------------------------------------------------------------------------------------


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def _tool(directory: Path, name: str, script: str) -> Path:
    directory.mkdir(exist_ok=True)
    path = directory / name
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def test_the_roots_are_the_kustomizations_no_other_one_includes(tmp_path: Path):
    source = _tree(tmp_path, {
        "kustomization.yaml": KUSTOMIZATION + "resources: [service.yaml, blue, ./green/, https://example.com/x]\n",
        "blue/kustomization.yaml": KUSTOMIZATION + "resources: [../base]\n",
        "green/kustomization.yaml": KUSTOMIZATION + "components: [../base]\n",
        "base/kustomization.yaml": KUSTOMIZATION,
        "routing/kustomization.yaml": KUSTOMIZATION + "resources: [vs-blue.yaml]\n",
        "broken/kustomization.yaml": "resources: [../routing\n",  # unreadable: a root, kustomize will say why
        ".old/kustomization.yaml": KUSTOMIZATION,
    })
    directories, _ = layouts._walk(str(source))
    assert directories == [".", "base", "blue", "broken", "green", "routing"]
    assert roots(str(source), directories) == [".", "broken", "routing"]


def test_kustomize_build_is_preferred_and_kubectl_is_the_fallback(tmp_path: Path):
    kubectl = _tool(tmp_path / "one", "kubectl", "exit 0")
    assert kustomize_command({"PATH": str(tmp_path / "one")}) == [str(kubectl), "kustomize"]
    kustomize = _tool(tmp_path / "two", "kustomize", "exit 0")
    both = os.pathsep.join([str(tmp_path / "one"), str(tmp_path / "two")])
    assert kustomize_command({"PATH": both}) == [str(kustomize), "build"]
    with pytest.raises(BuildFailed, match="needs `kustomize` or `kubectl`"):
        kustomize_command({"PATH": str(tmp_path / "empty")})


def test_a_failed_build_names_the_directory_and_shows_the_tool_s_message_escaped(tmp_path: Path):
    source = _tree(tmp_path / "layout", {"blue/kustomization.yaml": KUSTOMIZATION})
    _tool(tmp_path / "bin", "kubectl", "printf 'Error: missing resource\\n\\033[31mred\\n' >&2; exit 1")
    with pytest.raises(BuildFailed) as raised:
        read_layout(str(source), {"PATH": str(tmp_path / "bin")})
    assert str(raised.value) == (f"{source}/blue: kubectl kustomize failed (exit 1):\n"
                                 "  Error: missing resource\n  \\x1b[31mred")


def test_the_builds_run_at_the_same_time_and_are_read_in_order(tmp_path: Path):
    """Each fake build waits until all four have started (sequential builds would each give up
    after 20 s and fail); the objects still come in the roots' order."""
    names = ["a", "b", "c", "d"]
    source = _tree(tmp_path / "layout", {f"{n}/kustomization.yaml": KUSTOMIZATION for n in names})
    started = tmp_path / "started"
    started.mkdir()
    _tool(tmp_path / "bin", "kustomize", f'PATH=/usr/bin:/bin; name=$(basename "$2"); touch "{started}/$name"; i=0\n'
          f'while [ "$(ls "{started}" | wc -l)" -lt 4 ]; do i=$((i+1)); [ $i -gt 400 ] && exit 7; sleep 0.05; done\n'
          'printf "apiVersion: v1\\nkind: ConfigMap\\nmetadata:\\n  name: cm-%s\\n" "$name"')
    layout = read_layout(str(source), {"PATH": str(tmp_path / "bin")})
    assert [m.name for m in layout.objects] == [f"cm-{n}" for n in names]


def test_the_first_failed_build_in_order_is_reported(tmp_path: Path):
    source = _tree(tmp_path / "layout", {f"{n}/kustomization.yaml": KUSTOMIZATION for n in "abc"})
    _tool(tmp_path / "bin", "kustomize", 'case "$2" in *a) exit 0;; *b) sleep 0.3; exit 2;; *) exit 3;; esac')
    with pytest.raises(BuildFailed, match="/b: kustomize build failed \\(exit 2\\)"):
        read_layout(str(source), {"PATH": str(tmp_path / "bin")})


def test_a_built_document_that_is_no_object_is_refused(tmp_path: Path):
    source = _tree(tmp_path / "layout", {"kustomization.yaml": KUSTOMIZATION})
    _tool(tmp_path / "bin", "kustomize", "printf 'kind: Service\\n'")
    with pytest.raises(InvalidInput, match="a document is not a Kubernetes object"):
        read_layout(str(source), {"PATH": str(tmp_path / "bin")})


def test_a_plain_file_may_not_lead_out_of_the_source_directory(tmp_path: Path):
    (tmp_path / "secret.yaml").write_text("kind: Secret\n")
    (tmp_path / "layout").mkdir()
    (tmp_path / "layout" / "service.yaml").symlink_to(tmp_path / "secret.yaml")
    with pytest.raises(InvalidInput, match="outside the app directory"):
        read_layout(str(tmp_path / "layout"))


def test_a_source_that_is_no_directory_or_holds_nothing_is_refused(tmp_path: Path):
    with pytest.raises(BuildFailed, match="not a directory"):
        read_layout(str(tmp_path / "nowhere"))
    with pytest.raises(BuildFailed, match="holds neither a kustomization nor YAML files"):
        read_layout(str(tmp_path))


# --- importer.py: the base's templates ------------------------------------------------------------

CONTEXT = {"name": "app", "image": "registry.example.com/app"}
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)


def _expanded(value: str, version: str, color: str) -> str:
    def locate(path: tuple, message: str) -> Problem:
        return Problem("deployment.yaml", 1, 1, "", message)

    out, problems = expand({"v": value}, {**CONTEXT, "version": version, "color": color}, locate)
    assert problems == []
    return out["v"]


@settings(derandomize=True)
@given(TEXT)
@example("{\r{{ x }}{")
def test_a_literal_renders_as_itself(text: str):
    assert _expanded(literal(text), "1.0.0", "blue") == text


@settings(derandomize=True)
@given(st.lists(TEXT, min_size=2, max_size=4), st.sampled_from(["version", "color"]),
       st.from_regex(r"[a-f0-9]{7,12}", fullmatch=True), st.from_regex(r"[a-f0-9]{7,12}", fullmatch=True))
@example(["", "{\r"], "version", "0000000", "00000000")  # "{" then a carriage return, after the template
@example(["{", ""], "color", "0000000", "00000000")  # "{" right before the template
def test_a_value_differing_by_version_or_color_renders_each_color_s(parts: list[str], word: str, version: str,
                                                                      idle_version: str):
    pair = Pair((version, idle_version), ("blue", "green"))
    mine, theirs = (version, idle_version) if word == "version" else ("blue", "green")
    active, idle = mine.join(parts), theirs.join(parts)
    template = templated(active, idle, pair)
    if template is None:  # the same value, or not one the version or color alone tells apart
        assert mine == theirs or active.split(mine) != idle.split(theirs)
        return
    assert _expanded(template, version, "blue") == active
    assert _expanded(template, idle_version, "green") == idle


def test_a_short_version_becomes_a_slice_and_a_short_tag_is_not_searched_for():
    pair = Pair(("3f9c2e1d", "8a1b0c4e"), ("blue", "green"))
    assert templated("3f9c2e1", "8a1b0c4", pair) == "{{ version[:7] }}"
    assert templated("v=3f9c2e1d", "v=8a1b0c4e", pair) == "v={{ version }}"
    assert templated("v=1.2", "v=1.3", Pair(("1.2", "1.3"), ("blue", "green"))) is None


# --- import_cli.py: OUT_DIR -----------------------------------------------------------------------------


def test_out_dir_must_be_new_or_empty_and_its_parent_must_exist(tmp_path: Path):
    import_cli.require_empty(str(tmp_path / "new"))
    (tmp_path / "empty").mkdir()
    import_cli.require_empty(str(tmp_path / "empty"))
    (tmp_path / "file").write_text("")
    for path, message in ((tmp_path / "file", "exists and is not a directory"),
                          (tmp_path / "nowhere" / "out", "its parent directory"),
                          (tmp_path, "is not empty")):
        with pytest.raises(BgRenderError, match=message):
            import_cli.require_empty(str(path))


def test_a_failed_write_leaves_no_out_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    written = []

    def fail_on_the_second(changes):
        written.append(changes[0].path)
        raise WriteFailed(f"{changes[1].path}: cannot write: disk full; no file was changed")

    monkeypatch.setattr(import_cli, "write_files", fail_on_the_second)
    with pytest.raises(WriteFailed):
        import_cli.write_app(str(tmp_path / "out"), [("a.yaml", b"a"), ("b.yaml", b"b")])
    assert written and not (tmp_path / "out").exists()


# --- importer.py and recognize.py: any layout, no traceback ------------------------------------------


def _web_layout() -> list[dict]:
    def deployment(color: str, version: str) -> dict:
        labels = {"app": "web", "deploy": color}
        return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": f"web-{color}", "labels": labels},
                "spec": {"replicas": 2, "selector": {"matchLabels": dict(labels)}, "template": {
                    "metadata": {"labels": {**labels, "version": version}, "annotations": {"v": version}},
                    "spec": {"containers": [{"name": "web", "image": f"registry.example.com/web:{version}",
                                             "ports": [{"containerPort": 8080}]}]}}}}

    def route(subset: str, **match: object) -> dict:
        return {**match, "route": [{"destination": {"host": "web", "subset": subset}}]}

    return [deployment("blue", "1.0.0"), deployment("green", "1.1.0"),
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
             "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 8080}]}},
            {"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule", "metadata": {"name": "web"},
             "spec": {"host": "web", "subsets": [{"name": c, "labels": {"deploy": c}} for c in ("blue", "green")]}},
            {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "metadata": {"name": "web"},
             "spec": {"hosts": ["web"], "http": [route("green", match=[{"headers": {"x-deploy": {"exact": "green"}}}]),
                                                 route("blue")]}}]


def _paths(data: object, path: tuple = ()) -> list[tuple]:
    inner = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else []
    return [path] + [p for key, value in inner for p in _paths(value, path + (key,))]


def _replaced(data: object, path: tuple, value: object) -> object:
    if not path:
        return value
    copy = dict(data) if isinstance(data, dict) else list(data)  # type: ignore[call-overload]
    copy[path[0]] = _replaced(copy[path[0]], path[1:], value)
    return copy


def _nested(inner: st.SearchStrategy) -> st.SearchStrategy:
    keys = st.sampled_from(["name", "labels", "match", "route", "subset", "exact", "prefix"])
    return st.lists(inner, max_size=2) | st.dictionaries(keys, inner, max_size=2)


ODD_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=4)
                          | st.sampled_from(["blue", "green", "/", "{{", "1.0.0"]), _nested, max_leaves=4)


@given(st.data())
def test_a_layout_broken_anywhere_is_imported_or_refused_never_a_crash(data: st.DataObject):
    """Whatever a layout holds, import writes an app that renders, or says why it cannot."""
    from bgrender.importing.importer import import_layout
    from bgrender.importing.layouts import Layout, Manifest

    objects = _web_layout()
    for _ in range(data.draw(st.integers(1, 3))):
        index = data.draw(st.integers(0, len(objects) - 1))
        path = data.draw(st.sampled_from(_paths(objects[index])))
        objects[index] = _replaced(objects[index], path, data.draw(ODD_VALUES))  # type: ignore[assignment]
    kept = [o for o in objects if layouts._is_object(o)]  # as read_layout keeps them
    layout = Layout(tuple(Manifest(o, "source/app.yaml") for o in kept), ("source/app.yaml",), None)
    try:
        files = import_cli.finished(import_layout(layout, "source", "out"), "out")
    except BgRenderError:
        return
    assert [name for name, _ in files] == ["deployment.yaml", "bluegreen.lock.yaml", "bluegreen.yaml"]


@pytest.mark.parametrize("existing", [False, True], ids=["new-out", "empty-out"])
def test_when_stdout_cannot_take_the_paths_the_files_go_again(tmp_path: Path, existing: bool):
    shutil.copytree(GOLDEN / "import" / "plain-renamed-no-header-routes" / "source", tmp_path / "source")
    if existing:
        (tmp_path / "out").mkdir()
    done = subprocess.run(["sh", "-c", f'exec "{BGRENDER}" import source out >&-'], cwd=tmp_path,
                          env=clean_env(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == "cannot print the files written (stdout is closed); they were removed again"
    if existing:
        assert list((tmp_path / "out").iterdir()) == []  # the user's empty OUT_DIR stays, empty
    else:
        assert not (tmp_path / "out").exists()
