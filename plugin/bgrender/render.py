"""Plan → Kubernetes objects (DESIGN §4–§5). Pure: plain dicts in, plain dicts out.

Label placement is the point of the whole tool: selectors get the app labels plus the
color (constant for a Deployment's life); the version goes only on pod templates, so a
release is an ordinary rolling update and never `spec.selector: field is immutable`.
"""

from __future__ import annotations

from . import waves
from .colors import COLORS
from .companions import companion_objects
from .intent import SmokeTest
from .labels import APP_LABEL, HOOK, HOOK_DELETE_POLICY, SYNC_WAVE
from .plan import ColorPlan, Plan

TYPE_CHECKING = False  # the typing module costs ~3 ms at startup; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

# The smoke test gives up after timeoutSeconds; this leaves room for the image pull and
# the Istio proxy start before Kubernetes itself kills the Job.
SMOKE_TEST_GRACE_SECONDS = 120


def render(plan: Plan) -> list[dict[str, Any]]:
    objects = [service(plan), destination_rule(plan), virtual_service(plan)]
    objects += [deployment(plan, cp) for cp in plan.colors.values()]
    if plan.intent.smoke_test is not None:
        objects.append(smoke_test_job(plan, plan.intent.smoke_test))
    objects += companion_objects(plan, objects)
    return sorted(objects, key=_apply_order)


def _apply_order(obj: dict[str, Any]) -> tuple[int, str, str]:
    return int(obj["metadata"]["annotations"][SYNC_WAVE]), obj["kind"], obj["metadata"]["name"]


def _metadata(plan: Plan, name: str, wave: int, labels: dict[str, str]) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": dict(labels), "annotations": {SYNC_WAVE: str(wave)}}
    if plan.namespace:
        meta["namespace"] = plan.namespace
    return meta


def deployment(plan: Plan, cp: ColorPlan) -> dict[str, Any]:
    """The base Deployment with this color's name, labels, wave and replicas, and the selector
    and pod template of what the color runs (its lock entry): DESIGN §4's table, §9."""
    d = dict(cp.shell)
    meta = d["metadata"] = dict(d["metadata"])
    meta["name"] = cp.deployment_name
    if plan.namespace:
        meta["namespace"] = plan.namespace
    meta["labels"] = {**(meta.get("labels") or {}), plan.intent.color_label: cp.color}
    meta["annotations"] = {**(meta.get("annotations") or {}), SYNC_WAVE: str(cp.wave)}
    d["spec"] = {**d["spec"], "replicas": cp.replicas, "selector": {"matchLabels": dict(cp.entry.selector)},
                 "template": cp.entry.template}
    if cp.bounds is not None:  # its HPA sets the replicas; Argo CD must not set them back
        del d["spec"]["replicas"]
    return d


def service(plan: Plan) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(plan, plan.intent.service_name, waves.SHARED, plan.app_labels),
        "spec": {
            # Both colors are endpoints; the DestinationRule subsets tell them apart.
            "selector": dict(plan.app_labels),
            # Istio picks the protocol from the port name.
            "ports": [{"name": "http", "port": plan.port, "targetPort": plan.target_port, "protocol": "TCP"}],
        },
    }


def destination_rule(plan: Plan) -> dict[str, Any]:
    # Both subsets always exist: a release never adds or removes one, so no route can
    # name a subset Envoy does not know yet (503 NC).
    subsets = [{"name": c, "labels": {plan.intent.color_label: c}} for c in COLORS]
    return {
        "apiVersion": plan.istio_api,
        "kind": "DestinationRule",
        "metadata": _metadata(plan, plan.intent.destination_rule, waves.SHARED, plan.app_labels),
        "spec": {"host": plan.intent.service_name, "subsets": subsets},
    }


def virtual_service(plan: Plan) -> dict[str, Any]:
    intent = plan.intent
    # A header route only for a color with pods: a subset with no endpoints answers 503.
    header_routes = [
        {"name": f"{cp.color}-by-header",
         "match": [{"headers": {intent.header: {"exact": cp.color}}}],
         "route": [_destination(plan, cp.color)]}
        for cp in plan.colors.values() if cp.replicas > 0
    ]
    production = {"name": "production", "route": [_destination(plan, intent.active)]}
    spec: dict[str, Any] = {"hosts": list(intent.hosts)}
    if intent.gateways:
        spec["gateways"] = list(intent.gateways)
    spec["http"] = header_routes + [production]  # first match wins: the catch-all goes last
    return {
        "apiVersion": plan.istio_api,
        "kind": "VirtualService",
        "metadata": _metadata(plan, intent.virtual_service, waves.ROUTES, plan.app_labels),
        "spec": spec,
    }


def _destination(plan: Plan, color: str) -> dict[str, Any]:
    return {"destination": {"host": plan.intent.service_name, "subset": color,
                            "port": {"number": plan.port}}}


# Kept constant: user values reach the script only as environment variables, never as code.
SMOKE_TEST_SCRIPT = """\
deadline=$(( $(date +%s) + TIMEOUT_SECONDS ))
while :; do
  status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "$HEADER: $COLOR" "$URL") || true
  [ "$status" = "$EXPECT_STATUS" ] && break
  [ "$(date +%s)" -ge "$deadline" ] && break
  sleep 2
done
# Tell the Istio proxy to exit too, or the Job never completes.
curl -s -o /dev/null -X POST http://127.0.0.1:15020/quitquitquit || true
if [ "$status" = "$EXPECT_STATUS" ]; then
  echo "smoke test passed: $URL with $HEADER: $COLOR answered $status"
  exit 0
fi
echo "smoke test failed: $URL with $HEADER: $COLOR answered ${status:-nothing}, expected $EXPECT_STATUS" >&2
exit 1
"""


def smoke_test_job(plan: Plan, test: SmokeTest) -> dict[str, Any]:
    intent = plan.intent
    meta = _metadata(plan, f"{intent.name}-smoke-test", waves.SMOKE_TEST, {APP_LABEL: intent.name})
    meta["annotations"].update({HOOK: "Sync", HOOK_DELETE_POLICY: "BeforeHookCreation"})
    env = {"URL": f"http://{intent.service_name}:{plan.port}{test.path}", "HEADER": intent.header,
           "COLOR": intent.active, "EXPECT_STATUS": str(test.expect_status),
           "TIMEOUT_SECONDS": str(test.timeout_seconds)}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": meta,
        "spec": {
            "backoffLimit": 0,
            "activeDeadlineSeconds": test.timeout_seconds + SMOKE_TEST_GRACE_SECONDS,
            "template": {
                "metadata": {
                    # Not the app labels: the Service must not send traffic to the test pod.
                    "labels": {APP_LABEL: intent.name, "sidecar.istio.io/inject": "true"},
                    "annotations": {"proxy.istio.io/config": '{"holdApplicationUntilProxyStarts": true}'},
                },
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{
                        "name": "smoke-test",
                        "image": test.image,
                        "command": ["sh", "-c", SMOKE_TEST_SCRIPT],
                        "env": [{"name": k, "value": v} for k, v in env.items()],
                    }],
                },
            },
        },
    }
