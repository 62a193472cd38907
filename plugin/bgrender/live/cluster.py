"""The cluster reads of `status` and `release --check-live`, read-only: the one entrance to live/.

Those two commands import it lazily, so rendering (which never reads the cluster, DESIGN §2)
does not even load the `kubernetes` client; where it is not installed (the sidecar image
has no `bgrender[cluster]`), they fail with one line saying what to install. A command's
session ties the rooms together inside one deadline, Connection.timeout (deadline.py), exec
credential plugins included: the configuration and namespace (kubeconfig.py), the GETs
(transport.py), one attempt each, stopping at the first failure, and what the answers mean
(answers.py). Every failure becomes a ClusterError (exit 4) of one line saying what failed
where, every value from the cluster or the kubeconfig escaped on it: never a traceback.
Nothing here prints: check_live returns its note for the command to show.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any, TypeVar

from bgrender import TYPE_CHECKING, routing
from bgrender.colors import COLORS, Color, other
from bgrender.errors import ClusterError, Drift, escape, quote
from bgrender.intent.env import api_version
from bgrender.live.answers import NotFound, Request, live_autoscaler, live_deployment, live_routing, malformed, one_line
from bgrender.live.deadline import Confined, OutOfTime, confined_processes, deadline
from bgrender.live.kubeconfig import (
    Connection,
    load_config,
    logged_errors,
    plugin_modules,
    require_client,
    resolve_namespace,
)
from bgrender.live.status import LiveAutoscaler, LiveDeployment, LiveRouting, LiveState, expected_autoscalers
from bgrender.plan.plan import Plan
from bgrender.routing import Malformed

if TYPE_CHECKING:
    from bgrender.live.transport import Transport

T = TypeVar("T")


def read_live(plan: Plan, conn: Connection) -> LiveState:
    """Both color Deployments, the HPAs Git gives them, and the app's routing object, as the
    cluster has them. An app without spec.autoscaling reads no HPA, so it needs no RBAC for them."""
    autoscalers = expected_autoscalers(plan)
    with _session(plan, conn) as reader:
        deployments: dict[Color, LiveDeployment | None] = {}
        live_autoscalers: dict[Color, LiveAutoscaler | None] = {}
        for color in COLORS:
            deployments[color] = reader.deployment(plan.deployment_name(color), plan.intent.version_label)
            if color in autoscalers:
                live_autoscalers[color] = reader.autoscaler(autoscalers[color])
        production = reader.routing(plan)
    return LiveState(reader.namespace, deployments, production, live_autoscalers)


def check_live(plan: Plan, conn: Connection) -> str | None:
    """Refuse (Drift, exit 3) when the live production color is not the file's `active`, or
    cannot be told; a cluster that cannot be read is a ClusterError (exit 4).

    A release writes the color the file calls idle; if that color serves users live, the
    release would replace the version under them. Returns the note for the command to show
    when there is no routing object to compare with yet; None when the cluster agrees.
    """
    with _session(plan, conn) as reader:
        live = reader.routing(plan)
    active = plan.intent.active
    if not live.found:
        # Argo CD applies the routing object in wave 3, after the first color is ready, so
        # without it the app has never finished a sync here: at most the active color has
        # pods (the idle one comes in wave 5), so a release to the idle color cannot replace
        # what users get. Refusing would make every app's first release fail with --check-live.
        return f"check-live: {escape(live.note or '')}; no color serves production yet, go ahead"
    if live.production is None:
        raise Drift(
            f"refusing to release: cannot tell which color serves production from {live.kind} "
            f"{escape(live.name)} ({escape(live.note or '')})"
        )
    if live.share:  # production is `active`, and the color the release would write serves the rest
        raise Drift(
            f"refusing to release: {other(active)} gets {live.share}% of production traffic live ({live.kind} "
            f"{escape(live.name)}); the release would replace a color serving users (finish the step with "
            "`bgrender promote`, or take the share back with `bgrender rollback`, and sync first)"
        )
    if live.production != active:
        raise Drift(
            f"refusing to release: production traffic goes to {live.production} live, but "
            f"{escape(plan.intent.file)} says active: {active}; the release would replace "
            f"{live.production}, the color serving users (sync the app, or fix active, first)"
        )
    return None


# --- one command's cluster work ---------------------------------------------------------------


@contextmanager
def _session(plan: Plan, conn: Connection) -> Iterator[_Reader]:
    """The configuration, the namespace and a reader, all inside one deadline: at it, whatever
    runs is stopped (an exec plugin killed, a request dropped) and one ClusterError says what."""
    require_client()
    from bgrender.live import transport  # needs the client, which require_client has found

    plugins: Confined | None = None
    http: Transport | None = None
    try:
        with deadline(conn.timeout) as clock, confined_processes(clock, plugin_modules()) as plugins, \
                logged_errors() as logged:
            loaded = load_config(conn, logged)
            namespace = resolve_namespace(plan, conn, loaded)
            with transport.connect(loaded.configuration, clock) as http:
                yield _Reader(http, namespace)
    except OutOfTime as e:
        raise ClusterError(_out_of_time(conn.timeout, plugins, http)) from e


def _out_of_time(seconds: float, plugins: Confined | None, http: Transport | None) -> str:
    within = f"within --timeout {seconds:g}s"
    if plugins is not None and plugins.killed:
        return (f"the exec credential plugin {quote(plugins.killed[0][0])} of the kubeconfig user did not "
                f"finish {within}; it was stopped")
    if http is not None and http.current is not None:
        return f"the Kubernetes API server at {http.host} did not answer {within} ({http.current})"
    if http is not None:
        return f"reading the cluster did not finish {within}"
    return f"loading the Kubernetes configuration did not finish {within}"


class _Reader:
    """The app's objects, read through `http` from `namespace` and parsed (answers.py)."""

    def __init__(self, http: Transport, namespace: str):
        self.http = http
        self.namespace = namespace

    def deployment(self, name: str, version_label: str) -> LiveDeployment | None:
        return self._one(Request("deployments", "apps", name, self.namespace), "v1",
                         partial(live_deployment, version_label=version_label))

    def autoscaler(self, name: str) -> LiveAutoscaler | None:
        # autoscaling/v2 is what the render emits (served since Kubernetes 1.23)
        return self._one(Request("horizontalpodautoscalers", "autoscaling", name, self.namespace), "v2",
                         live_autoscaler)

    def _one(self, request: Request, version: str, parse: Callable[[Any], T]) -> T | None:
        """The object parsed, or None when the server has no such object."""
        answer = self.http.get(request, request.path(version))
        if isinstance(answer, NotFound):
            return None
        return self._parsed(request, partial(parse, answer))

    def routing(self, plan: Plan) -> LiveRouting:
        """The live object that says where production goes, read with the newest version the
        cluster serves. A served version that lacks the object means the object does not exist
        (every served version of a resource shows the same objects), so the search stops there."""
        live = routing.live(plan)
        for version in live.versions:
            request = Request(live.resource, live.group, live.name, self.namespace, version)
            answer = self.http.get(request, request.path(version))
            if not isinstance(answer, NotFound):
                return self._parsed(request, partial(live_routing, answer, live, version, plan))
            if answer.details.get("name") == live.name:
                return LiveRouting(live.kind, live.name, False, api_version(live.group, version), None,
                                   f"{live.kind} {escape(live.name)} not found in namespace {self.namespace}")
            # The Status names nothing: this version is not served; try an older one.
        return LiveRouting(live.kind, live.name, False, None, None, f"the cluster serves no {live.group} "
                                                                    f"{'/'.join(live.versions)} ({live.product} not "
                                                                    "installed?)")

    def _parsed(self, request: Request, parse: Callable[[], T]) -> T:
        """What `parse` makes of an answer; a ClusterError naming the request when it is malformed."""
        try:
            return parse()
        except Malformed as e:  # its text may quote the answer as it is
            raise malformed(self.http.host, request, one_line(e)) from e
