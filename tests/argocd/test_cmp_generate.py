"""bgrender as Argo CD runs it: plugin.yaml's generate command on a staged repository copy.

Every request goes through tests/argocd/cmp_harness/, which does what argocd-cmp-server
does (shared/reference/argocd-cmp-contract.md §10).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

import cmp_harness as cmp
from argocd_testenv import EXAMPLES, REPO_ROOT, TEST_APPS

EXAMPLE_APPS = ["gorilla-sfx-demo", "checkout-auto"]
ISTIO_KINDS = {"VirtualService"}  # routing by host: no DestinationRule (DESIGN §16)
FAILURES = Path(__file__).resolve().parent / "failures"
UPDATE_GOLDEN = os.environ.get("BGRENDER_UPDATE_GOLDEN") == "1"


def app_for(path: str, **fields) -> cmp.Application:
    return cmp.Application(name=Path(path).name, path=path, **fields)


def log_lines(result: cmp.CommandResult) -> list[dict]:
    return [json.loads(line) for line in result.stderr.decode().splitlines()]


# --- discovery -------------------------------------------------------------------------------


def test_discovery_matches_app_directories_only(plugin_config):
    assert all(cmp.discovery_matches(plugin_config, EXAMPLES / app) for app in EXAMPLE_APPS)
    assert cmp.discovery_matches(plugin_config, TEST_APPS / "web")
    assert not cmp.discovery_matches(plugin_config, EXAMPLES)  # no bluegreen.yaml of its own
    assert not cmp.discovery_matches(plugin_config, EXAMPLES / "argocd")


# --- generate ---------------------------------------------------------------------------------


@pytest.mark.parametrize("app_path", EXAMPLE_APPS)
def test_examples_render_as_argo_cd_receives_them(generate, app_path):
    response = generate(app_for(app_path, destination_namespace="shop"))
    kinds = [obj["kind"] for obj in response.manifests]
    assert {"Deployment", "Service", *ISTIO_KINDS} <= set(kinds)
    assert all(obj.get("apiVersion") and obj["metadata"].get("name") for obj in response.manifests)
    assert response.changed_in_repo_copy == []


@pytest.mark.parametrize("environment", ["staging", "prod-eu", "prod-us"])
def test_environments_read_their_shared_base_in_argo_cds_copy_of_the_repository(generate, environment):
    """examples/environments/envs/*: ../../base lies outside the app directory, inside the
    repository Argo CD unpacked (its root: the working directory less ARGOCD_APP_SOURCE_PATH)."""
    response = generate(app_for(f"environments/envs/{environment}"))
    config = {obj["metadata"]["name"]: obj for obj in response.manifests if obj["kind"] == "ConfigMap"}
    assert any("application.yaml" in c.get("data", {}) for c in config.values())
    assert response.changed_in_repo_copy == []


def test_auto_promotion_example_carries_its_smoke_test(generate):
    response = generate(app_for("checkout-auto"))
    jobs = {obj["metadata"]["name"]: obj for obj in response.manifests if obj["kind"] == "Job"}
    assert jobs["checkout-smoke-test"]["metadata"]["annotations"]["argocd.argoproj.io/hook"] == "Sync"


@pytest.mark.parametrize("app_path", EXAMPLE_APPS)
def test_local_render_with_the_same_environment_is_byte_identical(generate, sidecar_env, app_path):
    app = app_for(app_path, destination_namespace="shop")
    response = generate(app)
    env = cmp.build_env(app, sidecar_env)
    local = subprocess.run(["bgrender", "render", str(EXAMPLES / app_path)], cwd=REPO_ROOT, env=env,
                           capture_output=True, check=True)
    assert local.stdout == response.result.stdout
    # The preview the docs show: only the variables that change the output.
    preview_env = {k: env[k] for k in ("PATH", "HOME", "ARGOCD_APP_NAMESPACE", "KUBE_API_VERSIONS")}
    preview = subprocess.run(["bgrender", "render", f"examples/{app_path}"], cwd=REPO_ROOT,
                             env=preview_env, capture_output=True, check=True)
    assert preview.stdout == response.result.stdout
    assert preview.stderr == b""  # quiet locally on success


def test_namespace_comes_from_the_destination_when_the_intent_has_none(generate):
    response = generate(app_for("web", destination_namespace="shop"), repository=TEST_APPS)
    assert {obj["metadata"].get("namespace") for obj in response.manifests} == {"shop"}


def test_no_destination_namespace_leaves_objects_without_one(generate):
    response = generate(app_for("web", destination_namespace=""), repository=TEST_APPS)
    assert all("namespace" not in obj["metadata"] for obj in response.manifests)


def test_namespace_in_the_intent_wins_over_the_destination(generate):
    response = generate(app_for("gorilla-sfx-demo", destination_namespace="elsewhere"))
    assert {obj["metadata"].get("namespace") for obj in response.manifests} == {"default"}


@pytest.mark.parametrize(
    ("served", "expected"),
    [
        (("networking.istio.io/v1alpha3", "networking.istio.io/v1beta1"), "networking.istio.io/v1beta1"),
        (("networking.istio.io/v1alpha3",), "networking.istio.io/v1alpha3"),
        (("networking.istio.io/v1", "networking.istio.io/v1beta1"), "networking.istio.io/v1"),
    ],
)
def test_istio_api_is_the_newest_the_cluster_serves(generate, served, expected):
    api_versions = tuple(sorted({"apps/v1", "apps/v1/Deployment", "v1", "v1/Service", *served}))
    response = generate(app_for("web", api_versions=api_versions), repository=TEST_APPS)
    assert {o["apiVersion"] for o in response.manifests if o["kind"] in ISTIO_KINDS} == {expected}


# --- parameters: none announced, none accepted -------------------------------------------------


@pytest.mark.parametrize(
    "plugin",
    [None, cmp.PluginSource(), cmp.PluginSource(name="bgrender-v1", env=(("BGRENDER_LOG_LEVEL", "info"),))],
    ids=["no-plugin-block", "plugin-block-sends-null", "by-name-with-env"],
)
def test_requests_without_parameters_render(generate, plugin):
    response = generate(app_for("web", plugin=plugin), repository=TEST_APPS)
    assert response.manifests


@pytest.mark.parametrize("value", ["", "null", "[]"])
def test_empty_parameter_values_are_accepted(generate, value):
    response = generate(app_for("web"), repository=TEST_APPS, overrides={"ARGOCD_APP_PARAMETERS": value})
    assert response.manifests


# --- failures, as the Application shows them ----------------------------------------------------


def failure_cases() -> list[str]:
    return sorted(p.name for p in FAILURES.iterdir() if (p / "request.yaml").exists())


def request_from(case: Path) -> tuple[cmp.Application, dict[str, str]]:
    spec = yaml.safe_load((case / "request.yaml").read_text())
    plugin = spec.get("plugin", {})
    source = None if plugin is None else cmp.PluginSource(
        env=tuple((plugin.get("env") or {}).items()), parameters=tuple(plugin.get("parameters") or ()))
    fields = {"plugin": source}
    if "apiVersions" in spec:
        fields["api_versions"] = tuple(sorted(spec["apiVersions"]))
    return app_for(spec["path"], **fields), spec.get("env") or {}


@pytest.mark.parametrize("case", failure_cases())
def test_failure_message_matches_golden(generate, case):
    app, overrides = request_from(FAILURES / case)
    with pytest.raises(cmp.CmpError) as raised:
        generate(app, repository=TEST_APPS, overrides=overrides)
    message = str(raised.value) + "\n"
    expected_file = FAILURES / case / "expected.txt"
    if UPDATE_GOLDEN:
        expected_file.write_text(message)
    got_file = FAILURES / case / "got.txt"
    if not expected_file.exists() or expected_file.read_text() != message:
        got_file.write_text(message)
        pytest.fail(f"message differs from {expected_file} (see {got_file}; "
                    f"BGRENDER_UPDATE_GOLDEN=1 rewrites it):\n{message}")
    got_file.unlink(missing_ok=True)


@pytest.mark.parametrize("case", failure_cases())
def test_failures_are_short_plain_and_print_nothing(sidecar_env, case):
    app, overrides = request_from(FAILURES / case)
    env = {**cmp.build_env(app, sidecar_env), **overrides}
    failed = subprocess.run(["bgrender", "render"], cwd=TEST_APPS / app.path, env=env, capture_output=True)
    assert failed.returncode == 1
    assert failed.stdout == b""  # never partial output, never exit 0 with none
    stderr = failed.stderr.decode()
    assert "Traceback" not in stderr
    assert all(0 < len(line) <= 300 for line in stderr.splitlines()), stderr


def test_secrets_in_the_environment_stay_out_of_the_message(generate):
    secret = "s3cr3t-token-value"
    app = app_for("broken", plugin=cmp.PluginSource(env=(("API_TOKEN", secret),)),
                  repo_url=f"https://user:{secret}@git.example.com/apps.git")
    with pytest.raises(cmp.CmpError) as raised:
        generate(app, repository=TEST_APPS, overrides={"AWS_SECRET_ACCESS_KEY": secret})
    assert secret not in str(raised.value)


def test_a_huge_bogus_parameter_is_named_briefly(generate):
    name = "n" * 5000
    app = app_for("web", plugin=cmp.PluginSource(parameters=({"name": name, "string": "x"},)))
    with pytest.raises(cmp.CmpError) as raised:
        generate(app, repository=TEST_APPS)
    assert len(str(raised.value)) < 400


# --- logs -------------------------------------------------------------------------------------


def test_one_json_log_line_per_render(generate):
    app = app_for("web", app_namespace="team-a")  # Argo CD names it "team-a_web"
    response = generate(app, repository=TEST_APPS)
    (line,) = log_lines(response.result)
    assert line["event"] == "rendered" and line["level"] == "info"
    assert line["app"] == "team-a_web" and line["revision"] == app.revision
    assert line["objects"] == len(response.manifests)
    assert isinstance(line["duration_ms"], (int, float)) and line["duration_ms"] >= 0


@pytest.mark.parametrize(("level", "lines"), [("warning", 0), ("error", 0), ("INFO", 1)])
def test_log_level_is_set_from_the_application(generate, level, lines):
    app = app_for("web", plugin=cmp.PluginSource(env=(("BGRENDER_LOG_LEVEL", level),)))
    response = generate(app, repository=TEST_APPS)
    assert len(log_lines(response.result)) == lines


def test_debug_level_keeps_stderr_json_lines(generate):
    app = app_for("web", plugin=cmp.PluginSource(env=(("BGRENDER_LOG_LEVEL", "debug"),)))
    lines = log_lines(generate(app, repository=TEST_APPS).result)
    assert [line["event"] for line in lines if line["level"] == "info"] == ["rendered"]


# --- as the sidecar runs it -------------------------------------------------------------------


def test_sixteen_concurrent_requests_agree(generate):
    app = app_for("checkout-auto", destination_namespace="shop")
    with ThreadPoolExecutor(max_workers=16) as pool:
        responses = list(pool.map(lambda _: generate(app), range(16)))
    assert len({r.result.stdout for r in responses}) == 1
    assert all(r.manifests and r.changed_in_repo_copy == [] for r in responses)


def test_nothing_is_written_to_home(generate, sidecar_home):
    generate(app_for("gorilla-sfx-demo"))
    assert list(sidecar_home.iterdir()) == []


def test_renders_well_within_the_deadline(generate):
    response = generate(app_for("checkout-auto"), deadline=10)
    assert response.result.seconds < 5


def test_the_example_application_renders_with_this_plugin(plugin_config, generate, tmp_path):
    application = yaml.safe_load((EXAMPLES / "argocd" / "application.yaml").read_text())
    source = application["spec"]["source"]
    app = cmp.Application(
        name=application["metadata"]["name"], path=source["path"], target_revision=source["targetRevision"],
        repo_url=source["repoURL"], destination_namespace=application["spec"]["destination"]["namespace"],
        plugin=cmp.PluginSource(name=source["plugin"]["name"],
                                env=tuple((e["name"], e["value"]) for e in source["plugin"].get("env", ()))),
    )
    assert source["plugin"]["name"] == plugin_config.socket_name
    # A plugin chosen by name must still match its discovery rule (contract §1.5).
    assert cmp.discovery_matches(plugin_config, REPO_ROOT / source["path"])
    # The repository the Application points at, reduced to its examples.
    repository = tmp_path / "repository"
    shutil.copytree(EXAMPLES, repository / "examples", symlinks=True)
    assert generate(app, repository=repository).manifests


# --- as UID 999 -------------------------------------------------------------------------------


SIDECAR_UID = 999  # the repo-server's UID; the sidecar must run as it (contract §6.2)
HOW_TO_RUN_AS_999 = ("to run it: as root, from a clone whose directories (and the venv's) all others may read and "
                     "enter (e.g. under /srv or /tmp, not under a 0700 home), `.venv/bin/python -m pytest "
                     "tests/argocd/test_cmp_generate.py -k uid_999` (the README's Development section)")


def closed_to_others(path: Path) -> Path | None:
    """The first directory from / down to `path` that users other than its owner cannot enter
    (no o+x, as under a 0700 home), or `path` itself when they cannot read it; None when UID
    999 can reach and read it."""
    path = path.resolve()
    for directory in [*reversed(path.parents), path] if path.is_dir() else reversed(path.parents):
        if not directory.stat().st_mode & 0o001:
            return directory
    return None if path.stat().st_mode & 0o004 else path


def why_999_cannot_run(*paths: Path) -> str:
    """Why UID 999 cannot run this checkout's bgrender, naming the directory that stops it."""
    closed = next((c for c in map(closed_to_others, paths) if c is not None), None)
    reason = (f"{closed} is closed to other users (mode {closed.stat().st_mode & 0o777:04o}), so UID 999 cannot "
              "read the installed code" if closed else "UID 999 cannot run it (see the error of `bgrender --version`)")
    return f"the UID-999 plugin test did not run: {reason}; {HOW_TO_RUN_AS_999}"


def _runs_as_999(bgrender: Path) -> bool:
    try:
        probe = subprocess.run([str(bgrender), "--version"], user=SIDECAR_UID, group=SIDECAR_UID,
                               extra_groups=[], capture_output=True, cwd="/")
    except OSError:
        return False
    return probe.returncode == 0


def _bin_for_uid_999(venv_bin: Path, parent: Path) -> Path:
    """A bin directory whose bgrender UID 999 can run: this venv's, or, where its interpreter
    lives somewhere 999 cannot read (pyenv under /root), a venv of the system Python of the
    same version that imports this venv's packages, so the same installed code runs."""
    if _runs_as_999(venv_bin / "bgrender"):
        return venv_bin
    system = Path("/usr/bin/python3")
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    probe = subprocess.run([str(system), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                           capture_output=True, text=True) if system.exists() else None
    if probe is None or probe.stdout.strip() != version:
        pytest.skip(f"{why_999_cannot_run(Path(sys.executable), venv_bin)} (and there is no system Python "
                    f"{version} to build a venv 999 can read)")
    venv = parent / "venv"
    subprocess.run([str(system), "-m", "venv", "--without-pip", str(venv)], check=True)
    site_packages = Path(sysconfig.get_paths()["purelib"])
    (venv / "lib" / f"python{version}" / "site-packages" / "bgrender-under-test.pth").write_text(
        f"import site; site.addsitedir({str(site_packages)!r})\n")
    script = venv / "bin" / "bgrender"
    script.write_text(f"#!{venv / 'bin' / 'python'}\nfrom bgrender.__main__ import main\nmain()\n")
    script.chmod(0o755)
    if not _runs_as_999(script):
        import bgrender

        pytest.skip(why_999_cannot_run(site_packages, Path(bgrender.__file__).parent))
    return script.parent


def test_runs_as_uid_999_with_a_read_only_install(plugin_config, venv_bin, sidecar_env, generate):
    if os.geteuid() != 0:
        pytest.skip(f"the UID-999 plugin test did not run: switching to UID 999 needs root; {HOW_TO_RUN_AS_999}")
    app = app_for("checkout-auto", destination_namespace="shop")
    parent = Path(tempfile.mkdtemp(prefix="bgrender-uid999-"))
    try:
        parent.chmod(0o755)  # pytest's tmp_path is private to root
        bin_999 = _bin_for_uid_999(venv_bin, parent)
        sidecar_env = {**sidecar_env, "PATH": sidecar_env["PATH"].replace(str(venv_bin), str(bin_999))}
        home = parent / "home"
        home.mkdir()
        os.chown(home, SIDECAR_UID, SIDECAR_UID)
        response = cmp.generate(plugin_config, EXAMPLES, app, workdir_parent=parent,
                                sidecar_env={**sidecar_env, "HOME": str(home)},
                                user=SIDECAR_UID, group=SIDECAR_UID)
        assert response.changed_in_repo_copy == []  # 999 owns the copy, and writes nothing into it
        assert list(home.iterdir()) == []
        assert response.result.stdout == generate(app).result.stdout
    finally:
        shutil.rmtree(parent)


def test_a_skip_of_the_uid_999_test_names_the_closed_directory_and_how_to_run_it():
    top = Path(tempfile.mkdtemp(prefix="bgrender-uid999-reason-"))  # not under pytest's 0700 tmp_path
    try:
        top.chmod(0o755)
        private = top / "home" / "me"
        clone = private / "src" / "bgrender"
        clone.mkdir(parents=True)
        private.chmod(0o700)
        reason = why_999_cannot_run(clone)
        assert f"{private} is closed to other users (mode 0700)" in reason
        assert "-k uid_999" in reason and "README" in reason
        private.chmod(0o755)
        assert closed_to_others(clone) is None
    finally:
        (top / "home" / "me").chmod(0o755)
        shutil.rmtree(top)
