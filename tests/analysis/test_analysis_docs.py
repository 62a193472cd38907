"""The metric-gate page (docs/metric-gates.md) holds: its example is a valid analysis that renders the Jobs
it describes, and the rollback recipe (argocd-notifications-cm, the workflow) is the checked-in
files, in Argo CD notifications' format (argocd-notifications-cm keys `service.webhook.<name>`,
`trigger.<name>`, `template.<name>`: a trigger is a list of conditions with `when`, `send` and
optionally `oncePer` and `description`; a webhook template names a configured webhook service
and gives `method`, `path` and `body`), naming the Job bgrender renders."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from bgrender.app.pipeline import render_app
from bgrender.names import hook_job

from ..conftest import GOLDEN, REPO, clean_env, doc

NOTIFICATIONS = REPO / "examples" / "argocd" / "notifications" / "argocd-notifications-cm.yaml"
WORKFLOW = REPO / "examples" / "ci" / "rollback-on-failed-analysis.yaml"
SECTION = doc("metric-gates.md")
CONDITION_KEYS = {"when", "send", "oncePer", "description"}


def _blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", SECTION, re.S)


@pytest.mark.parametrize("path", [NOTIFICATIONS, WORKFLOW], ids=lambda p: p.name)
def test_the_readme_shows_the_checked_in_files(path):
    assert path.read_text() in _blocks("yaml")


def test_the_readme_example_renders_the_gates_it_describes(tmp_path):
    example = yaml.safe_load(_blocks("yaml")[0])["promotion"]
    case = GOLDEN / "render" / "analysis-manual-before-after-idle"
    intent = yaml.safe_load((case / "bluegreen.yaml").read_text())
    intent["spec"]["promotion"] = example
    (tmp_path / "bluegreen.yaml").write_text(yaml.safe_dump(intent))
    (tmp_path / "deployment.yaml").write_text((case / "deployment.yaml").read_text())
    objects = render_app(tmp_path / "bluegreen.yaml", clean_env({"BGRENDER_IMAGE": "registry.example.com/b:1"}))
    jobs = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Job"}
    assert {"web-analysis-before", "web-analysis-idle", "web-analysis-after"} <= jobs.keys()
    run = json.loads(jobs["web-analysis-idle"]["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"])
    queries = {q["name"]: q["query"] for q in run["queries"]}
    digest = "sha256-0123456789ab"  # the idle color's version label, as Istio reports it
    assert f'destination_version="{digest}"' in queries["error-rate"]
    assert 'destination_workload_namespace="shop"' in queries["p99-latency"]


@pytest.fixture(scope="module")
def notifications() -> dict:
    config = yaml.safe_load(NOTIFICATIONS.read_text())
    assert (config["apiVersion"], config["kind"], config["metadata"]["name"]) == \
        ("v1", "ConfigMap", "argocd-notifications-cm")
    assert all(isinstance(v, str) for v in config["data"].values())  # a ConfigMap's data: strings
    return config["data"]


def _named(data: dict, prefix: str) -> dict:
    return {k[len(prefix):]: yaml.safe_load(v) for k, v in data.items() if k.startswith(prefix)}


def test_every_key_is_a_service_trigger_or_template(notifications):
    assert all(re.fullmatch(r"(service\.webhook|trigger|template)\.[a-z0-9-]+", key) for key in notifications)


def test_the_trigger_fires_on_the_failed_after_analysis_and_sends_a_defined_template(notifications):
    templates = _named(notifications, "template.")
    for name, conditions in _named(notifications, "trigger.").items():
        assert isinstance(conditions, list) and conditions, name
        for condition in conditions:
            assert condition.keys() <= CONDITION_KEYS and {"when", "send"} <= condition.keys()
            assert all(template in templates for template in condition["send"])
            when = condition["when"]
            assert when.count("(") == when.count(")") and when.count("{") == when.count("}")
            assert when.count("'") % 2 == 0
            assert f"'{hook_job('web', 'analysis-after').removeprefix('web')}'" in when
            assert "hookType == 'PostSync'" in when and ".hookPhase == 'Failed'" in when


def test_the_template_calls_a_configured_webhook_with_json(notifications):
    services = _named(notifications, "service.webhook.")
    for template in _named(notifications, "template.").values():
        for service, call in template["webhook"].items():
            assert service in services and services[service]["url"].startswith("https://")
            assert call.keys() == {"method", "path", "body"} and call["method"] == "POST"
            body = json.loads(re.sub(r"\{\{[^}]*\}\}", "x", call["body"]))
            assert body["event_type"] == "bgrender-rollback"
            assert body["client_payload"].keys() == {"app", "path", "revision"}


def test_the_workflow_answers_that_dispatch_and_runs_bgrender_rollback():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    assert workflow[True]["repository_dispatch"]["types"] == ["bgrender-rollback"]  # YAML 1.1 reads `on` as True
    (job,) = workflow["jobs"].values()
    script = job["steps"][-1]["run"]
    assert 'bgrender rollback -- "$APP_PATH"' in script and "gh pr create" in script
    assert "${{" not in script  # dispatched values reach the script as variables only
    assert {"APP", "APP_PATH", "REVISION"} <= job["env"].keys()
