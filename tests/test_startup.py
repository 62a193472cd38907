"""What `bgrender render` costs to start, as Argo CD runs it on every commit of every app.

The render path must stay cheap to start (docs/performance.md): these tests pin what it
imports, that its one log line is structlog's line written without structlog, that the
line's duration counts from process start, and that the plain `render` and `validate` forms,
which skip click, behave as the click commands do. They time nothing: bench/run.py does.
"""

from __future__ import annotations

import datetime
import gc
import io
import json
import re
import resource
import shutil
import subprocess
import sys
import time

import pytest
import structlog
from hypothesis import given
from hypothesis import strategies as st

from bgrender import __main__ as entry
from bgrender.cli import logs
from bgrender.cli import render as render_cli

from .conftest import BGRENDER, EXAMPLES, REPO, SIDECAR_ENV, cases, clean_env

LAUNCHER = str(REPO / "image" / "bgrender")
GORILLA = next(p for p in EXAMPLES if p.name == "gorilla-sfx-demo")
# What Argo CD sets for a plugin run (argocd-cmp-contract §2), with a plugin block and no parameters.
ARGOCD_ENV = {
    "ARGOCD_APP_NAME": "gorilla-sfx-demo", "ARGOCD_APP_NAMESPACE": "default", "ARGOCD_APP_PARAMETERS": "null",
    "ARGOCD_APP_REVISION": "8a1b0c4e9d2f7a6b5c4d3e2f1a0b9c8d7e6f5a4b", "KUBE_VERSION": "1.30.2",
    "KUBE_API_VERSIONS": "apps/v1,apps/v1/Deployment,batch/v1,batch/v1/Job,gateway.networking.k8s.io/v1,"
                         "gateway.networking.k8s.io/v1/HTTPRoute,networking.istio.io/v1,"
                         "networking.istio.io/v1/DestinationRule,networking.istio.io/v1/VirtualService,"
                         "networking.istio.io/v1beta1,networking.istio.io/v1beta1/VirtualService,v1,v1/Service",
}
# Modules the render path must not load, and why: each costs more than bgrender's own work.
NOT_ON_THE_RENDER_PATH = {
    "kubernetes": "~300 ms; only `status` and `release --check-live` read a cluster",
    "jinja2": "~25 ms; imported only when a base manifest value holds more than plain `{{ name }}` templates",
    "click": "~20 ms; `render [PATH]` and `validate [PATH...]` skip it",
    "structlog": "~50 ms (asyncio, logging, inspect); the render's one line is written directly",
    "asyncio": "pulled in by structlog",
    "logging": "pulled in by structlog",
    "typing": "~3 ms; modules import it under TYPE_CHECKING only",
    "dataclasses": "~10 ms with inspect; record.Record replaces it",
    "json": "~2 ms; ARGOCD_APP_PARAMETERS=null and the log line need no json package; digest.py uses its C encoder",
    "hashlib": "~4 ms of OpenSSL set-up; digest.py uses CPython's own sha256",
    "copy": "~1.5 ms; templating.copy_data copies loaded YAML",
    "re": "~11 M instructions (a tenth of a render), most of them enum's; PyYAML gets a stand-in "
          "(yamlfile/pyyaml.py), values that pass the fast checks need no pattern (spec.matches)",
    "enum": "imported by re",
    "datetime": "~4.7 M instructions; PyYAML's stand-in holds the two classes it names at import",
    "collections": "~5 M instructions; PyYAML's stand-in holds OrderedDict and collections.abc",
    "functools": "~2 M instructions with collections; templating caches in dicts",
    "difflib": "only a dry run shows a diff (release.edits.Outcome.diff)",
    "contextlib": "~1 M instructions; app.files writes without it",
}


def imported_modules(args: list[str], env: dict[str, str], cwd=GORILLA) -> tuple[subprocess.CompletedProcess, set]:
    """Runs the image's console script (image/bgrender: pip's own imports `re` to rename argv[0]
    on Windows) as Argo CD does (no shell, cwd the app directory) and lists the modules it
    imported: `-X importtime` reports each as it loads, whatever way the process ends."""
    done = subprocess.run([sys.executable, "-X", "importtime", LAUNCHER, *args], cwd=cwd, env=clean_env(env),
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    names = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    names.discard("imported package")  # the header line
    return done, names


def loaded_roots(names: set) -> set:
    return {root for root in NOT_ON_THE_RENDER_PATH if any(n == root or n.startswith(root + ".") for n in names)}


@pytest.mark.parametrize("env", [{**SIDECAR_ENV, **ARGOCD_ENV}, SIDECAR_ENV], ids=["argocd", "local"])
@pytest.mark.parametrize("app", EXAMPLES, ids=lambda p: p.name)
def test_the_render_path_imports_none_of_the_costly_modules(env, app):
    if "ARGOCD_APP_NAME" in env:  # as Argo CD runs it, with the app's path in the repository
        env = {**env, "ARGOCD_APP_SOURCE_PATH": str(app.relative_to(REPO))}
    done, names = imported_modules(["render"], env, cwd=app)
    assert done.returncode == 0 and done.stdout.startswith("---\n")
    assert "yaml" in names and "bgrender.render.render" in names  # the probe sees the imports at all
    assert loaded_roots(names) == set(), {m: NOT_ON_THE_RENDER_PATH[m] for m in loaded_roots(names)}


def test_the_validate_path_imports_none_of_the_costly_modules():
    """validate measures the render in both output formats, so it refuses what render would."""
    done, names = imported_modules(["validate"], ARGOCD_ENV)
    assert (done.returncode, done.stdout) == (0, "")
    assert loaded_roots(names) == set(), {m: NOT_ON_THE_RENDER_PATH[m] for m in loaded_roots(names)}


def test_argocd_render_logs_one_line_timed_from_process_start():
    before, started = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    done = subprocess.run([BGRENDER, "render"], cwd=GORILLA, env=clean_env(ARGOCD_ENV), capture_output=True,
                          text=True, timeout=60)
    wall_ms = (time.perf_counter() - started) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_ms = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1000
    (line,) = done.stderr.splitlines()
    log = json.loads(line)
    assert sorted(log) == ["app", "duration_ms", "event", "level", "objects", "revision", "timestamp"]
    assert (log["event"], log["level"]) == ("rendered", "info")
    assert log["objects"] == done.stdout.count("\nkind: ")  # what went to stdout, counted
    # Interpreter start-up and imports included: about all the CPU time the process used (timed
    # from the render's own start, it was a fifth of it).
    assert 0.8 * cpu_ms <= log["duration_ms"] <= wall_ms


# --- the log line -----------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def logs_state_restored():
    saved = dict(logs._state)
    yield
    logs._state.update(saved)


def structlog_line(fields: dict) -> str:
    """What structlog, configured as logs._configure does for a pipe, prints for the same event."""
    return structlog.processors.JSONRenderer(sort_keys=True)(None, "info", dict(fields)) + "\n"


@given(app=st.text(st.characters(exclude_categories=())), revision=st.text(),
       objects=st.integers(min_value=0, max_value=10**6),
       duration=st.floats(min_value=0, max_value=10**7, allow_nan=False, allow_infinity=False))
def test_the_line_is_structlogs_json_line(app, revision, objects, duration):
    stderr = io.StringIO()  # not a terminal, as in Argo CD's sidecar
    original, sys.stderr = sys.stderr, stderr
    try:
        logs.set_level("info")
        logs.line("info", "rendered", app=app, revision=revision, objects=objects, duration_ms=duration)
    finally:
        sys.stderr = original
    written = stderr.getvalue()
    timestamp = json.loads(written)["timestamp"]
    assert written == structlog_line({"app": app, "revision": revision, "objects": objects, "duration_ms": duration,
                                      "event": "rendered", "level": "info", "timestamp": timestamp})


def test_the_timestamp_is_structlogs():
    ours = logs._timestamp()
    theirs = structlog.processors.TimeStamper(fmt="iso", utc=True)(None, "info", {})["timestamp"]
    shape = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z")
    assert shape.fullmatch(ours) and shape.fullmatch(theirs)
    gap = datetime.datetime.fromisoformat(theirs[:-1]) - datetime.datetime.fromisoformat(ours[:-1])
    assert datetime.timedelta(0) <= gap < datetime.timedelta(seconds=5)


def test_the_line_respects_the_level(capsys):
    logs.set_level("warning")
    logs.line("info", "rendered", app="a")
    assert capsys.readouterr().err == ""


def test_on_a_terminal_the_line_is_structlogs_readable_text(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setitem(logs._state, "logger", None)  # configured anew, for this terminal
    logs.set_level("info")
    logs.line("info", "rendered", app="gorilla", objects=5)
    text = terminal.getvalue()
    assert "rendered" in text and "app=gorilla" in text and not text.startswith("{")


# --- duration from process start ----------------------------------------------------------------

def test_uptime_counts_from_process_start_even_while_the_process_slept():
    code = "import time; time.sleep(0.3); from bgrender.cli.logs import uptime_ms; print(uptime_ms())"
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60).stdout
    wall_ms = (time.perf_counter() - started) * 1000
    # The kernel dates the start to a 10 ms tick; the sleep used no CPU time.
    assert 290 <= float(out) <= wall_ms


def test_uptime_without_proc_is_the_cpu_time(monkeypatch):
    def no_proc(*_args, **_kwargs):
        raise OSError("no /proc here")

    monkeypatch.setattr(logs, "open", no_proc, raising=False)
    before = time.process_time() * 1000
    measured = logs.uptime_ms()
    assert before <= measured <= time.process_time() * 1000


# --- the plain forms behave as the click commands do ---------------------------------------------

def test_plain_validate_and_click_validate_agree():
    paths = [str(p) for p in [*EXAMPLES, *cases("errors")]]
    fast = subprocess.run([BGRENDER, "validate", *paths], env=clean_env(), capture_output=True, text=True,
                          timeout=120)
    full = subprocess.run([BGRENDER, "validate", "--", *paths], env=clean_env(), capture_output=True, text=True,
                          timeout=120)
    assert fast.returncode == 1 and all(f"{p}/bluegreen.yaml: valid\n" in fast.stderr for p in EXAMPLES)
    assert (fast.returncode, fast.stdout, fast.stderr) == (full.returncode, full.stdout, full.stderr)


@pytest.fixture
def gc_restored():
    yield
    gc.enable()  # the plain forms turn it off: their process ends right after


def test_a_bug_on_the_plain_path_is_one_line_like_under_click(monkeypatch, capsys, gc_restored):
    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(render_cli, "run_render", broken)
    with pytest.raises(SystemExit) as exited:
        entry.main(["render", str(GORILLA)])
    assert exited.value.code == 1
    assert capsys.readouterr() == ("", "bgrender: internal error: RuntimeError: boom (rerun with --debug)\n")


def test_the_plain_path_ends_the_process_with_every_byte_written():
    """The script's process ends without interpreter teardown; output and exit code are whole."""
    big = "".join(f"key{i}: {'x' * 60}\n" for i in range(20000))  # far more than a pipe's buffer
    code = ("import sys; from bgrender import __main__ as m\nfrom bgrender.cli import render as render_cli\n"
            "big = ''.join(f\"key{i}: {'x' * 60}\\n\" for i in range(20000))\n"
            "render_cli.run_render = lambda *a: (sys.stdout.write(big), 3)[1]\n"
            "sys.argv = ['bgrender', 'render']; m.main(); print('not reached')")
    env = {k: v for k, v in clean_env().items() if k != "PYTHONUNBUFFERED"}  # stdout buffered, as by default
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stderr) == (3, "")
    assert done.stdout == big


# PyYAML at work, the same whether it was imported plainly or through bgrender.yamlfile.pyyaml:
# dates, times, floats, binary, ints, an ordered mapping, a date, bytes and an object dumped, a
# mapping checked for hashable keys, and the Python reader's character check.
PYYAML_AT_WORK = """
import collections, datetime, yaml
print(repr(yaml.safe_load("day: 2001-12-14\\nat: 2001-12-14t21:59:43.10-05:00\\nf: 1.5\\nb: !!binary aGVsbG8=\\n"
                          "i: 0x1F\\nm: {a: 1}\\nn: ~\\ns: [yes, no]")))
print(repr(yaml.dump({"d": datetime.date(2020, 1, 2), "t": datetime.datetime(2020, 1, 2, 3, 4, 5), "f": 2.5})))
print(repr(yaml.dump(collections.OrderedDict(a=1))))
print(repr(yaml.safe_dump({"b": b"\\x00\\xff"})))
class Point:
    pass
point = Point()
point.x = 1
print(repr(yaml.dump(point)))
try:
    yaml.safe_load("{[a]: 1}")
except yaml.constructor.ConstructorError as err:
    print(err.problem)
try:
    yaml.load("bell: \\x07", Loader=yaml.SafeLoader)
except yaml.reader.ReaderError as err:
    print(err.character)
"""


def test_pyyaml_is_imported_without_the_modules_it_only_names_and_works_as_ever():
    """bgrender.yamlfile.pyyaml gives PyYAML stand-ins for `re`, `datetime`, `collections`,
    `types`, `base64` and `copyreg` while it is imported; PyYAML then works exactly as when
    imported plainly, and the stand-ins are gone from sys.modules."""
    shim = ("import sys, bgrender.yamlfile.pyyaml\n"
            "print(sorted(m for m in ('re', 'enum', 'datetime', 'collections', 'collections.abc', 'functools',"
            " 'types', 'base64', 'copyreg')"
            " if m in sys.modules), type(sys.modules['yaml'].reader.Reader.NON_PRINTABLE).__name__)\n")
    after = ("print(sorted(n for n, m in sys.modules.items() if type(m).__name__ == '_StandIn'),"
             " sys.modules['re'].compile.__module__)\n")
    ours = subprocess.run([sys.executable, "-I", "-c", shim + PYYAML_AT_WORK + after], capture_output=True, text=True,
                          timeout=60)
    plain = subprocess.run([sys.executable, "-I", "-c", "import sys\n" + PYYAML_AT_WORK], capture_output=True,
                           text=True, timeout=60)
    assert ours.returncode == plain.returncode == 0, ours.stderr + plain.stderr
    first, *working, last = ours.stdout.splitlines()
    assert first == "[] _LazyPattern"  # nothing of those imported, the 5 ms pattern not compiled
    assert working == plain.stdout.splitlines() and len(working) == 7
    assert last == "[] re"  # no stand-in left behind; `import re` gets the real module


def test_the_stand_in_for_re_gives_the_real_flag():
    assert re.X == re.VERBOSE == 64


@pytest.mark.parametrize("args, plain", [
    (["render"], ("render", [], "yaml")),
    (["render", "--output", "json"], ("render", [], "json")),
    (["render", "-ojson", "app"], ("render", ["app"], "json")),
    (["render", "app", "--output=json"], ("render", ["app"], "json")),
    (["render", "-o", "yaml", "app"], ("render", ["app"], "yaml")),
    (["validate", "a", "b"], ("validate", ["a", "b"], "")), (["validate"], ("validate", [], "")),
    (["release", "5d7e9f01", "app"], ("release", ["5d7e9f01", "app"], "")),
    (["release", "--dry-run", "app"], ("release", ["app"], "dry-run")), (["promote"], ("promote", [], "")),
    (["rollback", "app", "--dry-run"], ("rollback", ["app"], "dry-run")), (["lock", "app"], ("lock", ["app"], "")),
    (["release", "a", "b", "c"], None), (["promote", "a", "b"], None), (["release", "--check-live"], None),
    (["promote", "--", "--dry-run"], None), (["lock", "-h"], None), (["status"], None), (["schema"], None),
    (["render", "-o", "xml"], None), (["render", "-o"], None), (["render", "-o=json"], None),
    (["render", "-o", "json", "-o", "yaml"], None), (["render", "--", "-o", "json"], None),
    (["render", "--outputs", "json"], None), (["render", "a", "b"], None), (["validate", "-o", "json"], None),
    (["render", "--debug"], None), (["import", "a", "b"], None), ([], None),
])
def test_the_plain_forms_are_exactly_these(args, plain):
    assert entry._plain_command(args) == plain


@pytest.mark.parametrize("args, output", [
    (["render", "-o", "json", "."], "json"), (["render", "--output=json"], "json"), (["render", "-oyaml"], "yaml")])
def test_plain_render_with_an_output_and_click_render_agree(args, output):
    """The same render through click (`--` ends the options, so the fast path declines it)."""
    def run(argv):
        return subprocess.run([BGRENDER, *argv], cwd=GORILLA, env=clean_env(ARGOCD_ENV), capture_output=True,
                              text=True, timeout=60)

    fast, full = run(args), run(["render", "--output", output, "--", "."])
    assert fast.returncode == full.returncode == 0 and fast.stdout == full.stdout
    assert len(fast.stderr.splitlines()) == len(full.stderr.splitlines()) == 1  # the one log line


def test_plain_templates_render_without_jinja2(tmp_path):
    app = tmp_path / "app"
    shutil.copytree(GORILLA, app)
    (app / "bluegreen.lock.yaml").unlink()  # without a lock, every render expands the base's templates
    base = (app / "deployment.yaml").read_text()
    (app / "deployment.yaml").write_text(base.replace(
        "          ports:\n", '          env:\n            - name: OTEL_SERVICE_VERSION\n'
                             '              value: "{{ name }}@{{version}}"\n          ports:\n', 1))
    done, names = imported_modules(["render"], ARGOCD_ENV, cwd=app)
    assert done.returncode == 0 and "value: gorilla-sfx-demo@3f9c2e1d\n" in done.stdout
    assert loaded_roots(names) == set(), {m: NOT_ON_THE_RENDER_PATH[m] for m in loaded_roots(names)}


@pytest.mark.parametrize("edit", [["release", "5d7e9f01"], ["promote"], ["rollback"]])
def test_an_edit_imports_none_of_the_costly_modules(tmp_path, edit):
    app = tmp_path / "app"
    shutil.copytree(GORILLA, app)
    if edit == ["rollback"]:
        assert imported_modules(["promote"], SIDECAR_ENV, cwd=app)[0].returncode == 0
    done, names = imported_modules(edit, SIDECAR_ENV, cwd=app)
    assert done.returncode == 0 and " gorilla-sfx-demo " in done.stdout  # the commit message
    assert loaded_roots(names) == set(), {m: NOT_ON_THE_RENDER_PATH[m] for m in loaded_roots(names)}


@pytest.mark.parametrize("args", [["release", "5d7e9f01"], ["release", "--dry-run", "5d7e9f01", "."], ["promote"],
                                  ["rollback", "--dry-run"], ["lock", "--dry-run"], ["release", "no/such/app", "1"]])
def test_plain_edits_and_click_edits_agree(tmp_path, args):
    """Each edit on its own copy of the example, once on the fast path and once through click
    (a final `--` makes click run it): the same output, messages, exit code and files."""
    results = []
    for form in (args, [*args, "--"]):
        app = tmp_path / str(len(results))
        shutil.copytree(GORILLA, app)
        done = subprocess.run([BGRENDER, *form], cwd=app, env=clean_env(), capture_output=True, text=True, timeout=60)
        files = {p.name: p.read_text() for p in sorted(app.iterdir())}
        results.append((done.returncode, done.stdout, done.stderr, files))
    assert results[0] == results[1]
