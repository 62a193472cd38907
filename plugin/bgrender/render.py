"""Plan → Kubernetes objects (DESIGN §4–§5). Pure: plain dicts in, plain dicts out.

Label placement is the point of the whole tool: selectors get the app labels plus the
color (constant for a Deployment's life); the version goes only on pod templates, so a
release is an ordinary rolling update and never `spec.selector: field is immutable`.
"""

from __future__ import annotations

from . import labels, routing, waves
from .companions import companion_objects
from .intent import SmokeTest
from .labels import APP_LABEL, HOOK, HOOK_DELETE_POLICY, SYNC_WAVE, metadata
from .plan import ColorPlan, Plan

TYPE_CHECKING = False  # the typing module costs ~3 ms at startup; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

# The smoke test gives up after timeoutSeconds; this leaves room for the image pull and
# the Istio proxy start before Kubernetes itself kills the Job.
SMOKE_TEST_GRACE_SECONDS = 120


def render(plan: Plan) -> list[dict[str, Any]]:
    objects = routing.objects(plan)
    objects += [deployment(plan, cp) for cp in plan.colors.values()]
    if plan.intent.smoke_test is not None:
        objects.append(smoke_test_job(plan, plan.intent.smoke_test))
    objects += companion_objects(plan, objects)
    return sorted(objects, key=_apply_order)


def _apply_order(obj: dict[str, Any]) -> tuple[int, str, str]:
    return int(obj["metadata"]["annotations"][SYNC_WAVE]), obj["kind"], obj["metadata"]["name"]


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
    meta = metadata(labels.bounded_name(intent.name, "-smoke-test"), plan.namespace, {APP_LABEL: intent.name},
                    waves.SMOKE_TEST)
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
