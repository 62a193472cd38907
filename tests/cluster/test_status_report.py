"""status.py, the pure part: LiveState + Plan → report, drift, table. No server, no client."""

from __future__ import annotations

import pytest

from bgrender.labels import release_id
from bgrender.live.status import (
    LiveAutoscaler,
    LiveDeployment,
    LiveRouting,
    LiveState,
    build_report,
    drift_reasons,
    expected_autoscalers,
    format_table,
    rollout_pending,
)
from bgrender.plan.plan import Plan

from .conftest import EXAMPLES, plan_of


@pytest.fixture
def plan() -> Plan:
    return plan_of(EXAMPLES / "gorilla-sfx-demo")


def released(app: str) -> dict[str, str]:
    """The bgrender.io/release each color's pod template carries in Git."""
    return {c: release_id(cp.entry.digest) for c, cp in plan_of(EXAMPLES / app).colors.items()}


GORILLA_RELEASES = released("gorilla-sfx-demo")


def deployment(color: str, version: str | None, ready: int = 2, pending: str | None = None,
               source: str = "annotation", release: str | None = None) -> LiveDeployment:
    return LiveDeployment(f"gorilla-sfx-demo-deployment-bg-{color}", version, source if version else None, 2, ready,
                          pending, release or GORILLA_RELEASES[color])


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
     ["green: Deployment gorilla-sfx-demo-deployment-bg-green not found, Git has version 8a1b0c4e"]),
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
        "deployment": "gorilla-sfx-demo-deployment-bg-green", "found": False, "rolledOut": True,
        "state": "not deployed", "autoscaler": None}


def test_a_label_is_compared_in_its_shortened_form(plan: Plan) -> None:
    digest = "sha256:" + "ab" * 32  # the version label holds "sha256-" and 12 hex digits
    plan = plan.replace(intent=plan.intent.replace(versions={"blue": digest, "green": "8a1b0c4e"}))
    green = deployment("green", "8a1b0c4e", source="label")
    assert drift_reasons(plan, state(deployment("blue", "sha256-" + "ab" * 6, source="label"), green)) == []
    assert drift_reasons(plan, state(deployment("blue", "sha256-" + "ab" * 7, source="label"), green)) == [
        f"blue: runs sha256-{'ab' * 7}, Git has {digest}"]


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
  - green: Deployment gorilla-sfx-demo-deployment-bg-green not found, Git has version 8a1b0c4e"""


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


# --- autoscalers (examples/orders: blue scales 3-12 in production, green is held at 2) ----------

ORDERS = EXAMPLES / "orders"


def scaled(color: str, low: int, high: int, current: int = 3, desired: int = 3) -> LiveAutoscaler:
    return LiveAutoscaler(f"orders-{color}", low, high, current, desired)


def orders_state(blue: LiveAutoscaler | None, green: LiveAutoscaler | None) -> LiveState:
    releases = released("orders")
    deployments = {color: LiveDeployment(f"orders-{color}", version, "annotation", 3, 3, None, releases[color])
                   for color, version in (("blue", "2.3.0"), ("green", "2.2.4"))}
    routing = LiveRouting("VirtualService", "orders", True, "networking.istio.io/v1", "blue", None)
    return LiveState("shop", deployments, routing, {"blue": blue, "green": green})  # type: ignore[arg-type]


def test_the_hpas_git_expects() -> None:
    plan = plan_of(ORDERS)
    assert expected_autoscalers(plan) == {"blue": "orders-blue", "green": "orders-green"}
    idle_off = plan.replace(colors={**plan.colors, "green": plan.colors["green"].replace(bounds=None)})
    assert expected_autoscalers(idle_off) == {"blue": "orders-blue"}
    assert expected_autoscalers(plan_of(EXAMPLES / "gorilla-sfx-demo")) == {}


@pytest.mark.parametrize(("blue", "green", "reasons"), [
    (scaled("blue", 3, 12, current=9, desired=12), scaled("green", 2, 2), []),
    (None, scaled("green", 2, 2), ["blue: HorizontalPodAutoscaler orders-blue not found, Git has one scaling 3-12"]),
    (scaled("blue", 2, 2), scaled("green", 3, 12), [
        "blue: HorizontalPodAutoscaler orders-blue scales 2-2 live, Git has 3-12",
        "green: HorizontalPodAutoscaler orders-green scales 3-12 live, Git has 2-2"]),
    (scaled("blue", 3, 11), scaled("green", 2, 2),
     ["blue: HorizontalPodAutoscaler orders-blue scales 3-11 live, Git has 3-12"]),
])
def test_autoscaler_drift(blue: LiveAutoscaler | None, green: LiveAutoscaler | None, reasons: list[str]) -> None:
    assert drift_reasons(plan_of(ORDERS), orders_state(blue, green)) == reasons


def test_table_with_autoscalers_and_unreleased_changes() -> None:
    report = build_report(plan_of(ORDERS), orders_state(scaled("blue", 3, 12, current=4, desired=6), None),
                          unreleased=True)
    assert format_table(report) == """\
app         orders
namespace   shop
production  git: blue  live: blue  (VirtualService orders, networking.istio.io/v1)

COLOR  GIT VERSION  LIVE VERSION  READY  HPA         STATE
blue   2.3.0        2.3.0         3/3    4/6 (3-12)  production
green  2.2.4        2.2.4         3/3    missing     idle

NOT in sync with Git:
  - green: HorizontalPodAutoscaler orders-green not found, Git has one scaling 2-2
note: the base or its config holds changes no color runs yet (released by the next `bgrender release`, to \
production only by promotion)"""


def test_unreleased_changes_are_not_drift(plan: Plan) -> None:
    report = build_report(plan, state(*IN_SYNC), unreleased=True)
    assert (report["inSync"], report["drift"], report["unreleasedBaseChanges"]) == (True, [], True)
    assert build_report(plan, state(*IN_SYNC))["unreleasedBaseChanges"] is False


def test_a_release_of_the_same_version_not_synced_yet_is_drift(plan: Plan) -> None:
    """A config-only release keeps the version: only bgrender.io/release tells the two apart."""
    live = state(deployment("blue", "3f9c2e1d"), deployment("green", "8a1b0c4e", release="0123456789ab"))
    assert drift_reasons(plan, live) == [
        f"green: runs release 0123456789ab of 8a1b0c4e (bgrender.io/release), Git has release "
        f"{GORILLA_RELEASES['green']} (a config-only release not synced yet?)"]
    assert build_report(plan, live)["colors"]["green"]["state"] == "idle, release differs"


def test_an_image_set_by_hand_is_drift_though_every_label_matches(plan: Plan) -> None:
    """`kubectl set image` keeps the version annotation and the release label: only the images tell."""
    from dataclasses import replace

    from bgrender.live.status import pod_images

    pinned = pod_images(plan.colors["blue"].entry.template["spec"], "template.spec")
    ((name, image),) = pinned
    blue = deployment("blue", "3f9c2e1d")
    assert drift_reasons(plan, state(replace(blue, images=pinned), IN_SYNC[1])) == []
    by_hand = replace(blue, images=((name, "busybox:hotfix"),))
    assert drift_reasons(plan, state(by_hand, IN_SYNC[1])) == [
        f"blue: container {name} runs busybox:hotfix, Git has {image}"]
    sidecar = replace(blue, images=(*pinned, ("debug", "busybox:1")))
    assert drift_reasons(plan, state(sidecar, IN_SYNC[1])) == [
        "blue: container debug runs busybox:1, Git has no such container"]
