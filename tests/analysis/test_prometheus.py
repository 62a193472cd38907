"""`bgrender analyze` against a real Prometheus (DESIGN §17): Debian's `prometheus`, started on
loopback, scraping a target these tests serve (prometheus_harness.METRICS). No mock on these
paths: the samples, the empty vector, the NaN, the slow answer and the refused connection are
Prometheus' own, or the network's.

The command runs as the hook Job runs it (`bgrender analyze --rendered`, the analysis in
$BGRENDER_ANALYSIS) and as a person runs it (`bgrender analyze PATH --color C --address URL`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from ..conftest import BGRENDER, GOLDEN, clean_env
from . import prometheus_harness as harness

pytestmark = pytest.mark.skipif(
    harness.binary() is None,
    reason="the `prometheus` binary is not on PATH (Debian: apt-get install prometheus; .ci/run installs it)")

GREEN_ERRORS = 'bg_error_ratio{version="{{ version }}"}'


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory):
    target = harness.serve_metrics()
    server = harness.Prometheus(tmp_path_factory.mktemp("prometheus"), target.port)
    try:
        # Every series of the target scraped at least once (the NaN one included).
        server.wait_for_samples('{__name__=~"bg_.*"}', 5)
        yield server
    finally:
        server.stop()
        target.close()


def run_of(prometheus_url: str, *queries: dict, color: str = "green", **settings) -> dict:
    return {"color": color, "address": prometheus_url, "interval": 1, "count": 1, "failureLimit": 0,
            "inconclusiveLimit": 0, "timeoutSeconds": 5, "queries": list(queries), **settings}


def query(name: str, promql: str, **condition) -> dict:
    return {"name": name, "query": promql, **(condition or {"successCondition": "result < 0.01"})}


class Analyzed:
    def __init__(self, done: subprocess.CompletedProcess, seconds: float):
        self.code, self.stderr, self.seconds = done.returncode, done.stderr, seconds
        self.lines = [json.loads(line) for line in done.stdout.splitlines()]
        assert all(line.isascii() for line in done.stdout.splitlines())

    @property
    def results(self) -> list[str]:
        return [line["result"] for line in self.lines]


def analyze_rendered(run: dict, timeout: float = 120) -> Analyzed:
    """As the hook Job runs it."""
    return _analyze([BGRENDER, "analyze", "--rendered"], {"BGRENDER_ANALYSIS": json.dumps(run)}, timeout)


def _analyze(argv: list[str], env: dict[str, str], timeout: float = 120, cwd: Path | None = None) -> Analyzed:
    started = time.monotonic()
    done = subprocess.run(argv, env=clean_env(env), capture_output=True, text=True, timeout=timeout, cwd=cwd,
                          stdin=subprocess.DEVNULL)
    return Analyzed(done, time.monotonic() - started)


def test_prometheus_is_a_real_build(prometheus):
    assert harness.version().startswith("prometheus, version ")


def test_passes_when_every_sample_meets_the_success_condition(prometheus):
    run = run_of(prometheus.url, query("error-rate", 'bg_error_ratio{version="v2"}'), count=2)
    analyzed = analyze_rendered(run)
    assert analyzed.code == 0, analyzed.stderr
    assert analyzed.results == ["passed", "passed"]
    assert [line["measurement"] for line in analyzed.lines] == [1, 2]
    assert analyzed.lines[0] == {"color": "green", "query": "error-rate", "measurement": 1, "of": 2,
                                 "result": "passed", "condition": "result < 0.01", "values": ["0.002"]}
    assert "analysis of green passed" in analyzed.stderr


def test_a_scalar_result_is_one_sample(prometheus):
    analyzed = analyze_rendered(run_of(prometheus.url, query("error-rate", 'scalar(bg_error_ratio{version="v2"})')))
    assert (analyzed.code, analyzed.results, analyzed.lines[0]["values"]) == (0, ["passed"], ["0.002"])


def test_fails_once_failures_pass_the_failure_limit(prometheus):
    """failureLimit 1: the first failure is tolerated, the second ends the analysis (exit 1),
    without measuring the third."""
    run = run_of(prometheus.url, query("error-rate", 'bg_error_ratio{version="v1"}'), count=3, failureLimit=1)
    analyzed = analyze_rendered(run)
    assert analyzed.code == 1, analyzed.stderr
    assert analyzed.results == ["failed", "failed"]
    assert analyzed.lines[-1]["reason"] == '1 of 1 sample(s) does not meet "result < 0.01"'
    assert "failed 2 measurement(s), more than failureLimit 1" in analyzed.stderr


def test_fails_at_the_first_failure_with_no_limit(prometheus):
    analyzed = analyze_rendered(run_of(prometheus.url, query("error-rate", "bg_error_ratio"), count=3))
    assert (analyzed.code, analyzed.results) == (1, ["failed"])  # v1's 0.2 fails, whatever v2 says


def test_a_failure_condition_met_by_one_sample_of_the_vector_fails(prometheus):
    latency = query("p99-latency", 'bg_latency_ms{version="v2"}', failureCondition="result >= 500")
    analyzed = analyze_rendered(run_of(prometheus.url, latency))
    assert analyzed.code == 1
    assert sorted(analyzed.lines[0]["values"]) == ["120", "640"]
    assert analyzed.lines[0]["reason"] == '1 of 2 sample(s) meets "result >= 500"'


def test_an_empty_vector_is_inconclusive(prometheus):
    """inconclusiveLimit 1: one empty answer is tolerated, the second ends it inconclusive (exit 3)."""
    run = run_of(prometheus.url, query("error-rate", 'bg_error_ratio{version="nope"}'), count=3, inconclusiveLimit=1)
    analyzed = analyze_rendered(run)
    assert analyzed.code == 3, analyzed.stderr
    assert analyzed.results == ["inconclusive", "inconclusive"]
    assert analyzed.lines[0]["reason"] == "no sample: the query matched no series"
    assert "inconclusive 2 time(s), more than inconclusiveLimit 1" in analyzed.stderr


def test_a_nan_sample_is_inconclusive(prometheus):
    analyzed = analyze_rendered(run_of(prometheus.url, query("unknown", "bg_unknown", failureCondition="result > 1")))
    assert (analyzed.code, analyzed.results) == (3, ["inconclusive"])
    assert analyzed.lines[0]["values"] == ["NaN"] and analyzed.lines[0]["reason"] == "a sample is NaN"


def test_inconclusive_measurements_within_the_limit_still_pass(prometheus):
    """A query that is inconclusive once (inconclusiveLimit 1) and a passing one: passed."""
    run = run_of(prometheus.url, query("error-rate", 'bg_error_ratio{version="v2"}'),
                 query("unknown", "bg_unknown", failureCondition="result > 1"), inconclusiveLimit=1)
    analyzed = analyze_rendered(run)
    assert (analyzed.code, analyzed.results) == (0, ["passed", "inconclusive"])


def test_a_range_vector_or_a_bad_query_is_inconclusive_with_prometheus_reason(prometheus):
    matrix = analyze_rendered(run_of(prometheus.url, query("error-rate", "bg_error_ratio[1m]")))
    assert matrix.code == 3 and "not an instant vector or a scalar" in matrix.lines[0]["reason"]
    broken = analyze_rendered(run_of(prometheus.url, query("error-rate", "sum(bg_error_ratio")))
    assert broken.code == 3 and broken.lines[0]["reason"].startswith("HTTP 400: Prometheus says ")


def test_prometheus_down_is_inconclusive_and_exits_3(prometheus):
    down = f"http://127.0.0.1:{harness.free_port()}"
    analyzed = analyze_rendered(run_of(down, query("error-rate", "bg_error_ratio"), count=3, inconclusiveLimit=1))
    assert analyzed.code == 3, analyzed.stderr
    assert analyzed.results == ["inconclusive", "inconclusive"]
    assert "cannot reach" in analyzed.lines[0]["reason"] and "refused" in analyzed.lines[0]["reason"]


def test_a_prometheus_that_never_answers_is_cut_at_timeout_seconds(prometheus):
    proxy = harness.HoldingProxy(prometheus.port, delay=None)
    try:
        run = run_of(f"http://127.0.0.1:{proxy.port}", query("error-rate", "bg_error_ratio"), timeoutSeconds=2)
        analyzed = analyze_rendered(run, timeout=60)
    finally:
        proxy.close()
    assert (analyzed.code, analyzed.results) == (3, ["inconclusive"])
    assert analyzed.lines[0]["reason"] == "no answer within 2 s"
    assert analyzed.seconds < 2 + 15  # the timeout, plus starting Python on a busy machine


def test_an_answer_dribbled_byte_by_byte_is_cut_at_timeout_seconds():
    """Every read gets a byte before its own timeout; the whole is still bounded."""
    server = harness.Dribbler()
    try:
        run = run_of(f"http://127.0.0.1:{server.port}", query("error-rate", "bg_error_ratio"), timeoutSeconds=2)
        analyzed = analyze_rendered(run, timeout=60)
    finally:
        server.close()
    assert (analyzed.code, analyzed.results) == (3, ["inconclusive"])
    assert analyzed.lines[0]["reason"] == "no answer within 2 s"
    assert analyzed.seconds < 2 + 15


def test_a_slow_prometheus_within_timeout_seconds_is_waited_for(prometheus):
    proxy = harness.HoldingProxy(prometheus.port, delay=1.5)
    try:
        run = run_of(f"http://127.0.0.1:{proxy.port}", query("error-rate", 'bg_error_ratio{version="v2"}'),
                     timeoutSeconds=10)
        analyzed = analyze_rendered(run, timeout=60)
    finally:
        proxy.close()
    assert (analyzed.code, analyzed.results) == (0, ["passed"]), analyzed.stderr
    assert analyzed.seconds >= 1.5


# --- the Job as rendered, and the terminal form ------------------------------------------------

def _app(tmp_path: Path, prometheus_url: str) -> Path:
    """The golden case with analysis, measuring the test target's series: blue runs v1, green v2."""
    case = GOLDEN / "render" / "analysis-manual-before-after-idle"
    app = tmp_path / "app"
    shutil.copytree(case, app)
    intent = yaml.safe_load((app / "bluegreen.yaml").read_text())
    intent["spec"]["blue"]["version"], intent["spec"]["green"]["version"] = "v1", "v2"
    intent["spec"]["promotion"]["analysis"].update(
        address=prometheus_url, interval=1, count=2, failureLimit=0, inconclusiveLimit=0,
        queries=[query("error-rate", 'bg_error_ratio{version="{{ version }}"}'),
                 query("latency", 'bg_latency_ms{version="{{ version }}", pod="a"}', failureCondition="result > 250")])
    (app / "bluegreen.yaml").write_text(yaml.safe_dump(intent))
    return app


def _rendered_job(app: Path, name: str) -> dict:
    done = subprocess.run([BGRENDER, "render", str(app)], env=clean_env(), capture_output=True, text=True,
                          timeout=60, check=True)
    return next(o for o in yaml.safe_load_all(done.stdout) if o["metadata"]["name"] == name)


def test_the_rendered_job_runs_as_rendered(prometheus, tmp_path):
    """The Job's command and environment, exactly as rendered, with `bgrender` found on PATH as
    in the bgrender image."""
    app = _app(tmp_path, prometheus.url)
    intent = yaml.safe_load((app / "bluegreen.yaml").read_text())
    intent["spec"]["active"] = "green"  # green takes production: `before` measures it
    (app / "bluegreen.yaml").write_text(yaml.safe_dump(intent))
    (container,) = _rendered_job(app, "web-analysis-before")["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e["value"] for e in container["env"]}
    path = {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    analyzed = _analyze(container["command"], {**env, **path})
    assert analyzed.code == 0, analyzed.stderr
    assert [(line["query"], line["result"]) for line in analyzed.lines] == [
        ("error-rate", "passed"), ("latency", "passed"), ("error-rate", "passed"), ("latency", "passed")]


def test_the_idle_job_measures_the_idle_color(prometheus, tmp_path):
    """Manual mode: blue serves (v1, 0.2 errors), green is idle (v2); the idle Job measures green."""
    app = _app(tmp_path, prometheus.url)
    for name, expected_code in (("web-analysis-idle", 0), ("web-analysis-before", 1)):
        (container,) = _rendered_job(app, name)["spec"]["template"]["spec"]["containers"]
        env = {e["name"]: e["value"] for e in container["env"]}
        analyzed = _analyze([BGRENDER, *container["command"][1:]], env)
        assert analyzed.code == expected_code, (name, analyzed.stderr)


def test_from_a_terminal_with_another_address(prometheus, tmp_path):
    app = _app(tmp_path, "http://prometheus.monitoring:9090")  # not reachable here: --address replaces it
    analyzed = _analyze([BGRENDER, "analyze", str(app), "--color", "green", "--address", prometheus.url], {})
    assert analyzed.code == 0, analyzed.stderr
    assert analyzed.results == ["passed"] * 4 and analyzed.lines[0]["values"] == ["0.002"]
    blue = _analyze([BGRENDER, "analyze", "--color", "blue", "--address", prometheus.url], {}, cwd=app)
    assert (blue.code, blue.results) == (1, ["failed"])
