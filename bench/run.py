#!/usr/bin/env python3
"""Benchmark: a cold `bgrender render` beside `kubectl kustomize` of the seed post's layout.

Every measured run is a fresh process (spawned with Popen, reaped with os.wait4 so that the
kernel reports its peak resident set size). Runs of the three subjects are interleaved, so a
burst of background load hits all of them alike:

  bgrender   `bgrender render examples/gorilla-sfx-demo`: the whole release, one process
  one dir    `kubectl kustomize` of the seed layout's biggest directory (largest output)
  four dirs  `kubectl kustomize` of the four directories the post's Argo CD apps point at,
             one after another: what rendering one seed release costs

Python children run as an installed package runs in the sidecar image: with compiled
bytecode. They get a private, temporary bytecode cache (PYTHONPYCACHEPREFIX, and
PYTHONDONTWRITEBYTECODE unset), filled before anything is timed; without it, a checkout
installed in editable mode under PYTHONDONTWRITEBYTECODE=1 recompiles bgrender on every run.

It also checks that the plain render path imports neither `kubernetes` nor `jinja2`, then
prints a markdown report. It reports and does not gate: the exit status is 0 whatever the
figures, and non-zero only when something could not be run (with a message on stderr).

Standard library only. Run it with the project's venv python:

    .venv/bin/python bench/run.py [--runs 30] [--warmup 3] [--bgrender PATH] [--kubectl PATH]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = "examples/gorilla-sfx-demo"  # relative to REPO, which is the working directory
SEED = REPO / "bench" / "seed-layout" / "gorilla-sfx-demo" / "eks"
# The directories the post's four Argo CD Applications point at. The root one is not
# recursive: its kustomization.yaml lists only the Service and the DestinationRule.
SEED_DIRS = (".", "deployment/blue", "deployment/green", "virtualservice")

WALL_RATIO_TARGET = 0.8  # bgrender median wall <= 0.8 x one `kubectl kustomize` of one dir
RSS_TARGET_MIB = 30.0  # bgrender peak RSS, every run
FORBIDDEN_MODULES = ("kubernetes", "jinja2")
MARKER = "BGRENDER-BENCH-MODULES:"


class BenchError(Exception):
    """Something could not be run; the benchmark has no figures to report."""


@dataclass
class Sample:
    wall_ns: int
    cpu_s: float  # user + system; less disturbed than wall time by other load on the machine
    maxrss_kib: int


@dataclass
class Subject:
    label: str
    commands: list[list[str]]  # run one after another; one sample is their sum (wall) and max (RSS)
    samples: list[Sample] = field(default_factory=list)

    def walls_ms(self) -> list[float]:
        return [s.wall_ns / 1e6 for s in self.samples]

    def cpus_ms(self) -> list[float]:
        return [s.cpu_s * 1e3 for s in self.samples]

    def rss_mib(self) -> list[float]:
        return [s.maxrss_kib / 1024 for s in self.samples]


def child_env(pycache: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = pycache
    return env


def run_once(argv: list[str], env: dict[str, str]) -> Sample:
    """One cold run: a fresh process, stdout discarded; its wall time and peak RSS."""
    start = time.perf_counter_ns()
    try:
        proc = subprocess.Popen(argv, cwd=REPO, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    except OSError as err:
        raise BenchError(f"cannot start {argv[0]}: {err}") from err
    # Reading stderr to EOF before reaping keeps a chatty child from blocking on a full
    # pipe; os.wait4 (not proc.wait) is what hands back the child's rusage.
    stderr = proc.stderr.read() if proc.stderr else b""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter_ns() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # so Popen never waits again
    if proc.stderr:
        proc.stderr.close()
    if proc.returncode != 0:
        detail = stderr.decode(errors="replace").strip()[-2000:]
        raise BenchError(f"`{' '.join(argv)}` exited {proc.returncode}"
                         + (f":\n{detail}" if detail else ""))
    # ru_maxrss is in KiB on Linux
    return Sample(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss)


def run_subject(subject: Subject, env: dict[str, str]) -> Sample:
    parts = [run_once(argv, env) for argv in subject.commands]
    return Sample(sum(p.wall_ns for p in parts), sum(p.cpu_s for p in parts),
                  max(p.maxrss_kib for p in parts))


def capture(argv: list[str], what: str) -> subprocess.CompletedProcess[str]:
    try:
        done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, check=False)
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


def console_script(script: str) -> tuple[str, str, str]:
    """A console script's python (its shebang, else a `python` beside it) and entry point."""
    try:
        with open(script, "rb") as fh:
            text = fh.read(65536).decode(errors="replace")
    except OSError as err:
        raise BenchError(f"cannot read {script}: {err}") from err
    first = text.splitlines()[0] if text else ""
    if first.startswith("#!") and "python" in first:
        python = first[2:].split()[0]
    elif (Path(script).parent / "python").exists():
        python = str(Path(script).parent / "python")
    else:
        raise BenchError(f"{script} is not a Python console script; cannot check its imports"
                         " (--skip-import-check)")
    entry = re.search(r"^from ([\w.]+) import (\w+)$", text, re.MULTILINE)
    return (python, *(entry.groups() if entry else ("bgrender.__main__", "main")))


# Runs the console script's entry point exactly as `bgrender render EXAMPLE` would, then
# reports which modules the process imported. The report is written in `finally`, so it
# appears even when main() calls sys.exit; the exit status is kept and checked.
_IMPORT_PROBE = """
import importlib, json, sys
module, attr, example, forbidden_roots, marker = sys.argv[1:6]
sys.argv = ["bgrender", "render", example]
status = 1  # unless main returns or exits cleanly
try:
    main = getattr(importlib.import_module(module), attr)
    result = main()
    status = result if isinstance(result, int) else 0
except SystemExit as exit_:
    code = exit_.code
    status = code if isinstance(code, int) else (0 if code is None else 1)
finally:
    sys.stdout.flush()
    names = sorted(sys.modules)
    found = {m: [n for n in names if n == m or n.startswith(m + ".")]
             for m in forbidden_roots.split(",")}
    sys.stderr.write(marker + json.dumps({"status": status, "forbidden": found,
                                          "count": len(names)}) + "\\n")
sys.exit(status)
"""


def check_imports(python: str, module: str, attr: str, env: dict[str, str]) -> dict:
    argv = [python, "-c", _IMPORT_PROBE, module, attr, EXAMPLE, ",".join(FORBIDDEN_MODULES), MARKER]
    try:
        done = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True,
                              check=False)
    except OSError as err:
        raise BenchError(f"cannot run the import check with {python}: {err}") from err
    reports = [line[len(MARKER):] for line in done.stderr.splitlines() if line.startswith(MARKER)]
    if not reports:
        raise BenchError(f"the import check did not report (exit {done.returncode}):\n"
                         f"{done.stderr.strip()[-2000:]}")
    report = json.loads(reports[-1])
    if report["status"] != 0 or done.returncode != 0:
        stderr = "\n".join(line for line in done.stderr.splitlines() if not line.startswith(MARKER))
        raise BenchError(f"the import check's render failed (exit {done.returncode}):\n"
                         f"{stderr.strip()[-2000:]}")
    if not done.stdout.strip():
        raise BenchError("the import check's render printed nothing")
    return report


def p90(values: list[float]) -> float:
    """Nearest-rank 90th percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


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


def report(subjects: list[Subject], imports: dict | None, info: dict[str, str],
           sizes: dict[str, int], big: str, runs: int, warmup: int) -> str:
    bg, one, four = subjects
    lines = [
        f"Cold runs (each a fresh process), {runs} measured after {warmup} warm-up, interleaved;",
        "Python bytecode compiled beforehand, as in an installed package.",
        "",
        "| command | median wall ms | p90 wall ms | median CPU ms | median peak RSS MiB "
        "| max peak RSS MiB |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in subjects:
        w, r = s.walls_ms(), s.rss_mib()
        lines.append(f"| {s.label} | {fmt(statistics.median(w))} | {fmt(p90(w))} | "
                     f"{fmt(statistics.median(s.cpus_ms()))} | "
                     f"{fmt(statistics.median(r))} | {fmt(max(r))} |")
    bg_wall = statistics.median(bg.walls_ms())
    ratio_one = bg_wall / statistics.median(one.walls_ms())
    ratio_four = bg_wall / statistics.median(four.walls_ms())
    bg_rss = max(bg.rss_mib())
    lines += [
        "",
        "| target | measured | result |",
        "| --- | --- | --- |",
        f"| median wall ≤ {WALL_RATIO_TARGET} × `kubectl kustomize` of one directory | "
        f"{ratio_one:.2f} × | {verdict(ratio_one <= WALL_RATIO_TARGET)} |",
        f"| (for scale) median wall vs the four builds of one seed release | "
        f"{ratio_four:.2f} × | - |",
        f"| peak RSS ≤ {RSS_TARGET_MIB:.0f} MiB (max over runs) | {fmt(bg_rss)} MiB | "
        f"{verdict(bg_rss <= RSS_TARGET_MIB)} |",
    ]
    if imports is None:
        lines.append("| plain render imports neither `kubernetes` nor `jinja2` | not checked | - |")
    else:
        found = {root: len(names) for root, names in imports["forbidden"].items() if names}
        shown = ", ".join(f"`{root}` ({n} modules)" for root, n in found.items())
        lines.append("| plain render imports neither `kubernetes` nor `jinja2` | "
                     f"{'imports ' + shown if found else 'neither'}; "
                     f"{imports['count']} modules loaded in all | {verdict(not found)} |")
    lines += ["", f"One directory: `{big}` (largest build: " +
              ", ".join(f"`{d}` {n} B" for d, n in sizes.items()) + ")."]
    lines += ["", *(f"- {k}: {v}" for k, v in info.items())]
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30,
                        help="measured runs per subject (default 30)")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured runs first (default 3)")
    parser.add_argument("--bgrender", default=str(REPO / ".venv" / "bin" / "bgrender"),
                        help="the bgrender console script (default <repo>/.venv/bin/bgrender)")
    parser.add_argument("--kubectl", default=shutil.which("kubectl") or "kubectl",
                        help="kubectl with built-in kustomize (default: from PATH)")
    parser.add_argument("--skip-import-check", action="store_true",
                        help="do not check the render's imports (e.g. for a stand-in --bgrender)")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.warmup < 0:
        parser.error("--runs must be at least 1 and --warmup at least 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bgrender-bench-pycache-") as pycache:
        return bench(args, child_env(pycache))


def bench(args: argparse.Namespace, env: dict[str, str]) -> int:
    load_before = os.getloadavg()[0]
    try:
        if not os.access(args.bgrender, os.X_OK):
            raise BenchError(f"no executable bgrender at {args.bgrender} (see --bgrender)")
        big, sizes = biggest_seed_dir(args.kubectl)
        subjects = [
            Subject(f"`bgrender render {EXAMPLE}`", [[args.bgrender, "render", EXAMPLE]]),
            Subject(f"`kubectl kustomize` one dir (`{big}`)",
                    [[args.kubectl, "kustomize", str(SEED / big)]]),
            Subject("`kubectl kustomize` × 4 dirs (one seed release)",
                    [[args.kubectl, "kustomize", str(SEED / d)] for d in SEED_DIRS]),
        ]
        python, imports = None, None
        if not args.skip_import_check:
            python, module, attr = console_script(args.bgrender)
            imports = check_imports(python, module, attr, env)
        run_subject(subjects[0], env)  # compiles bgrender's bytecode into the private cache
        for i in range(args.warmup + args.runs):
            for subject in subjects:
                sample = run_subject(subject, env)
                if i >= args.warmup:
                    subject.samples.append(sample)
        info = versions(python, args.kubectl)
        info["load average (1 min)"] = f"{load_before:.2f} before, {os.getloadavg()[0]:.2f} after"
    except BenchError as err:
        print(f"bench/run.py: {err}", file=sys.stderr)
        return 1
    print(report(subjects, imports, info, sizes, big, args.runs, args.warmup))
    return 0


if __name__ == "__main__":
    sys.exit(main())
