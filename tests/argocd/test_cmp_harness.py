"""The CMP stand-in itself: it must behave like Argo CD, or the plugin tests prove nothing.

Expected values come from Argo CD's source and tests, as quoted in
shared/reference/argocd-cmp-contract.md (§2.2, §2.3, §3.1, §4, §10).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

import cmp_harness as cmp

# --- environment ---------------------------------------------------------------------------


def test_parameters_are_go_json_compact_with_sorted_keys():
    params = [
        {"name": "values-files", "array": ["values-dev.yaml"]},
        {"name": "helm-parameters", "map": {"image.tag": "v1.2.3"}},
    ]
    # The real string for the docs' example (contract §2.2).
    assert cmp.go_json(params) == (
        '[{"array":["values-dev.yaml"],"name":"values-files"},'
        '{"map":{"image.tag":"v1.2.3"},"name":"helm-parameters"}]'
    )


def test_parameters_escape_html_characters_but_keep_other_unicode():
    assert cmp.go_json([{"name": "a<b>&c", "string": "ü\u2028"}]) == (
        '[{"name":"a\\u003cb\\u003e\\u0026c","string":"ü\\u2028"}]'
    )


def test_plugin_block_without_parameters_sends_null():
    env = cmp.build_env(cmp.Application(plugin=cmp.PluginSource()), {})
    assert env["ARGOCD_APP_PARAMETERS"] == "null"


def test_no_plugin_block_sends_no_plugin_variables():
    env = cmp.build_env(cmp.Application(plugin=None), {"PATH": "/bin"})
    assert "ARGOCD_APP_PARAMETERS" not in env
    assert not [k for k in env if k.startswith(("ARGOCD_ENV_", "PARAM_"))]
    assert env["ARGOCD_APP_NAME"] == "demo" and env["PATH"] == "/bin"


@pytest.mark.parametrize(
    ("param", "expected"),
    [
        ({"name": "version", "string": "1.2.3"}, {"PARAM_VERSION": "1.2.3"}),
        ({"name": "dependencies", "array": ["redis"]}, {"PARAM_DEPENDENCIES_0": "redis"}),
        ({"name": "helm-parameters", "map": {"image.tag": "v2.4.0"}}, {"PARAM_HELM_PARAMETERS_IMAGE_TAG": "v2.4.0"}),
        ({"name": "straße", "string": "x"}, {"PARAM_STRA_E": "x"}),  # Go keeps ß: one rune, one "_"
    ],
)
def test_param_variables_follow_argo_cd_tests(param, expected):
    assert cmp.param_envs([param]) == expected


def test_plugin_env_is_prefixed_and_expanded_against_the_build_environment():
    app = cmp.Application(
        destination_namespace="shop",
        plugin=cmp.PluginSource(env=(("LEVEL", "debug"), ("NS", "$ARGOCD_APP_NAMESPACE-${KUBE_VERSION}"),
                                     ("PRICE", "$$5 $UNKNOWN."))),
    )
    env = cmp.build_env(app, {})
    assert env["ARGOCD_ENV_LEVEL"] == "debug"
    assert env["ARGOCD_ENV_NS"] == "shop-1.30.2"
    assert env["ARGOCD_ENV_PRICE"] == "$5 ."


def test_sidecar_environment_is_kept_and_request_entries_win():
    env = cmp.build_env(cmp.Application(), {"HOME": "/tmp", "ARGOCD_APP_NAME": "stale"})
    assert env["HOME"] == "/tmp" and env["ARGOCD_APP_NAME"] == "demo"


def test_apps_outside_the_control_plane_namespace_are_named_with_their_namespace():
    assert cmp.Application(name="web", app_namespace="team-a").instance_name == "team-a_web"


def test_env_entries_over_the_exec_limit_fail_like_exec():
    huge = cmp.PluginSource(parameters=({"name": "blob", "string": "x" * (128 * 1024)},))
    with pytest.raises(cmp.CmpError, match="argument list too long"):
        cmp.build_env(cmp.Application(plugin=huge), {})


# --- repository copy -----------------------------------------------------------------------


def make_repository(root: Path) -> Path:
    (root / "app" / "base").mkdir(parents=True)
    script = root / "app" / "run.sh"
    script.write_text("echo hi\n")
    script.chmod(0o755)
    (root / "app" / "base" / "deployment.yaml").write_text("kind: Deployment\n")
    (root / "app" / "base").chmod(0o700)
    (root / "app" / "link.yaml").symlink_to("base/deployment.yaml")
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    return root


def test_staged_copy_has_argo_modes_and_relative_in_bound_symlinks(tmp_path: Path):
    repo = make_repository(tmp_path / "repo")
    workdir = cmp.stage_repository(repo, tmp_path / "sidecar-tmp")
    assert workdir.parent == tmp_path / "sidecar-tmp" / "_cmp_server"
    assert (workdir / "app" / "run.sh").stat().st_mode & 0o777 == 0o644  # exec bits are lost
    assert (workdir / "app" / "base").stat().st_mode & 0o777 == 0o755
    assert os.readlink(workdir / "app" / "link.yaml") == "base/deployment.yaml"
    assert (workdir / "app" / "link.yaml").read_text() == "kind: Deployment\n"
    assert (workdir / ".git" / "HEAD").exists()  # the whole repository is sent


def test_every_request_gets_its_own_copy(tmp_path: Path):
    repo = make_repository(tmp_path / "repo")
    first = cmp.stage_repository(repo, tmp_path / "t")
    second = cmp.stage_repository(repo, tmp_path / "t")
    assert first != second and first.parent == second.parent


def test_tar_exclusions_skip_whole_directories(tmp_path: Path):
    repo = make_repository(tmp_path / "repo")
    workdir = cmp.stage_repository(repo, tmp_path / "t", exclude=[".git"])
    assert not (workdir / ".git").exists() and (workdir / "app" / "run.sh").exists()


def test_out_of_bound_symlinks_are_refused(tmp_path: Path):
    repo = make_repository(tmp_path / "repo")
    (repo / "app" / "passwd").symlink_to("/etc/passwd")
    with pytest.raises(cmp.CmpError, match="out-of-bounds symlinks. file: app/passwd"):
        cmp.stage_repository(repo, tmp_path / "t")


def test_app_path_may_not_leave_the_workdir(tmp_path: Path):
    with pytest.raises(cmp.CmpError, match="out of workDir bound"):
        cmp.app_directory(tmp_path, "../elsewhere")
    assert cmp.app_directory(tmp_path, ".") == tmp_path


def test_snapshot_notices_new_and_changed_files(tmp_path: Path):
    repo = make_repository(tmp_path / "repo")
    before = cmp.snapshot(repo)
    (repo / "app" / "run.sh").write_text("echo changed\n")
    (repo / "app" / "new.txt").write_text("")
    assert cmp.changed_entries(before, cmp.snapshot(repo)) == ["app/new.txt", "app/run.sh"]


# --- running -------------------------------------------------------------------------------


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_commands_run_without_a_shell_in_the_app_directory(tmp_path: Path):
    result = cmp.run_command(
        python("import os,sys; print(os.getcwd()); print(sys.argv[1:]); print(os.getpgrp() == os.getpid())")
        + ["$HOME", "a b"],
        cwd=tmp_path, env={"HOME": "/nowhere"}, deadline=30,
    )
    lines = result.stdout.decode().splitlines()
    assert lines == [str(tmp_path), "['$HOME', 'a b']", "True"]  # own process group, no expansion


def test_stdin_is_empty(tmp_path: Path):
    result = cmp.run_command(python("import sys; print(repr(sys.stdin.read()))"), cwd=tmp_path, env={}, deadline=30)
    assert result.stdout == b"''\n"


# A grandchild that writes its marker file (argv[1]) after a delay (argv[2]) unless killed.
LATE_WRITER = "import sys,time; time.sleep(float(sys.argv[2])); open(sys.argv[1], 'w')"


def spawn_late_writer(marker: Path, delay: float, then: str = "") -> list[str]:
    code = (
        "import subprocess,sys;"
        f"subprocess.Popen([sys.executable, '-c', {LATE_WRITER!r}, sys.argv[1], sys.argv[2]],"
        " stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL);" + then
    )
    return python(code) + [str(marker), str(delay)]


def test_deadline_kills_the_command_and_its_process_group(tmp_path: Path):
    marker = tmp_path / "survivor"
    started = time.monotonic()
    result = cmp.run_command(spawn_late_writer(marker, 1.5, "import time; time.sleep(30)"),
                             cwd=tmp_path, env={}, deadline=0.5)
    assert time.monotonic() - started < 5
    assert cmp.exit_cause(result.returncode) == "signal: killed"
    time.sleep(2)
    assert not marker.exists()


def test_background_children_die_when_the_request_ends(tmp_path: Path):
    marker = tmp_path / "survivor"
    result = cmp.run_command(spawn_late_writer(marker, 1.0), cwd=tmp_path, env={}, deadline=30)
    assert result.returncode == 0, result.stderr
    time.sleep(1.5)
    assert not marker.exists()


def test_late_writer_writes_when_nobody_kills_it(tmp_path: Path):
    # The control for the two tests above: the marker does appear without the harness.
    import subprocess

    marker = tmp_path / "survivor"
    subprocess.run(python(LATE_WRITER) + [str(marker), "0"], check=True)
    assert marker.exists()


def test_failure_message_is_argo_cds():
    result = cmp.CommandResult(("bgrender", "render", "my app", ""), 1, b"", b"  bad input\n", 0.1)
    assert cmp.command_error(result) == '`bgrender render "my app" ""` failed exit status 1: bad input'
    silent = cmp.CommandResult(("bgrender",), -9, b"", b"", 0.1)
    assert cmp.command_error(silent) == "`bgrender` failed signal: killed"


# --- output parsing --------------------------------------------------------------------------


def test_yaml_stream_drops_empty_documents_and_flattens_lists():
    stdout = b"---\n# only a comment\n---\nkind: List\nitems:\n- {kind: Service}\n- {kind: Job}\n---\nkind: ConfigMap\n"
    assert [o["kind"] for o in cmp.parse_manifests(stdout)] == ["Service", "Job", "ConfigMap"]


def test_json_stream_is_detected_by_its_first_character():
    stdout = b'  {"kind":"Service"}\n{"kind":"Deployment"}{"kind":"Job"}\n'
    assert [o["kind"] for o in cmp.parse_manifests(stdout)] == ["Service", "Deployment", "Job"]


def test_a_top_level_json_array_is_not_a_stream():
    with pytest.raises(cmp.CmpError, match="Object 'Kind' is missing"):
        cmp.parse_manifests(json.dumps([{"kind": "Service"}]).encode())


def test_every_object_needs_a_kind():
    with pytest.raises(cmp.CmpError, match="Object 'Kind' is missing"):
        cmp.parse_manifests(b"apiVersion: v1\nmetadata: {name: x}\n")


def test_broken_yaml_is_an_unmarshal_error():
    with pytest.raises(cmp.CmpError, match="failed to unmarshal manifest"):
        cmp.parse_manifests(b"kind: [\n")


def test_empty_output_is_success_with_nothing_which_is_why_plugins_must_not_do_it():
    assert cmp.parse_manifests(b"") == [] and cmp.parse_manifests(b"\n") == []


# --- plugin.yaml reading -------------------------------------------------------------------


def test_plugin_config_validation_matches_the_sidecar(tmp_path: Path):
    path = tmp_path / "plugin.yaml"
    path.write_text("kind: ConfigManagementPlugin\nmetadata: {name: x}\nspec: {generate: {command: []}}\n")
    with pytest.raises(cmp.CmpError, match="spec.generate command should be non-empty"):
        cmp.load_plugin_config(path)
    path.write_text("kind: ConfigManagementPlugin\nmetadata: {}\nspec: {generate: {command: [a]}}\n")
    with pytest.raises(cmp.CmpError, match="metadata.name should be non-empty"):
        cmp.load_plugin_config(path)


def test_socket_name_carries_the_version(tmp_path: Path):
    path = tmp_path / "plugin.yaml"
    path.write_text("kind: ConfigManagementPlugin\nmetadata: {name: p}\n"
                    "spec: {version: v2, generate: {command: [a], args: [b]}}\n")
    config = cmp.load_plugin_config(path)
    assert config.socket_name == "p-v2" and config.generate == ("a", "b")


# --- a whole request with a stand-in plugin -----------------------------------------------------


def fake_plugin(tmp_path: Path, init: list[str] | None, generate: list[str]) -> cmp.PluginConfig:
    spec = {"generate": {"command": generate}, **({"init": {"command": init}} if init else {})}
    path = tmp_path / "plugin.yaml"
    path.write_text(json.dumps({"kind": "ConfigManagementPlugin", "metadata": {"name": "fake"}, "spec": spec}))
    return cmp.load_plugin_config(path)


def test_a_failing_init_aborts_before_generate(tmp_path: Path):
    repo = make_repository(tmp_path / "repo")
    marker = tmp_path / "generated"
    config = fake_plugin(tmp_path, python("import sys; sys.exit(3)"),
                         python(f"open({str(marker)!r}, 'w'); print('kind: ConfigMap')"))
    with pytest.raises(cmp.CmpError, match="failed exit status 3$"):
        cmp.generate(config, repo, cmp.Application(path="app"), workdir_parent=tmp_path / "t", sidecar_env={})
    assert not marker.exists()


def test_the_deadline_covers_the_whole_request(tmp_path: Path):
    repo = make_repository(tmp_path / "repo")
    config = fake_plugin(tmp_path, None, python("import time; time.sleep(30)"))
    with pytest.raises(cmp.CmpError, match="failed signal: killed$"):
        cmp.generate(config, repo, cmp.Application(path="app"), workdir_parent=tmp_path / "t",
                     sidecar_env={}, deadline=0.5)
    assert list((tmp_path / "t" / "_cmp_server").iterdir()) == []  # the copy is gone


def test_a_request_sees_its_copy_and_leaves_nothing_behind(tmp_path: Path):
    repo = make_repository(tmp_path / "repo")
    config = fake_plugin(tmp_path, None, python(
        "import os; print('kind: ConfigMap'); print('data: {cwd: ' + os.getcwd() + '}');"
        "open('written.txt', 'w')"))
    response = cmp.generate(config, repo, cmp.Application(path="app"), workdir_parent=tmp_path / "t",
                            sidecar_env={})
    (configmap,) = response.manifests
    assert configmap["data"]["cwd"].startswith(str(tmp_path / "t" / "_cmp_server"))
    assert configmap["data"]["cwd"].endswith("/app")
    assert response.changed_in_repo_copy == ["app/written.txt"]
    assert not Path(configmap["data"]["cwd"]).exists()
