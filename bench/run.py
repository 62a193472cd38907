#!/usr/bin/env python3
"""Benchmark: a cold `bgrender render`, as Argo CD runs it and as a person runs it, beside
`kubectl kustomize` of the seed post's layout; and the same with a 1 MiB base Deployment.

Subjects, each run as a fresh process in every round (rounds interleave the subjects, so a
burst of background load hits all of them alike):

  local      `bgrender render` in examples/gorilla-sfx-demo, without Argo CD's variables
  argocd     the same as plugin.yaml runs it: argv `bgrender render`, cwd the app directory,
             ARGOCD_APP_NAME, ARGOCD_APP_NAMESPACE, ARGOCD_APP_PARAMETERS=null,
             ARGOCD_APP_REVISION, KUBE_VERSION and a realistic KUBE_API_VERSIONS set
  one dir    `kubectl kustomize` of the seed layout's biggest directory (largest output)
  four dirs  (for scale) the four directories the post's Argo CD apps point at: one release
  1 MiB      `bgrender render` (Argo CD's variables) of the example with a 1 MiB base
             Deployment (its app container given env entries up to 1 MiB), both colors
  1 MiB k    `kubectl kustomize` building both seed color directories, each holding the
             same 1 MiB Deployment, in one build (one process, as strict as it gets)
  templated  the example without its lock, its app container given `{{ name }}`-style
             templates (env values and an argument), Argo CD's env
  json       `bgrender render --output json` of the example, Argo CD's env
  50 res     the example with 50 resources (ServiceAccounts in 10 files) and 20 ConfigMaps
             (two files and a data key each, mounted), locked, Argo CD's env
  edits      `release 5d7e9f01`, `promote`, `rollback` (after an untimed promote), each on a
             fresh copy of the example made before the run (untimed)

Ratios are the median of per-round ratios (bgrender's wall time over kustomize's in the same
round), so a drift in the machine's speed cancels out.

Peak RSS is each child's own. A process started by fork or vfork inherits its parent's peak
(Linux folds the memory it leaves at exec into ru_maxrss), so the children are not started
by this script (~20 MiB) but by a small launcher (`python -S -I`, a few MiB) that forks them
and reports their rusage. The peak of `/bin/true` started the same way is the floor, printed
beside: a figure above it is the child's own peak.

bgrender runs as the sidecar image installs it (Dockerfile): first this script installs the
checkout into a temporary venv without pip, not editable, with its dependencies, compiled to
unchecked-hash bytecode, with the image's console script (image/bgrender), and runs it with
PYTHONDONTWRITEBYTECODE=1 (pip fetches the build
backend and dependencies from the package index or its cache); `--python PATH` installs it with
another interpreter (an optimized build like the image's, say). `--bgrender PATH` times another
console script instead, the development venv's for one, with its bytecode compiled into a
private cache (PYTHONPYCACHEPREFIX) before anything is timed. The script also checks which
modules each path imports. It reports and does not gate: the exit status is 0 whatever the
figures, and non-zero only when something could not be run (with a message on stderr).

Standard library only (pip runs as a separate process). Run it with the project's venv python:

    .venv/bin/python bench/run.py [--runs 30] [--big-runs 10] [--warmup 3] [--python PATH] [--bgrender PATH]
                                  [--kubectl PATH]
"""

from __future__ import annotations

import argparse
import json
import marshal
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "gorilla-sfx-demo"
SEED = REPO / "bench" / "seed-layout" / "gorilla-sfx-demo" / "eks"
# The directories the post's four Argo CD Applications point at. The root one is not
# recursive: its kustomization.yaml lists only the Service and the DestinationRule.
SEED_DIRS = (".", "deployment/blue", "deployment/green", "virtualservice")
COLORS = ("blue", "green")

WALL_RATIO_TARGET = 0.5  # bgrender median per-round wall ratio vs `kubectl kustomize` of one dir
OTHER_RATIO_TARGET = 0.6  # the templated app and `--output json`, vs the same
EDIT_RATIO_TARGET = 1.5  # release, promote, rollback vs the Argo CD render of the example
BIG_RATIO_TARGET = 0.5  # 1 MiB base, both colors, vs kustomize building both colors
RSS_TARGET_MIB = 15.0  # bgrender peak RSS, every run of every bgrender subject
BIG_BYTES = 1024 * 1024  # the largest file bgrender reads
FORBIDDEN_MODULES = ("kubernetes", "jinja2")
PIP_SCRIPT = "bgrender-pip"  # pip's console script, beside the image's in the benchmark's venv
SHOWN_MODULES = ("click", "structlog", "json", "copy")  # not forbidden, but each costs start-up time

# Argo CD's environment for the example app (argocd-cmp-contract §2): the destination cluster
# serves Istio; KUBE_API_VERSIONS is sorted and lists group/version and group/version/Kind.
_API_KINDS = {
    "v1": "Binding ComponentStatus ConfigMap Endpoints Event LimitRange Namespace Node PersistentVolume "
          "PersistentVolumeClaim Pod PodTemplate ReplicationController ResourceQuota Secret Service ServiceAccount",
    "apps/v1": "ControllerRevision DaemonSet Deployment ReplicaSet StatefulSet",
    "autoscaling/v1": "HorizontalPodAutoscaler", "autoscaling/v2": "HorizontalPodAutoscaler",
    "batch/v1": "CronJob Job",
    "networking.k8s.io/v1": "Ingress IngressClass NetworkPolicy",
    "policy/v1": "PodDisruptionBudget",
    "rbac.authorization.k8s.io/v1": "ClusterRole ClusterRoleBinding Role RoleBinding",
    "storage.k8s.io/v1": "CSIDriver CSINode CSIStorageCapacity StorageClass VolumeAttachment",
    "networking.istio.io/v1": "DestinationRule Gateway ServiceEntry Sidecar VirtualService WorkloadEntry WorkloadGroup",
    "networking.istio.io/v1beta1": "DestinationRule Gateway ServiceEntry Sidecar VirtualService WorkloadEntry "
                                   "WorkloadGroup",
    "networking.istio.io/v1alpha3": "DestinationRule EnvoyFilter Gateway ServiceEntry Sidecar VirtualService "
                                    "WorkloadEntry WorkloadGroup",
    "security.istio.io/v1": "AuthorizationPolicy PeerAuthentication RequestAuthentication",
    "argoproj.io/v1alpha1": "AppProject Application ApplicationSet",
}
ARGOCD_ENV = {
    "ARGOCD_APP_NAME": "gorilla-sfx-demo",
    "ARGOCD_APP_NAMESPACE": "default",
    "ARGOCD_APP_PARAMETERS": "null",
    "ARGOCD_APP_REVISION": "8a1b0c4e9d2f7a6b5c4d3e2f1a0b9c8d7e6f5a4b",
    "KUBE_VERSION": "1.30.2",
    "KUBE_API_VERSIONS": ",".join(sorted([*_API_KINDS] + [f"{gv}/{kind}" for gv, kinds in _API_KINDS.items()
                                                         for kind in kinds.split()])),
}


class BenchError(Exception):
    """Something could not be run; the benchmark has no figures to report."""


@dataclass
class Sample:
    wall_ns: int
    cpu_s: float  # user + system; less disturbed than wall time by other load on the machine
    maxrss_kib: int
    stderr: str = ""


@dataclass
class Command:
    argv: list[str]
    cwd: Path
    env: dict[str, str]
    prepare: Callable[[], None] | None = None  # run (untimed) by this script before each run


@dataclass
class Subject:
    label: str
    commands: list[Command]  # run one after another; one sample is their sum (wall) and max (RSS)
    samples: list[Sample] = field(default_factory=list)

    def walls_ms(self) -> list[float]:
        return [s.wall_ns / 1e6 for s in self.samples]

    def cpus_ms(self) -> list[float]:
        return [s.cpu_s * 1e3 for s in self.samples]

    def rss_mib(self) -> list[float]:
        return [s.maxrss_kib / 1024 for s in self.samples]


# The launcher: reads (argv, cwd, env, stderr path) as marshal records on stdin, forks and execs
# each, and answers with (wall ns, user s, system s, maxrss KiB, wait status). Its own small
# memory is all a child can inherit into its peak. stdout goes to /dev/null, stderr to a file.
_LAUNCHER = """
import marshal, os, sys, time
devnull = os.open(os.devnull, os.O_RDWR)
while True:
    try:
        argv, cwd, env, err_path = marshal.load(sys.stdin.buffer)
    except EOFError:
        break
    err = os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    start = time.perf_counter_ns()
    pid = os.fork()
    if pid == 0:
        try:
            os.chdir(cwd)
            os.dup2(devnull, 0); os.dup2(devnull, 1); os.dup2(err, 2)
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter_ns() - start
    os.close(err)
    marshal.dump((wall, usage.ru_utime, usage.ru_stime, usage.ru_maxrss, status), sys.stdout.buffer)
    sys.stdout.flush()
"""


class Launcher:
    def __init__(self, workdir: str):
        self.err_path = os.path.join(workdir, "stderr")
        self.proc = subprocess.Popen([sys.executable, "-S", "-I", "-c", _LAUNCHER],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def run(self, command: Command) -> Sample:
        """One cold run: a fresh process, stdout discarded; its wall time, CPU time and peak RSS."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        if command.prepare:
            command.prepare()
        marshal.dump((command.argv, str(command.cwd), command.env, self.err_path), self.proc.stdin)
        self.proc.stdin.flush()
        try:
            wall, utime, stime, maxrss, status = marshal.load(self.proc.stdout)
        except EOFError as err:
            raise BenchError(f"the launcher stopped while running {command.argv[0]}") from err
        with open(self.err_path, encoding="utf-8", errors="replace") as fh:
            stderr = fh.read()
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            raise BenchError(f"`{' '.join(command.argv)}` (in {command.cwd}) exited {code}"
                             + (f":\n{stderr.strip()[-2000:]}" if stderr.strip() else ""))
        return Sample(wall, utime + stime, maxrss, stderr)

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=30)

    def run_subject(self, subject: Subject) -> Sample:
        parts = [self.run(c) for c in subject.commands]
        return Sample(sum(p.wall_ns for p in parts), sum(p.cpu_s for p in parts),
                      max(p.maxrss_kib for p in parts), parts[-1].stderr)


def capture(argv: list[str], what: str, cwd: Path = REPO,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    try:
        done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    except OSError as err:
        raise BenchError(f"cannot run {what} ({argv[0]}): {err}") from err
    if done.returncode != 0:
        raise BenchError(f"{what} failed: `{' '.join(argv)}` exited {done.returncode}:\n"
                         f"{done.stderr.strip()[-2000:]}")
    return done


def biggest_seed_dir(kubectl: str) -> tuple[str, dict[str, int]]:
    """The seed directory whose build is largest; also the output size of each one."""
    sizes: dict[str, int] = {}
    for d in SEED_DIRS:
        out = capture([kubectl, "kustomize", str(SEED / d)], f"kubectl kustomize {d}").stdout
        if "kind:" not in out:
            raise BenchError(f"kubectl kustomize {d} built no objects")
        sizes[d] = len(out.encode())
    return max(SEED_DIRS, key=lambda d: (sizes[d], d)), sizes


def with_env_entries(manifest: str, limit: int) -> tuple[str, int]:
    """The Deployment with env entries added to its first container, up to `limit` bytes."""
    lines = manifest.splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.lstrip().startswith("image:"))
    indent = lines[at][:len(lines[at]) - len(lines[at].lstrip())]
    head, tail = "".join(lines[:at + 1]) + f"{indent}env:\n", "".join(lines[at + 1:])
    size, entries = len(head.encode()) + len(tail.encode()), []
    while True:
        n = len(entries)
        entry = (f"{indent}- name: SETTING_{n:05d}\n"
                 f'{indent}  value: "https://config.example.com/service/{n:05d}/endpoint?region=ap-northeast-1"\n')
        if size + len(entry) > limit:
            return head + "".join(entries) + tail, n
        entries.append(entry)
        size += len(entry)


def make_big_case(root: Path) -> tuple[Path, Path, int]:
    """The example app with a 1 MiB base, and the seed's color directories with the same
    Deployment body, under one kustomization that builds both colors."""
    app, layout = root / "app", root / "kustomize"
    app.mkdir(parents=True)
    shutil.copy(EXAMPLE / "bluegreen.yaml", app)
    text, entries = with_env_entries((EXAMPLE / "deployment.yaml").read_text(), BIG_BYTES)
    (app / "deployment.yaml").write_text(text)
    for color in COLORS:
        source, target = SEED / "deployment" / color, layout / color
        target.mkdir(parents=True)
        shutil.copy(source / "kustomization.yaml", target)
        name = f"gorilla-sfx-demo-deployment-{color}.yaml"
        (target / name).write_text(with_env_entries((source / name).read_text(), BIG_BYTES)[0])
    (layout / "kustomization.yaml").write_text("resources:\n" + "".join(f"- {c}\n" for c in COLORS))
    return app, layout, entries


def make_templated_case(root: Path) -> Path:
    """The example without its lock (every render expands the base), with plain templates."""
    app = root / "templated"
    shutil.copytree(EXAMPLE, app)
    (app / "bluegreen.lock.yaml").unlink()
    text = (app / "deployment.yaml").read_text()
    templates = ('          args: ["--color={{ color }}"]\n          env:\n'
                 '            - name: OTEL_RESOURCE_ATTRIBUTES\n'
                 '              value: "service.name={{ name }},service.namespace={{ namespace }},'
                 'service.version={{ version }}"\n'
                 '            - name: IMAGE\n              value: "{{ image }}"\n')
    (app / "deployment.yaml").write_text(text.replace("          ports:\n", templates + "          ports:\n", 1))
    return app


def make_many_case(root: Path, bgrender: str) -> Path:
    """The example with 50 resources (10 files of 5 ServiceAccounts) and 20 ConfigMaps (two
    files and a data key each, each mounted), locked by `bgrender lock`."""
    app = root / "many"
    shutil.copytree(EXAMPLE, app)
    (app / "resources").mkdir()
    (app / "config").mkdir()
    for f in range(10):
        (app / "resources" / f"r{f:02d}.yaml").write_text("---\n".join(
            f"apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa-{n:02d}\n  labels:\n    app: other\n"
            f'    index: "{n}"\n  annotations:\n    example.com/owner: team-{n % 7}\n'
            for n in range(f * 5, f * 5 + 5)))
    intent = (app / "bluegreen.yaml").read_text() + "  resources:\n" + "".join(
        f"    - resources/r{f:02d}.yaml\n" for f in range(10)) + "  configMaps:\n"
    mounts, volumes = "          volumeMounts:\n", "      volumes:\n"
    for c in range(20):
        for k in range(2):
            (app / "config" / f"c{c:02d}-{k}.properties").write_text(
                "".join(f"key.{i}=value-{c}-{k}-{i}\n" for i in range(10)))
        intent += (f"    - name: cfg-{c:02d}\n      files:\n" + "".join(
            f"        - config/c{c:02d}-{k}.properties\n" for k in range(2)) + f"      data:\n        MODE: m{c}\n")
        mounts += f"            - name: cfg-{c:02d}\n              mountPath: /etc/cfg-{c:02d}\n"
        volumes += f"        - name: cfg-{c:02d}\n          configMap:\n            name: cfg-{c:02d}\n"
    (app / "bluegreen.yaml").write_text(intent)
    base = (app / "deployment.yaml").read_text().replace("          ports:\n", mounts + "          ports:\n", 1)
    (app / "deployment.yaml").write_text(base.rstrip("\n") + "\n" + volumes)
    capture([bgrender, "lock", str(app)], "bgrender lock (the 50-resource app)")
    return app


def edit_command(bgrender: str, work: Path, argv: list[str], env: dict[str, str], after: list[str] | None) -> Command:
    """An edit of a fresh copy of the example, made (and `after` run in it) before each run."""
    app = work / f"edit-{argv[0]}"

    def fresh_copy() -> None:
        shutil.rmtree(app, ignore_errors=True)
        shutil.copytree(EXAMPLE, app)
        if after:
            capture([bgrender, *after], f"bgrender {after[0]} (before {argv[0]})", cwd=app, env=env)

    return Command([bgrender, *argv], app, env, fresh_copy)


def check_big_case(bgrender: str, kubectl: str, app: Path, layout: Path, env: dict[str, str]) -> None:
    """Both sides build both colors' Deployments, each with every env entry."""
    rendered = capture([bgrender, "render"], "bgrender render (1 MiB)", cwd=app, env=env).stdout
    built = capture([kubectl, "kustomize", str(layout)], "kubectl kustomize (1 MiB)").stdout
    for what, out in (("bgrender", rendered), ("kustomize", built)):
        if out.count("kind: Deployment") != 2 or out.count("SETTING_00000") != 2:
            raise BenchError(f"the 1 MiB case: {what} did not build two Deployments with the env entries")


def script_python(script: str) -> str:
    """A console script's python: its shebang, else a `python` beside it."""
    try:
        with open(script, "rb") as fh:
            first = fh.readline(4096).decode(errors="replace")
    except OSError as err:
        raise BenchError(f"cannot read {script}: {err}") from err
    if first.startswith("#!") and "python" in first:
        return first[2:].split()[0]
    if (Path(script).parent / "python").exists():
        return str(Path(script).parent / "python")
    raise BenchError(f"{script} is not a Python console script; cannot check its imports (--skip-import-check)")


def check_imports(python: str, script: str, env: dict[str, str]) -> dict:
    """Runs the script exactly as `bgrender render` runs (cwd the app directory) under
    `-X importtime`, which reports every module as it loads, however the process ends."""
    try:
        done = subprocess.run([python, "-X", "importtime", script, "render"], cwd=EXAMPLE, env=env,
                              capture_output=True, text=True, check=False)
    except OSError as err:
        raise BenchError(f"cannot run the import check with {python}: {err}") from err
    lines = done.stderr.splitlines()
    if done.returncode != 0 or not done.stdout.strip():
        detail = "\n".join(line for line in lines if not line.startswith("import time:"))
        raise BenchError(f"the import check's render failed (exit {done.returncode}):\n{detail.strip()[-2000:]}")
    names = {line.rsplit("|", 1)[1].strip() for line in lines[1:] if line.startswith("import time:")}
    roots = FORBIDDEN_MODULES + SHOWN_MODULES
    return {"found": {r: sorted(n for n in names if n == r or n.startswith(r + ".")) for r in roots},
            "count": len(names)}


def p90(values: list[float]) -> float:
    """Nearest-rank 90th percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def pair_ratio(a: Subject, b: Subject) -> float:
    """The median over rounds of a's wall time over b's in the same round."""
    return statistics.median(x.wall_ns / y.wall_ns for x, y in zip(a.samples, b.samples))


def pair_cpu_ratio(a: Subject, b: Subject) -> float:
    """The same for CPU time, which load on the machine disturbs less (kubectl runs threads:
    when processes queue for the CPUs, its wall time grows less than a one-thread process's)."""
    return statistics.median(x.cpu_s / y.cpu_s for x, y in zip(a.samples, b.samples))


def ratio_cell(a: Subject, b: Subject) -> str:
    return f"{pair_ratio(a, b):.2f} × (CPU time: {pair_cpu_ratio(a, b):.2f} ×)"


def logged_durations(subject: Subject) -> list[float]:
    """duration_ms of the one JSON line each Argo CD render logged."""
    out = []
    for sample in subject.samples:
        lines = [json.loads(line) for line in sample.stderr.splitlines() if line.startswith("{")]
        out += [line["duration_ms"] for line in lines if line.get("event") == "rendered"]
    return out


def versions(python: str | None, kubectl: str) -> dict[str, str]:
    out = {"bench python": platform.python_version()}
    if python:
        out["bgrender python"] = capture(
            [python, "-c", "import platform; print(platform.python_implementation(), "
                           "platform.python_version())"], "python --version").stdout.strip()
    kv = capture([kubectl, "version", "--client"], "kubectl version").stdout
    out["kubectl"] = "; ".join(line.strip() for line in kv.splitlines() if line.strip())
    out["machine"] = f"{platform.system()} {platform.release()} {platform.machine()}, " \
                     f"{os.cpu_count()} CPUs"
    return out


def fmt(x: float) -> str:
    return f"{x:.1f}"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


@dataclass
class Results:
    small: list[Subject]  # local, argocd, one dir, four dirs
    other: list[Subject]  # templated, json, 50 resources, release, promote, rollback
    big: list[Subject]  # bgrender 1 MiB, kustomize 1 MiB
    floor: Subject
    pip: Subject | None  # the local render with pip's own console script (when installed here)
    imports: dict[str, dict] | None  # by path: local, argocd
    info: dict[str, str]
    sizes: dict[str, int]
    big_dir: str
    entries: int


def subject_rows(results: Results) -> list[str]:
    lines = ["| command | median wall ms | p90 wall ms | median CPU ms | median peak RSS MiB | max peak RSS MiB |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for s in [*results.small, *([results.pip] if results.pip else []), *results.other, *results.big, results.floor]:
        w, r = s.walls_ms(), s.rss_mib()
        lines.append(f"| {s.label} | {fmt(statistics.median(w))} | {fmt(p90(w))} | "
                     f"{fmt(statistics.median(s.cpus_ms()))} | {fmt(statistics.median(r))} | {fmt(max(r))} |")
    return lines


def target_rows(results: Results) -> list[str]:
    local, argocd, one, four = results.small
    big, big_k = results.big
    rows = ["| target | measured | result |", "| --- | --- | --- |"]
    for name, s in (("local", local), ("Argo CD", argocd)):
        ok = pair_ratio(s, one) <= WALL_RATIO_TARGET
        rows.append(f"| {name}: wall ≤ {WALL_RATIO_TARGET} × `kubectl kustomize` of one directory "
                    f"(median of per-round ratios) | {ratio_cell(s, one)} | {verdict(ok)} |")
    templated, as_json, many, *edits = results.other
    for name, s in (("templated app without a lock", templated), ("`--output json`", as_json)):
        ok = pair_ratio(s, one) <= OTHER_RATIO_TARGET
        rows.append(f"| {name}: wall ≤ {OTHER_RATIO_TARGET} × `kubectl kustomize` of one directory "
                    f"(median of per-round ratios) | {ratio_cell(s, one)} | {verdict(ok)} |")
    for s in edits:
        ok = pair_ratio(s, argocd) <= EDIT_RATIO_TARGET
        rows.append(f"| {s.label.split('`')[1]}: wall ≤ {EDIT_RATIO_TARGET} × the Argo CD render "
                    f"(median of per-round ratios) | {ratio_cell(s, argocd)} | {verdict(ok)} |")
    peaks = {name: max(s.rss_mib()) for name, s in (("local", local), ("Argo CD", argocd), ("templated", templated),
                                                      ("json", as_json), ("50 resources", many),
                                                      *((s.label.split("`")[1], s) for s in edits))}
    worst = max(peaks, key=lambda name: peaks[name])
    rows.append(f"| peak RSS ≤ {RSS_TARGET_MIB:.0f} MiB, every render and edit above (max over runs) | "
                f"{fmt(peaks[worst])} MiB ({worst}; 50 resources: {fmt(peaks['50 resources'])} MiB) | "
                f"{verdict(peaks[worst] <= RSS_TARGET_MIB)} |")
    ok = pair_ratio(big, big_k) <= BIG_RATIO_TARGET
    rows.append(f"| 1 MiB base: both colors, wall ≤ {BIG_RATIO_TARGET} × kustomize building both colors "
                f"(median of per-round ratios) | {ratio_cell(big, big_k)} | {verdict(ok)} |")
    rows += import_rows(results.imports)
    if results.pip:
        rows.append(f"| (for scale) local render with pip's console script (`pip install bgrender`) vs one directory "
                    f"| {ratio_cell(results.pip, one)} | - |")
    rows.append(f"| (for scale) Argo CD render vs the four builds of one seed release | "
                f"{ratio_cell(argocd, four)} | - |")
    return rows


def import_rows(imports: dict[str, dict] | None) -> list[str]:
    forbidden = " nor ".join(f"`{m}`" for m in FORBIDDEN_MODULES)
    rows = []
    for name in ("local", "Argo CD"):
        if imports is None:
            rows.append(f"| {name}: render imports neither {forbidden} | not checked | - |")
            continue
        found = {root: len(names) for root, names in imports[name]["found"].items() if names}
        bad = [root for root in FORBIDDEN_MODULES if root in found]
        shown = ", ".join(f"`{root}`" for root in found) or "none"
        rows.append(f"| {name}: render imports neither {forbidden} | of {', '.join(FORBIDDEN_MODULES + SHOWN_MODULES)}:"
                    f" {shown}; {imports[name]['count']} modules imported in all | {verdict(not bad)} |")
    return rows


def report(results: Results, runs: int, big_runs: int, warmup: int) -> str:
    argocd = results.small[1]
    logged, walls = logged_durations(argocd), argocd.walls_ms()
    lines = [
        f"Cold runs (each a fresh process), {runs} rounds after {warmup} warm-up (1 MiB base: {big_runs} rounds "
        "after 1), subjects interleaved; Python bytecode compiled beforehand, as in an installed package.",
        "",
        *subject_rows(results),
        "",
        *target_rows(results),
        "",
        f"Peak RSS floor: `/bin/true` started the same way peaks at {fmt(max(results.floor.rss_mib()))} MiB; "
        "a figure above it is the child's own peak.",
        f"Argo CD's log line: duration_ms median {fmt(statistics.median(logged))} ms "
        f"(wall time measured from outside: median {fmt(statistics.median(walls))} ms).",
        f"One directory: `{results.big_dir}` (largest build: "
        + ", ".join(f"`{d}` {n} B" for d, n in results.sizes.items()) + ").",
        f"1 MiB base: the example's Deployment with {results.entries} env entries, {BIG_BYTES} bytes at most; "
        "kustomize builds the seed's two color directories, each with the same Deployment body, in one process.",
        "",
        *(f"- {k}: {v}" for k, v in results.info.items()),
    ]
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="measured rounds (default 30)")
    parser.add_argument("--big-runs", type=int, default=10, help="measured rounds of the 1 MiB case (default 10)")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured rounds first (default 3)")
    parser.add_argument("--bgrender", default=None,
                        help="the bgrender console script to time (default: the checkout, installed as the "
                             "sidecar image installs it, in a temporary venv)")
    parser.add_argument("--python", default=sys.executable,
                        help="the interpreter to install the checkout with (default: this one); pip is this "
                             "one's, as the image's build uses the base image's pip from outside the venv")
    parser.add_argument("--kubectl", default=shutil.which("kubectl") or "kubectl",
                        help="kubectl with built-in kustomize (default: from PATH)")
    parser.add_argument("--skip-import-check", action="store_true",
                        help="do not check the render's imports (e.g. for a stand-in --bgrender)")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.big_runs < 1 or args.warmup < 0:
        parser.error("--runs and --big-runs must be at least 1 and --warmup at least 0")
    # The launcher changes directory before it executes them: make both paths absolute.
    if args.bgrender is not None:
        args.bgrender = os.path.abspath(args.bgrender)
    args.kubectl = shutil.which(args.kubectl) or args.kubectl
    return args


def install_like_the_image(venv: Path, interpreter: str) -> str:
    """The checkout installed as the Dockerfile installs it, into a venv of `interpreter`;
    returns its console script."""
    python = venv / "bin" / "python"
    capture([interpreter, "-m", "venv", "--without-pip", str(venv)], "creating a venv")
    capture([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
             "--disable-pip-version-check", str(REPO)], "pip install (bgrender into the benchmark's venv)")
    capture([str(python), "-m", "compileall", "-q", "-f", "--invalidation-mode", "unchecked-hash",
             str(venv / "lib")], "compileall")
    # The image's own console script (image/bgrender), its shebang this venv's python; pip's
    # stays beside it as bgrender-pip, for the local path of a plain `pip install`.
    script = venv / "bin" / "bgrender"
    script.rename(venv / "bin" / PIP_SCRIPT)
    launcher = (REPO / "image" / "bgrender").read_text().split("\n", 1)[1]
    script.write_text(f"#!{python}\n{launcher}")
    script.chmod(0o755)
    return str(script)


def child_envs(pycache: str | None) -> tuple[dict[str, str], dict[str, str]]:
    """The local environment (no Argo CD variables) and Argo CD's. Without `pycache`, as in
    the image: bytecode compiled at install, never written at run time."""
    local = {k: v for k, v in os.environ.items()
             if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX") and not k.startswith(("ARGOCD_", "KUBE_"))}
    if pycache:
        local["PYTHONPYCACHEPREFIX"] = pycache
    else:
        local["PYTHONDONTWRITEBYTECODE"] = "1"
    return local, {**local, **ARGOCD_ENV}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bgrender-bench-") as work:
        launcher = None
        try:
            launcher = Launcher(work)
            results = bench(args, Path(work), launcher)
        except BenchError as err:
            print(f"bench/run.py: {err}", file=sys.stderr)
            return 1
        finally:
            if launcher:
                launcher.close()
    print(report(results, args.runs, args.big_runs, args.warmup))
    return 0


def other_subjects(bgrender: str, envs: tuple[dict[str, str], dict[str, str]], work: Path) -> list[Subject]:
    """The templated app, `--output json`, the 50-resource app and the edits, in that order."""
    local_env, argocd_env = envs
    render = [bgrender, "render"]
    templated, many = make_templated_case(work), make_many_case(work, bgrender)
    return [
        Subject("`bgrender render`, templated app without a lock, Argo CD's env",
                [Command(render, templated, argocd_env)]),
        Subject("`bgrender render --output json` (examples/gorilla-sfx-demo), Argo CD's env",
                [Command([*render, "--output", "json"], EXAMPLE, argocd_env)]),
        Subject("`bgrender render`, 50 resources and 20 ConfigMaps, Argo CD's env",
                [Command(render, many, argocd_env)]),
        Subject("`bgrender release 5d7e9f01` (a copy of the example)",
                [edit_command(bgrender, work, ["release", "5d7e9f01"], local_env, None)]),
        Subject("`bgrender promote` (a copy of the example)",
                [edit_command(bgrender, work, ["promote"], local_env, None)]),
        Subject("`bgrender rollback` (a copy of the example, promoted)",
                [edit_command(bgrender, work, ["rollback"], local_env, ["promote"])]),
    ]


def subjects(bgrender: str, kubectl: str, envs: tuple[dict[str, str], dict[str, str]], work: Path,
             big_dir: str) -> tuple[list[Subject], list[Subject], int]:
    local_env, argocd_env = envs
    render = [bgrender, "render"]

    def kustomize(path: Path) -> Command:
        return Command([kubectl, "kustomize", str(path)], REPO, local_env)

    small = [
        Subject("`bgrender render` (examples/gorilla-sfx-demo), local", [Command(render, EXAMPLE, local_env)]),
        Subject("`bgrender render` (examples/gorilla-sfx-demo), Argo CD's env",
                [Command(render, EXAMPLE, argocd_env)]),
        Subject(f"`kubectl kustomize` one seed dir (`{big_dir}`)", [kustomize(SEED / big_dir)]),
        Subject("`kubectl kustomize` × 4 seed dirs (one seed release)", [kustomize(SEED / d) for d in SEED_DIRS]),
    ]
    app, layout, entries = make_big_case(work / "big")
    check_big_case(bgrender, kubectl, app, layout, argocd_env)
    big = [Subject("`bgrender render`, 1 MiB base, both colors, Argo CD's env", [Command(render, app, argocd_env)]),
           Subject("`kubectl kustomize`, 1 MiB base, both colors", [kustomize(layout)])]
    return small, big, entries


def measure(launcher: Launcher, group: list[Subject], rounds: int, warmup: int) -> None:
    for subject in group:  # fills the private bytecode cache before anything is timed
        launcher.run_subject(subject)
    for i in range(warmup + rounds):
        for subject in group:
            sample = launcher.run_subject(subject)
            if i >= warmup:
                subject.samples.append(sample)


def bench(args: argparse.Namespace, work: Path, launcher: Launcher) -> Results:
    load_before = os.getloadavg()[0]
    installed = args.bgrender is None
    bgrender = install_like_the_image(work / "venv", args.python) if installed else args.bgrender
    if not os.access(bgrender, os.X_OK):
        raise BenchError(f"no executable bgrender at {bgrender} (see --bgrender)")
    big_dir, sizes = biggest_seed_dir(args.kubectl)
    envs = child_envs(None if installed else str(work / "pycache"))
    small, big, entries = subjects(bgrender, args.kubectl, envs, work, big_dir)
    other = other_subjects(bgrender, envs, work)
    floor = Subject("`/bin/true` (the launcher's floor)", [Command(["/bin/true"], REPO, {})])
    pip_script = str(Path(bgrender).with_name(PIP_SCRIPT))
    pip = Subject("`bgrender render` (examples/gorilla-sfx-demo), local, pip's console script",
                  [Command([pip_script, "render"], EXAMPLE, envs[0])]) if installed else None
    python, imports = None, None
    if not args.skip_import_check:
        python = script_python(bgrender)
        imports = {name: check_imports(python, bgrender, c.env)
                   for name, c in (("local", small[0].commands[0]), ("Argo CD", small[1].commands[0]))}
    measure(launcher, [*small, *([pip] if pip else []), *other, floor], args.runs, args.warmup)
    measure(launcher, big, args.big_runs, 1)
    info = versions(python, args.kubectl)
    info["bgrender timed"] = ("the checkout, installed as the sidecar image installs it" if installed
                              else f"`{bgrender}`")
    info["load average (1 min)"] = f"{load_before:.2f} before, {os.getloadavg()[0]:.2f} after"
    return Results(small, other, big, floor, pip, imports, info, sizes, big_dir, entries)


if __name__ == "__main__":
    sys.exit(main())
