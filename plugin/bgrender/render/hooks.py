"""The Jobs Argo CD runs as sync hooks (DESIGN §12, §17): the smoke tests, the metric gates
(promotion.analysis) and the scale-down delay.

- Before production moves (Sync hook, wave 1): the smoke test of the color about to serve
  production, through that color's own Service, `<service>-<color>`: no header route, so it
  tests that color even when the live routes do not know it yet, and with `idleReplicas: 0`.
  It must pass, or the sync fails and the routes (wave 3) are never applied.
- After the sync, in manual mode (PostSync hook): the smoke test of the idle color, so a release
  is tested before anyone promotes it; a failure fails the sync, visible in Argo CD. While the
  idle color holds a share of production (spec.traffic, DESIGN §18), in any mode, its smoke
  test and `before` analysis are Sync hooks instead, in the same waves as the active color's:
  the routes give it its share only after both passed.
- The analyses (`bgrender analyze --rendered`, from the bgrender image): `before`, a Sync hook in
  a wave of its own after the smoke test's (Argo CD runs the hooks of one wave side by side and
  waits only between waves), on the color about to serve production, so the routes move only
  after both passed; in manual mode also a PostSync hook on the idle color, after its smoke test;
  `after`, a PostSync hook on the production color. The Job carries the analysis in
  $BGRENDER_ANALYSIS (it has no checkout of the repository), every variable replaced.
- Between the switch (wave 3) and the idle color (wave 5), when the color losing production
  scales down: a pause of promotion.scaleDownDelaySeconds (wave 4), as Argo Rollouts waits, since
  Argo CD has no health check for Istio routes and would start wave 5 about 2 s after the switch.

- With autoscaling and both colors deployed (Sync hook, wave 1, DESIGN §16): the capacity hook,
  `bgrender scale-up` from the bgrender image, which scales the color about to serve production
  to at least what the other color runs now (and minReplicas), never lowering a count, and
  waits until that many pods are ready. Its ServiceAccount, Role and RoleBinding are hook
  objects too: `get` on the two color Deployments and `patch` on their `scale`, by name, in the
  app's namespace; deleted again when the sync succeeds. It alone mounts a token.

Their pods pass Pod Security `restricted` (non-root, no privilege escalation, all capabilities
dropped, RuntimeDefault seccomp) and carry requests and limits (a ResourceQuota admits them).
Their scripts and commands are constants: user values reach them only as environment variables
or arguments, never as code.
"""

from __future__ import annotations

from bgrender import TYPE_CHECKING, routing, waves
from bgrender.colors import COLORS, Color, other
from bgrender.digest import canonical_json
from bgrender.errors import InvalidInput
from bgrender.labels import APP_LABEL, HOOK, HOOK_DELETE_POLICY, metadata
from bgrender.names import hook_job

if TYPE_CHECKING:
    from typing import Any

    from bgrender.intent.analysis import Analysis
    from bgrender.intent.intent import SmokeTest
    from bgrender.plan.plan import Capacity, Plan

# The test gives up after timeoutSeconds; this leaves room for the image pull and the Istio
# proxy's start before Kubernetes itself stops the Job.
GRACE_SECONDS = 120
# Any non-root user: the images need no home and write nothing (the root filesystem is read-only).
USER = 65532
RESOURCES = {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"cpu": "200m", "memory": "64Mi"}}
INJECT = "sidecar.istio.io/inject"
# How long the capacity hook waits for the pods it asked for: a Deployment's default
# progressDeadlineSeconds, after which Kubernetes itself calls a rollout failed.
CAPACITY_TIMEOUT_SECONDS = 600
RBAC = "rbac.authorization.k8s.io/v1"

# curl -g: a path's "[1-3]" or "{a,b}" is the path, not a glob of several URLs.
SMOKE_TEST_SCRIPT = """\
deadline=$(( $(date +%s) + TIMEOUT_SECONDS ))
while :; do
  status=$(curl -s -g -o /dev/null -w '%{http_code}' --max-time 5 "$URL") || true
  [ "$status" = "$EXPECT_STATUS" ] && break
  [ "$(date +%s)" -ge "$deadline" ] && break
  sleep 2
done
# A classic Istio sidecar runs until told to exit, and the Job would never complete; a native
# one (an init container) exits with the pod anyway; without a sidecar this call just fails.
curl -s -o /dev/null --max-time 2 -X POST http://127.0.0.1:15020/quitquitquit || true
if [ "$status" = "$EXPECT_STATUS" ]; then
  echo "smoke test passed: $COLOR at $URL answered $status"
  exit 0
fi
echo "smoke test failed: $COLOR at $URL answered ${status:-nothing}, expected $EXPECT_STATUS" >&2
exit 1
"""


def hook_jobs(plan: Plan) -> list[dict[str, Any]]:
    """The Jobs this app's syncs run, in their phases and waves."""
    jobs = []
    test = plan.intent.smoke_test
    idle = plan.colors.get(other(plan.active))
    idle_runs = plan.intent.mode == "manual" and idle is not None and idle.replicas > 0
    # A color holding a share of production (spec.traffic) is tested like the active color:
    # in the Sync phase, before the routes give it its share.
    idle_phase = "Sync" if idle is not None and idle.share > 0 else "PostSync" if idle_runs else None
    if test is not None:
        jobs.append(smoke_test(plan, test, plan.active, "Sync", "smoke-test"))
        if idle_phase:
            jobs.append(smoke_test(plan, test, other(plan.active), idle_phase, "smoke-test-idle"))
    analysis = plan.intent.analysis
    if analysis is not None and analysis.before:
        jobs.append(analysis_job(plan, analysis, plan.active, "Sync", "analysis-before"))
        if idle_phase:
            jobs.append(analysis_job(plan, analysis, other(plan.active), idle_phase, "analysis-idle"))
    if analysis is not None and analysis.after:
        jobs.append(analysis_job(plan, analysis, plan.active, "PostSync", "analysis-after"))
    if scales_down(plan):
        jobs.append(scale_down_delay(plan))
    if plan.capacity is not None:
        jobs += capacity_hook(plan, plan.capacity)
    return jobs


def smoke_test(plan: Plan, test: SmokeTest, color: Color, phase: str, purpose: str) -> dict[str, Any]:
    intent = plan.intent
    host = routing.color_service(plan, color) + (f".{plan.namespace}" if plan.namespace else "")
    env = {"URL": f"http://{host}:{plan.port}{test.path}", "COLOR": color, "EXPECT_STATUS": str(test.expect_status),
           "TIMEOUT_SECONDS": str(test.timeout_seconds)}
    container = _container("smoke-test", test.image, ["sh", "-c", SMOKE_TEST_SCRIPT], env)
    pod = _pod(container, test)
    pod_metadata: dict[str, Any] = {"labels": {APP_LABEL: intent.name}}
    if intent.provider == "istio":
        # In the mesh (mTLS), and started only once the proxy is ready.
        pod_metadata["labels"][INJECT] = "true"
        pod_metadata["annotations"] = {"proxy.istio.io/config": '{"holdApplicationUntilProxyStarts": true}'}
    wave = waves.SMOKE_TEST if phase == "Sync" else waves.POST_SMOKE_TEST
    return _job(plan, hook_job(intent.name, purpose), phase, wave, test.timeout_seconds + GRACE_SECONDS,
                pod_metadata, pod)


# The Job's command: the analysis comes from $BGRENDER_ANALYSIS, as analysis_run writes it.
ANALYZE_COMMAND = ["bgrender", "analyze", "--rendered"]
ANALYSIS_VAR = "BGRENDER_ANALYSIS"


def analysis_job(plan: Plan, analysis: Analysis, color: Color, phase: str, purpose: str) -> dict[str, Any]:
    """A Job running `bgrender analyze` on `color`, outside the mesh (it calls only Prometheus,
    and a classic sidecar would keep it from completing)."""
    from bgrender.intent.analysis import analysis_run, query_values  # only for an app with metric gates

    assert plan.hook_image is not None  # resolve refuses an analysis without the image
    intent = plan.intent
    values = query_values(intent.name, plan.namespace, color, plan.colors[color].version, intent.service_name)
    run = canonical_json(analysis_run(analysis, color, values))
    container = _container("analysis", plan.hook_image, ANALYZE_COMMAND, {ANALYSIS_VAR: run})
    pod_metadata = {"labels": {APP_LABEL: intent.name, INJECT: "false"}}
    wave = waves.ANALYSIS if phase == "Sync" else waves.POST_ANALYSIS
    return _job(plan, hook_job(intent.name, purpose), phase, wave, analysis_seconds(analysis) + GRACE_SECONDS,
                pod_metadata, _pod(container, None))


def analysis_seconds(analysis: Analysis) -> int:
    """The longest an analysis can take: every measurement waiting its interval and every query
    its timeout."""
    return (analysis.count - 1) * analysis.interval + analysis.count * len(analysis.queries) * analysis.timeout_seconds


def scales_down(plan: Plan) -> bool:
    """Whether the color that loses production may run fewer replicas afterwards: only then does
    it need the pause (and every sync pays for it, so it is not rendered otherwise). With an
    HPA, production may run up to maxReplicas, and the losing color's HPA drops to the idle
    color's count right after the switch."""
    idle = plan.colors.get(other(plan.active))
    if plan.intent.scale_down_delay == 0 or idle is None or idle.share > 0:  # a share keeps what production runs
        return False
    active = plan.colors[plan.active]
    return idle.replicas < (active.bounds[1] if active.bounds else active.replicas)


def scale_down_delay(plan: Plan) -> dict[str, Any]:
    intent = plan.intent
    image = intent.smoke_test.image if intent.smoke_test else _default_image()
    container = _container("scale-down-delay", image, ["sleep", str(intent.scale_down_delay)], {})
    pod_metadata = {"labels": {APP_LABEL: intent.name, INJECT: "false"}}  # no network: no proxy to stop
    return _job(plan, hook_job(intent.name, "scale-down-delay"), "Sync", waves.SCALE_DOWN_DELAY,
                intent.scale_down_delay + GRACE_SECONDS, pod_metadata, _pod(container, intent.smoke_test))


def capacity_hook(plan: Plan, capacity: Capacity) -> list[dict[str, Any]]:
    """The Job that scales the color taking production before the route moves, and the
    ServiceAccount, Role and RoleBinding it runs as: hooks of the same wave, so they exist only
    around a sync (HookSucceeded deletes them once it succeeds)."""
    if capacity.problems:
        raise InvalidInput(list(capacity.problems))
    intent, name = plan.intent, hook_job(plan.intent.name, "capacity")
    scaling = intent.autoscaling
    assert scaling is not None
    target, other_color = plan.deployment_name(plan.active), plan.deployment_name(other(plan.active))
    command = ["bgrender", "scale-up", target, "--other", other_color, "--min-replicas", str(scaling.min_replicas),
               "--timeout", str(CAPACITY_TIMEOUT_SECONDS)]
    pod = _pod(_container("capacity", capacity.image, command, {}), None)
    pod.update(serviceAccountName=name, automountServiceAccountToken=True)  # the one hook that talks to the API
    job = _job(plan, name, "Sync", waves.CAPACITY, CAPACITY_TIMEOUT_SECONDS + GRACE_SECONDS,
               {"labels": {APP_LABEL: intent.name, INJECT: "false"}}, pod)  # no proxy: the Job could not end
    colors = [plan.deployment_name(c) for c in COLORS]
    rules = [{"apiGroups": ["apps"], "resources": ["deployments"], "resourceNames": colors, "verbs": ["get"]},
             {"apiGroups": ["apps"], "resources": ["deployments/scale"], "resourceNames": colors, "verbs": ["patch"]}]
    account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _hook_metadata(plan, name),
               "automountServiceAccountToken": False}
    role = {"apiVersion": RBAC, "kind": "Role", "metadata": _hook_metadata(plan, name), "rules": rules}
    binding = {"apiVersion": RBAC, "kind": "RoleBinding", "metadata": _hook_metadata(plan, name),
               "roleRef": {"apiGroup": RBAC.split("/")[0], "kind": "Role", "name": name},
               "subjects": [_subject(plan, name)]}
    return [account, role, binding, job]


def _subject(plan: Plan, name: str) -> dict[str, Any]:
    """The hook's ServiceAccount. Without a namespace in the render (Argo CD puts the objects in
    the destination's) the subject names none: RBAC then takes the RoleBinding's own."""
    subject = {"kind": "ServiceAccount", "name": name}
    return {**subject, "namespace": plan.namespace} if plan.namespace else subject


def _hook_metadata(plan: Plan, name: str) -> dict[str, Any]:
    meta = metadata(name, plan.namespace, {APP_LABEL: plan.intent.name}, waves.CAPACITY)
    meta["annotations"].update({HOOK: "Sync", HOOK_DELETE_POLICY: "BeforeHookCreation,HookSucceeded"})
    return meta


def _default_image() -> str:
    from bgrender.intent.spec import default

    return default("promotion", "smokeTest", "image")


def _job(plan: Plan, name: str, phase: str, wave: int, deadline: int, pod_metadata: dict[str, Any],
         pod: dict[str, Any]) -> dict[str, Any]:
    meta = metadata(name, plan.namespace, {APP_LABEL: plan.intent.name}, wave)
    # Each sync replaces the last run, which stays until then for its logs.
    meta["annotations"].update({HOOK: phase, HOOK_DELETE_POLICY: "BeforeHookCreation"})
    # Not the app labels: no Service may send traffic to these pods.
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta,
            "spec": {"backoffLimit": 0, "activeDeadlineSeconds": deadline,
                     "template": {"metadata": pod_metadata, "spec": pod}}}


def _container(name: str, image: str, command: list[str], env: dict[str, str]) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": name, "image": image, "command": command,
        "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
                            "readOnlyRootFilesystem": True},
        "resources": RESOURCES,
    }
    if env:
        container["env"] = [{"name": k, "value": v} for k, v in env.items()]
    return container


def _pod(container: dict[str, Any], test: SmokeTest | None) -> dict[str, Any]:
    pod: dict[str, Any] = {
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,
        "securityContext": {"runAsNonRoot": True, "runAsUser": USER, "runAsGroup": USER,
                            "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [container],
    }
    if test is not None and test.service_account:
        pod["serviceAccountName"] = test.service_account
    if test is not None and test.pull_secrets:
        pod["imagePullSecrets"] = [{"name": name} for name in test.pull_secrets]
    return pod
