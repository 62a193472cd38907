"""The capacity hook's work (DESIGN §16): `bgrender scale-up`, run by a Sync hook in wave 1
of an app with autoscaling, before the route moves production traffic (waves.ROUTES).

The color taking production was rolled out in wave 0 with its HPA's new bounds, but an HPA
acts on metrics, and the color has had no traffic: without this it would take production at
whatever it ran as the idle color. So the hook sets it to max(its own replicas, minReplicas,
the replicas the other color runs now), never lowering any count (a sync that moves no
traffic changes nothing, and an HPA that has scaled production up is never undercut), and
waits until that many pods are ready. The patch carries the resourceVersion it was computed
from, so a count the HPA changed meanwhile is read again rather than overwritten.

Argo CD does not manage spec.replicas of an HPA-governed Deployment (bgrender renders none),
so this is no drift. The HPA may scale the color down again later, by its own behavior
(scaleDown's stabilization window, 300 s by default, holds it up while the traffic arrives).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bgrender.errors import ClusterError, escape
from bgrender.live.answers import NotFound, Request, malformed
from bgrender.live.deadline import Deadline
from bgrender.live.incluster import Conflict, InCluster
from bgrender.record import Record
from bgrender.routing import Malformed, expect

# Where the grant each request needs is written, for a 403.
RBAC = "the Role bgrender renders for the capacity hook (docs/render.md: the capacity hook)"
POLL_SECONDS = 2.0
MAX_CONFLICTS = 10  # patches that lost a race with the HPA in a row: something else keeps writing


class Outcome(Record):
    """What scale-up did: the replicas it asked for, from how many, and how many are ready."""

    deployment: str
    before: int
    wanted: int
    ready: int

    def __str__(self) -> str:
        name = escape(self.deployment)
        if self.wanted == self.before:
            return f"{name} runs {self.before} replicas, enough for production; {self.ready} ready"
        return f"{name} scaled from {self.before} to {self.wanted} replicas; {self.ready} ready"


def wanted_replicas(own: int, min_replicas: int, other: int) -> int:
    """What the color taking production must run: never fewer than it runs, than its HPA's
    minimum, or than the color that serves production now."""
    return max(own, min_replicas, other)


def scale_up(api: InCluster, namespace: str, target: str, other: str, min_replicas: int, clock: Deadline,
             say: Callable[[str], None]) -> Outcome:
    """Scale `target` up to what production needs and wait until that many pods are ready."""
    other_replicas = _replicas(api, namespace, other, missing_ok=True)
    for _ in range(MAX_CONFLICTS):
        deployment = _deployment(api, namespace, target)
        own = _spec_replicas(deployment)
        wanted = wanted_replicas(own, min_replicas, other_replicas)
        if wanted == own:
            break
        # The version it was computed from: a count the HPA changed meanwhile is a Conflict, read again.
        patch = {"metadata": {"resourceVersion": deployment["metadata"]["resourceVersion"]},
                 "spec": {"replicas": wanted}}
        if not isinstance(api.merge_patch(_request(namespace, target, "patch", "scale"), patch), Conflict):
            say(f"{escape(target)}: {own} -> {wanted} replicas ({escape(other)} runs {other_replicas}, "
                f"minReplicas {min_replicas})")
            break
    else:
        raise ClusterError(f"could not scale {escape(target)}: its replicas changed under each of "
                           f"{MAX_CONFLICTS} attempts")
    return Outcome(target, own, wanted, _wait_ready(api, namespace, target, wanted, clock, say))


def _wait_ready(api: InCluster, namespace: str, name: str, wanted: int, clock: Deadline,
                say: Callable[[str], None]) -> int:
    """Ready pods of `name`, once at least `wanted`; OutOfTime at the deadline."""
    last = -1
    while True:
        ready = _count(_deployment(api, namespace, name), "readyReplicas")
        if ready >= wanted:
            return ready
        if ready != last:
            say(f"{escape(name)}: {ready} of {wanted} pods ready")
            last = ready
        time.sleep(min(POLL_SECONDS, clock.left()))


def _replicas(api: InCluster, namespace: str, name: str, missing_ok: bool) -> int:
    """The replicas a color's Deployment is set to run; 0 for one that is not there."""
    answer = api.get(_request(namespace, name))
    if isinstance(answer, NotFound) and missing_ok:
        return 0
    return _spec_replicas(_checked(answer, _request(namespace, name), api))


def _deployment(api: InCluster, namespace: str, name: str) -> dict[str, Any]:
    request = _request(namespace, name)
    answer = api.get(request)
    if isinstance(answer, NotFound):
        raise ClusterError(f"Deployment {escape(name)} not found in namespace {namespace}: Argo CD applies the color "
                           "taking production in wave 0, before this hook")
    return _checked(answer, request, api)


def _checked(answer: Any, request: Request, api: InCluster) -> dict[str, Any]:
    if not isinstance(answer, dict) or answer.get("kind") != "Deployment":
        raise malformed(api.url, request, "not a Deployment")
    try:
        expect(expect(answer.get("metadata"), dict, "metadata").get("resourceVersion"), str,
               "metadata.resourceVersion")
        _spec_replicas(answer)
        _count(answer, "readyReplicas")
    except Malformed as e:
        raise malformed(api.url, request, escape(str(e))) from e
    return answer


def _spec_replicas(deployment: dict[str, Any]) -> int:
    spec = expect(deployment.get("spec") or {}, dict, "spec")
    replicas = spec.get("replicas")
    return 1 if replicas is None else expect(replicas, int, "spec.replicas")  # 1: the API's default


def _count(deployment: dict[str, Any], key: str) -> int:
    status = expect(deployment.get("status") or {}, dict, "status")
    value = status.get(key)
    return 0 if value is None else expect(value, int, f"status.{key}")  # the API omits zero counts


def _request(namespace: str, name: str, verb: str = "get", subresource: str = "") -> Request:
    return Request("deployments", "apps", name, namespace, verb=verb, subresource=subresource, rbac=RBAC)
