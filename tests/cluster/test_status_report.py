"""status.py, the pure part: LiveState + Plan → report, drift, table. No server, no client."""

from __future__ import annotations

import pytest

from bgrender.plan import Plan
from bgrender.status import (
    LiveDeployment,
    LiveRouting,
    LiveState,
    build_report,
    drift_reasons,
    format_table,
    rollout_pending,
)

from .conftest import EXAMPLES, plan_of


@pytest.fixture
def plan() -> Plan:
    return plan_of(EXAMPLES / "gorilla-sfx-demo")


def deployment(color: str, version: str | None, ready: int = 2, pending: str | None = None,
               source: str = "annotation") -> LiveDeployment:
    return LiveDeployment(f"gorilla-sfx-demo-deployment-{color}", version, source if version else None, 2, ready,
                          pending)


def state(blue: LiveDeployment | None, green: LiveDeployment | None, production: str | None = "blue",
          found: bool = True, note: str | None = None) -> LiveState:
    routing = LiveRouting("VirtualService", "gorilla-sfx-demo-virtualservice", found,
                          "networking.istio.io/v1" if found else None, production, note)  # type: ignore[arg-type]
    return LiveState("default", {"blue": blue, "green": green}, routing)


IN_SYNC = (deployment("blue", "3f9c2e1d"), deployment("green", "8a1b0c4e"))


def test_in_sync(plan: Plan) -> None:
    report = build_report(plan, state(*IN_SYNC))
    assert (report["inSync"], report["drift"]) == (True, [])


@pytest.mark.parametrize(("live", "reasons"), [
    (state(*IN_SYNC, production="green"),
     ["production traffic goes to green live, but Git says active: blue"]),
    (state(*IN_SYNC, production=None, found=False, note="VirtualService v not found in namespace default"),
     ["no live production color for Git's active: blue (VirtualService v not found in namespace default)"]),
    (state(deployment("blue", "3f9c2e1d"), deployment("green", "8a1b0c4e", ready=0, pending="0 of 2 pods updated")),
     ["green: rollout not finished (0 of 2 pods updated)"]),
    (state(deployment("blue", "3f9c2e1d"), deployment("green", None)),
     ["green: runs no version, Git has 8a1b0c4e"]),
    (state(deployment("blue", "3f9c2e1d"), None),
     ["green: Deployment gorilla-sfx-demo-deployment-green not found, Git has version 8a1b0c4e"]),
    (state(deployment("blue", "3f9c2e1d", source="label"), deployment("green", "8a1b0c4e")), []),
])
def test_drift(plan: Plan, live: LiveState, reasons: list[str]) -> None:
    assert drift_reasons(plan, live) == reasons


def test_a_color_git_never_deployed_is_in_sync_when_absent(plan: Plan) -> None:
    plan = plan.replace(intent=plan.intent.replace(versions={"blue": "3f9c2e1d", "green": None}))
    live = state(deployment("blue", "3f9c2e1d"), None)
    report = build_report(plan, live)
    assert report["inSync"] is True
    assert report["colors"]["green"] == {
        "gitVersion": None, "liveVersion": None, "replicas": 0, "readyReplicas": 0,
        "deployment": "gorilla-sfx-demo-deployment-green", "found": False, "rolledOut": True,
        "state": "not deployed"}


def test_a_label_is_compared_in_its_shortened_form(plan: Plan) -> None:
    live = state(deployment("blue", "3f9c2e1d", source="label"), deployment("green", "8a1b0c4e", source="label"))
    assert drift_reasons(plan, live, label_value=lambda v: v.upper()) == [
        "blue: runs 3f9c2e1d, Git has 3f9c2e1d", "green: runs 8a1b0c4e, Git has 8a1b0c4e"]


def test_table_of_a_drifted_app(plan: Plan) -> None:
    live = state(deployment("blue", "3f9c2e1d"), None, production=None, found=False,
                 note="VirtualService gorilla-sfx-demo-virtualservice not found in namespace default")
    assert format_table(build_report(plan, live)) == """\
app         gorilla-sfx-demo
namespace   default
production  git: blue  live: -  (VirtualService gorilla-sfx-demo-virtualservice not found in namespace default)

COLOR  GIT VERSION  LIVE VERSION  READY  STATE
blue   3f9c2e1d     3f9c2e1d      2/2    idle
green  8a1b0c4e     -             -      missing

NOT in sync with Git:
  - no live production color for Git's active: blue (VirtualService gorilla-sfx-demo-virtualservice not found \
in namespace default)
  - green: Deployment gorilla-sfx-demo-deployment-green not found, Git has version 8a1b0c4e"""


@pytest.mark.parametrize(("counts", "pending"), [
    ({"observed_generation": None}, "the Deployment controller has not seen the latest spec yet"),
    ({"observed_generation": 1}, "the Deployment controller has not seen the latest spec yet"),
    ({"updated": 1}, "1 of 3 pods updated"),
    ({"current": 4}, "1 old pod still terminating"),
    ({"current": 5}, "2 old pods still terminating"),
    ({"available": 2}, "2 of 3 updated pods available"),
    ({}, None),
])
def test_rollout_pending_checks_like_kubectl_rollout_status(counts: dict, pending: str | None) -> None:
    done = {"replicas": 3, "generation": 2, "observed_generation": 2, "updated": 3, "current": 3, "available": 3}
    assert rollout_pending(**{**done, **counts}) == pending


def test_scaled_to_zero_is_rolled_out() -> None:
    assert rollout_pending(replicas=0, generation=1, observed_generation=1, updated=0, current=0,
                           available=0) is None
