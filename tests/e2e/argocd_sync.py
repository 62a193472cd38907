"""Apply a render to a real API server the way an Argo CD sync does (a test driver, not Argo CD).

What it does, and the gitops-engine code it follows. Citations are `path:lines@commit` in
argoproj/gitops-engine at 5baed5604d2dd970619fc9b91e8d31724662ab3e ("ge", the engine of Argo CD
v3.3) and argoproj/argo-cd at 37ee0097cf851bc2dd7665fc081bbce61a7e836e ("cd", after v3.5.1,
which builds an in-tree copy of the engine); the project's notes on them are in
`../shared/reference/argocd-sync-semantics.md`.

- Tasks. Every object is a task of the Sync phase, except hooks: `argocd.argoproj.io/hook`
  (a comma-separated list) makes one task per phase named there, PreSync, Sync or PostSync; an
  object that only says Skip gets no task (ge pkg/sync/hook/hook.go:26-56,
  pkg/sync/sync_phase.go:10-27). Hooks are never pruned (ge pkg/sync/reconcile.go:13-27).
- Order. Tasks sort by phase (PreSync, Sync, PostSync; ge pkg/sync/sync_tasks.go:15-20), then
  wave (`argocd.argoproj.io/sync-wave`, default 0; ge pkg/sync/syncwaves/waves.go:12-21), then
  Argo CD's kind order (`KIND_ORDER`; kinds it does not list last; ge
  pkg/sync/sync_tasks.go:27-67), then name (ge pkg/sync/sync_tasks.go:85-110).
- Tracking. Every object but a CRD is stamped `argocd.argoproj.io/tracking-id:
  <app>:<group>/<kind>:<namespace>/<name>`, Argo CD's default annotation tracking (cd
  util/argo/resource_tracking.go:233-235, reposerver/repository/repository.go:1835-1841).
- Prune. A live object is pruned when its tracking id names this app and this very object, it
  has no ownerReferences, is no hook and no rendered object has its key (ge
  pkg/cache/cluster.go:1194-1198, pkg/sync/reconcile.go:108-111; cd controller/state.go:1348-1397).
  It is pruned in the Sync phase, in its live wave with the prune waves mirrored (the last
  created is the first deleted), or after the last Sync wave with `PruneLast=true` in its
  `argocd.argoproj.io/sync-options` (ge pkg/sync/sync_context.go:911-958), before that wave's
  applies, with Foreground propagation (ge pkg/sync/sync_context.go:1241-1248,1404-1444). The
  driver waits until it is gone (a pruned object with a deletionTimestamp blocks the next wave:
  ge pkg/sync/sync_context.go:474-514).
- A wave: prune; delete each BeforeHookCreation hook (the default delete policy) that exists,
  and wait until it is gone (ge pkg/sync/hook/delete_policy.go:11-25,
  pkg/sync/sync_context.go:1448-1479); then apply the runs of consecutive tasks of one kind, one
  run after another (ge pkg/sync/sync_context.go:1380-1531). Apply is server-side, forcing
  conflicts, field manager `argocd-controller` (ge pkg/sync/sync_context.go:1095-1110,1206,
  pkg/utils/kube/resource_ops.go:462-464; cd common/common.go:127-128), i.e. Argo CD with
  `ServerSideApply=true`.
- Waiting. Unless it is the last (phase, wave) and holds no hook, a wave is followed by a wait
  until every hook of it completed and every other object of it is Healthy or has no health
  check (ge pkg/sync/sync_context.go:474-514,566-571). Health is Argo CD's (`health()`):
  Deployment (ge pkg/health/health_deployment.go:28-70), ReplicaSet
  (ge pkg/health/health_replicaset.go:29-53), Pod (ge pkg/health/health_pod.go:30-134), Job
  (ge pkg/health/health_job.go:30-75), HPA (cd gitops-engine/pkg/health/health_hpa.go:86-125, see
  below), Service (ge pkg/health/health_service.go:28-38), PodDisruptionBudget (cd
  resource_customizations/policy/PodDisruptionBudget/health.lua:3-24), HTTPRoute (cd
  resource_customizations/gateway.networking.k8s.io/HTTPRoute/health.lua:14-97); ConfigMaps,
  Istio objects and the rest have none (ge pkg/health/health.go:104-152). A hook is Succeeded
  when Healthy, Failed when Degraded (ge pkg/sync/sync_context.go:318-341). Degraded, or a
  failed hook, fails the sync: no later wave runs (ge pkg/sync/sync_context.go:539-544,591-595).
- End. On success, hooks with the HookSucceeded delete policy are deleted; on failure, those
  with HookFailed (ge pkg/sync/sync_context.go:526-532,597-600).

The HPA. Argo CD 3.5 counts an HPA Degraded when any condition says it cannot read its metrics
(`ScalingActive` False, `FailedGetResourceMetric`), so on a cluster without metrics-server every
HPA is Degraded, and a sync of an app with autoscaling fails at its first HPA (docs/companions.md says
so); v3.3 read the conditions in order, and `AbleToScale` True came first. The test cluster
has no metrics-server by construction (nothing runs, so there is nothing to measure). The
driver applies the 3.5 rule, with one exception: an HPA whose only degrading condition is
`FailedGetResourceMetric`, on a cluster that serves no `metrics.k8s.io`, counts as Healthy, and
the sync result carries a note saying that Argo CD 3.5 would fail there (`SyncResult.notes`).
Any other degrading condition (FailedGetScale, InvalidSelector, ...) still fails the sync.

What it leaves out:
- the `ARGOCD_SYNC_WAVE_DELAY` sleep of 2 s after a wave (cd controller/sync.go:705-725): it
  waits on the objects' status instead (the health checks read `observedGeneration`);
- Argo CD's `--dry-run=client` pass over all tasks before applying anything
  (ge pkg/sync/sync_context.go:416-459,862-909): the driver does a `--dry-run=server` pass over
  the non-hook objects instead (stricter: admission runs too; hooks are left out, since an old
  hook of the same name may still exist until BeforeHookCreation deletes it);
- SyncFail hooks (ge pkg/sync/sync_context.go:732-762) and Helm hook annotations (bgrender
  renders neither), the hook finalizer, `generateName` hooks, `Replace=`, `Force=`,
  `Prune=false|confirm`, `Validate=false`, client-side apply, `CreateNamespace` (the tests
  create the namespace), lifting Namespaces and CRDs ahead of their dependants, retries,
  selective syncs, and pruning of cluster-scoped objects;
- Argo CD waits without a timeout (ge pkg/sync/sync_context.go:1287-1322, only the controller's
  optional --sync-timeout ends it): the driver gives up after `timeout` seconds per wave with
  `SyncTimeout`, naming what it waited for.
"""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass, field
from typing import Any, Callable

HOOK = "argocd.argoproj.io/hook"
HOOK_DELETE_POLICY = "argocd.argoproj.io/hook-delete-policy"
WAVE = "argocd.argoproj.io/sync-wave"
SYNC_OPTIONS = "argocd.argoproj.io/sync-options"
TRACKING_ID = "argocd.argoproj.io/tracking-id"
FIELD_MANAGER = "argocd-controller"

PHASES = ("PreSync", "Sync", "PostSync")
# ge pkg/sync/sync_tasks.go:27-67@5baed56
KIND_ORDER = (
    "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy", "PodDisruptionBudget",
    "ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass", "PersistentVolume",
    "PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole", "ClusterRoleList", "ClusterRoleBinding",
    "ClusterRoleBindingList", "Role", "RoleList", "RoleBinding", "RoleBindingList", "Service", "DaemonSet", "Pod",
    "ReplicationController", "ReplicaSet", "Deployment", "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob",
    "IngressClass", "Ingress", "APIService",
)

HEALTHY, PROGRESSING, DEGRADED, SUSPENDED, MISSING = "Healthy", "Progressing", "Degraded", "Suspended", "Missing"


class SyncFailed(Exception):
    """The sync failed as Argo CD's would: a Degraded object, a failed hook, an apply error."""

    def __init__(self, message: str, result: SyncResult):
        super().__init__(message)
        self.result = result


class SyncTimeout(SyncFailed):
    """A wave did not become healthy within the driver's timeout (Argo CD would keep waiting)."""


# ---------------------------------------------------------------------------------------------
# kubectl


class Kubectl:
    def __init__(self, kubeconfig: str):
        self.kubeconfig = str(kubeconfig)
        self._resources: dict[tuple[str, str], tuple[str, bool]] | None = None

    def run(self, *args: str, stdin: str | None = None, check: bool = True, timeout: float = 120
            ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(["kubectl", "--kubeconfig", self.kubeconfig, *args], input=stdin, text=True,
                              capture_output=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise KubectlError(args, proc)
        return proc

    def json(self, *args: str, stdin: str | None = None) -> Any:
        out = self.run(*args, "-o", "json", stdin=stdin).stdout
        return json.loads(out) if out.strip() else {"kind": "List", "items": []}

    def items(self, *args: str, stdin: str | None = None) -> list[dict]:
        """The objects kubectl printed: a List's items, or the one object it printed alone."""
        out = self.json(*args, stdin=stdin)
        return out["items"] if out.get("kind") == "List" or "items" in out else [out]

    def resources(self) -> dict[tuple[str, str], tuple[str, bool]]:
        """(group, kind) -> (kubectl resource name `plural.group`, namespaced), from discovery."""
        if self._resources is None:
            self._resources = {}
            for group_version, doc in self._discovery():
                group = group_version.split("/")[0] if "/" in group_version else ""
                for res in doc:
                    if "/" in res["name"]:
                        continue
                    name = f"{res['name']}.{group}" if group else res["name"]
                    self._resources.setdefault((group, res["kind"]), (name, res["namespaced"]))
        return self._resources

    def forget_discovery(self) -> None:
        """Read the served resources again at the next need (after a CRD was installed)."""
        self._resources = None

    def _discovery(self) -> list[tuple[str, list[dict]]]:
        found = []
        core = json.loads(self.run("get", "--raw", "/api/v1").stdout)
        found.append(("v1", core["resources"]))
        groups = json.loads(self.run("get", "--raw", "/apis").stdout)
        for g in groups["groups"]:
            gv = g["preferredVersion"]["groupVersion"]
            found.append((gv, json.loads(self.run("get", "--raw", f"/apis/{gv}").stdout)["resources"]))
        return found

    def resource_of(self, obj: dict) -> tuple[str, bool]:
        group = obj["apiVersion"].split("/")[0] if "/" in obj["apiVersion"] else ""
        try:
            return self.resources()[(group, obj["kind"])]
        except KeyError:
            raise KeyError(f"the API server serves no {obj['kind']} in group {group!r}") from None


class KubectlError(Exception):
    def __init__(self, args: tuple[str, ...], proc: subprocess.CompletedProcess[str]):
        super().__init__(f"kubectl {' '.join(args)} exited {proc.returncode}: {proc.stderr.strip()}")
        self.stderr = proc.stderr
        self.returncode = proc.returncode


# ---------------------------------------------------------------------------------------------
# tasks


def annotations(obj: dict) -> dict[str, str]:
    return (obj.get("metadata") or {}).get("annotations") or {}


def group_of(obj: dict) -> str:
    return obj["apiVersion"].split("/")[0] if "/" in obj["apiVersion"] else ""


def key_of(obj: dict) -> tuple[str, str, str, str]:
    meta = obj["metadata"]
    return (group_of(obj), obj["kind"], meta.get("namespace") or "", meta["name"])


def wave_of(obj: dict) -> int:
    return int(annotations(obj).get(WAVE, "0"))


def hook_phases(obj: dict) -> list[str]:
    value = annotations(obj).get(HOOK)
    if value is None:
        return []
    return [p.strip() for p in value.split(",") if p.strip()]


def is_hook(obj: dict) -> bool:
    phases = hook_phases(obj)
    return bool(phases) and phases != ["Skip"]


def delete_policies(obj: dict) -> set[str]:
    value = annotations(obj).get(HOOK_DELETE_POLICY)
    return {p.strip() for p in value.split(",")} if value else {"BeforeHookCreation"}


def sync_options(obj: dict) -> set[str]:
    value = annotations(obj).get(SYNC_OPTIONS, "")
    return {p.strip() for p in value.split(",") if p.strip()}


def kind_rank(kind: str) -> int:
    return KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)


@dataclass
class Task:
    obj: dict
    phase: str
    wave: int
    hook: bool
    prune: bool = False

    @property
    def kind(self) -> str:
        return self.obj["kind"]

    @property
    def name(self) -> str:
        return self.obj["metadata"]["name"]

    @property
    def namespace(self) -> str:
        return self.obj["metadata"].get("namespace") or ""

    def sort_key(self) -> tuple:
        # ge pkg/sync/sync_tasks.go:85-110: phase, wave, kind, name
        return (PHASES.index(self.phase), self.wave, kind_rank(self.kind), self.name)

    def label(self) -> str:
        return f"{self.kind}/{self.name}"


@dataclass
class Event:
    """One step of the sync, in order: what was done to which objects, in which phase and wave."""

    action: str                 # "prune", "delete-hook", "apply", "healthy" (the wave's wait ended)
    phase: str
    wave: int
    objects: list[str]          # "Kind/name"
    at: float = field(default_factory=time.monotonic)


@dataclass
class SyncResult:
    events: list[Event] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    applied: dict[str, dict] = field(default_factory=dict)   # "Kind/name" -> the server's answer to the apply

    def applied_in(self, action: str = "apply") -> list[tuple[str, int, str]]:
        return [(e.phase, e.wave, o) for e in self.events if e.action == action for o in e.objects]

    def index(self, obj: str, action: str = "apply") -> int:
        """The position of the first event that did `action` to `obj` ("Kind/name")."""
        for i, e in enumerate(self.events):
            if e.action == action and obj in e.objects:
                return i
        raise KeyError(f"{action} {obj} not in the sync: {[(e.action, e.objects) for e in self.events]}")


# ---------------------------------------------------------------------------------------------
# health (Argo CD's rules; see the module docstring for the sources)


def _conditions(obj: dict) -> list[dict]:
    return (obj.get("status") or {}).get("conditions") or []


def _condition(obj: dict, kind: str) -> dict | None:
    return next((c for c in _conditions(obj) if c.get("type") == kind), None)


def deployment_health(d: dict) -> tuple[str, str]:
    spec, status = d.get("spec") or {}, d.get("status") or {}
    if spec.get("paused"):
        return SUSPENDED, "Deployment is paused"
    if d["metadata"].get("generation", 0) > status.get("observedGeneration", 0):
        return PROGRESSING, "observed deployment generation less than desired generation"
    progressing = _condition(d, "Progressing")
    updated = status.get("updatedReplicas", 0)
    if progressing and progressing.get("reason") == "ProgressDeadlineExceeded":
        return DEGRADED, f"Deployment {d['metadata']['name']} exceeded its progress deadline"
    if spec.get("replicas") is not None and updated < spec["replicas"]:
        return PROGRESSING, f"{updated} out of {spec['replicas']} new replicas have been updated"
    if status.get("replicas", 0) > updated:
        return PROGRESSING, f"{status.get('replicas', 0) - updated} old replicas are pending termination"
    if status.get("availableReplicas", 0) < updated:
        return PROGRESSING, f"{status.get('availableReplicas', 0)} of {updated} updated replicas are available"
    return HEALTHY, ""


def replicaset_health(rs: dict) -> tuple[str, str]:
    status = rs.get("status") or {}
    if rs["metadata"].get("generation", 0) > status.get("observedGeneration", 0):
        return PROGRESSING, "waiting for rollout to finish: observed replica set generation less than desired"
    failure = _condition(rs, "ReplicaFailure")
    if failure and failure.get("status") == "True":
        return DEGRADED, failure.get("message", "")
    if status.get("availableReplicas", 0) < (rs.get("spec") or {}).get("replicas", 1):
        return PROGRESSING, "waiting for rollout to finish"
    return HEALTHY, ""


def job_health(job: dict) -> tuple[str, str]:
    failed = complete = suspended = None
    for c in _conditions(job):
        if c.get("type") == "Failed" and c.get("status") == "True":
            failed = c
        elif c.get("type") == "Complete" and c.get("status") == "True":
            complete = c
        elif c.get("type") == "Suspended":
            suspended = c
    if failed is not None:
        return DEGRADED, failed.get("message", "")
    if complete is not None:
        return HEALTHY, complete.get("message", "")
    if suspended is not None and suspended.get("status") == "True":
        return SUSPENDED, suspended.get("message", "")
    return PROGRESSING, "job has not completed"


def pod_health(pod: dict) -> tuple[str, str]:
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    always = spec.get("restartPolicy", "Always") == "Always"
    if always:
        for cs in status.get("containerStatuses") or []:
            reason = ((cs.get("state") or {}).get("waiting") or {}).get("reason", "")
            if reason.startswith("Err") or reason.endswith("Error") or reason.endswith("BackOff"):
                return DEGRADED, reason
    phase = status.get("phase", "Pending")
    if phase == "Pending":
        return PROGRESSING, "pending"
    if phase == "Succeeded":
        return HEALTHY, ""
    if phase == "Failed":
        return DEGRADED, status.get("message", "failed")
    if phase == "Running" and always:
        ready = _condition(pod, "Ready")
        if ready and ready.get("status") == "True":
            return HEALTHY, ""
        if any((cs.get("lastState") or {}).get("terminated") for cs in status.get("containerStatuses") or []):
            return DEGRADED, "restarted"
        return PROGRESSING, "not ready"
    return PROGRESSING, phase


HPA_DEGRADED = {("AbleToScale", "FailedGetScale"), ("AbleToScale", "FailedUpdateScale"),
                ("ScalingActive", "FailedGetResourceMetric"), ("ScalingActive", "InvalidSelector")}


def hpa_health(hpa: dict) -> tuple[str, str]:
    """Argo CD 3.5's rule: any degrading condition first, then AbleToScale or ScalingLimited True."""
    conditions = _conditions(hpa)
    for c in conditions:
        if (c.get("type"), c.get("reason")) in HPA_DEGRADED:
            return DEGRADED, f"{c.get('type')}/{c.get('reason')}: {c.get('message', '')}"
    for c in conditions:
        if c.get("type") in ("AbleToScale", "ScalingLimited") and c.get("status") == "True":
            return HEALTHY, c.get("message", "")
    return PROGRESSING, "Waiting to Autoscale"


def service_health(svc: dict) -> tuple[str, str]:
    if (svc.get("spec") or {}).get("type") == "LoadBalancer":
        if ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress"):
            return HEALTHY, ""
        return PROGRESSING, "waiting for the load balancer"
    return HEALTHY, ""


def pdb_health(pdb: dict) -> tuple[str, str]:
    conditions = _conditions(pdb)
    if not conditions:
        return PROGRESSING, "Waiting for status"
    for c in conditions:
        if c.get("status") == "False" and c.get("reason") != "InsufficientPods":
            return DEGRADED, c.get("message", "")
    return HEALTHY, ""


def httproute_health(route: dict) -> tuple[str, str]:
    generation = route["metadata"].get("generation")
    parents = ((route.get("status") or {}).get("parents")) or []

    def current(parent: dict) -> bool:
        if generation is None:
            return True
        return any(c.get("observedGeneration") == generation for c in parent.get("conditions") or [])

    for parent in parents:
        conds = parent.get("conditions") or []
        if not conds or not current(parent):
            continue
        for kind in ("ResolvedRefs", "Accepted"):
            bad = next((c for c in conds if c.get("type") == kind and c.get("status") == "False"), None)
            if bad:
                return DEGRADED, bad.get("message", f"Failed condition: {kind}")
        programmed = next((c for c in conds if c.get("type") == "Programmed" and c.get("status") != "True"), None)
        if programmed:
            return PROGRESSING, programmed.get("message", "Route is still being programmed")
    if any(p.get("conditions") and current(p) for p in parents):
        return HEALTHY, ""
    return PROGRESSING, "Waiting for HTTPRoute status"


HEALTH: dict[tuple[str, str], Callable[[dict], tuple[str, str]]] = {
    ("apps", "Deployment"): deployment_health,
    ("apps", "ReplicaSet"): replicaset_health,
    ("", "Pod"): pod_health,
    ("batch", "Job"): job_health,
    ("autoscaling", "HorizontalPodAutoscaler"): hpa_health,
    ("", "Service"): service_health,
    ("policy", "PodDisruptionBudget"): pdb_health,
    ("gateway.networking.k8s.io", "HTTPRoute"): httproute_health,
}


def health(obj: dict | None) -> tuple[str | None, str]:
    """Argo CD's health of a live object; (None, "") for a kind without a health check."""
    if obj is None:
        return MISSING, "not found"
    if obj["metadata"].get("deletionTimestamp"):
        return PROGRESSING, "being deleted"
    check = HEALTH.get((group_of(obj), obj["kind"]))
    return check(obj) if check else (None, "")


# ---------------------------------------------------------------------------------------------
# the sync


class Sync:
    """Syncs one Argo CD Application `app` (tracking id prefix) whose objects live in `namespace`."""

    def __init__(self, kubectl: Kubectl, app: str, namespace: str, *, timeout: float = 120,
                 observer: Callable[[Event, SyncResult], None] | None = None):
        self.k = kubectl
        self.app = app
        self.namespace = namespace
        self.timeout = timeout
        self.observer = observer

    # -- preparing

    def _prepare(self, manifests: list[dict]) -> list[dict]:
        objs = []
        for m in manifests:
            obj = json.loads(json.dumps(m))
            _, namespaced = self.k.resource_of(obj)
            meta = obj.setdefault("metadata", {})
            if namespaced:
                meta.setdefault("namespace", self.namespace)
            if obj["kind"] != "CustomResourceDefinition":
                group, kind, ns, name = key_of(obj)
                meta.setdefault("annotations", {})[TRACKING_ID] = f"{self.app}:{group}/{kind}:{ns}/{name}"
            objs.append(obj)
        return objs

    def _tasks(self, objs: list[dict]) -> list[Task]:
        tasks = []
        for obj in objs:
            phases = hook_phases(obj)
            if not phases:
                tasks.append(Task(obj, "Sync", wave_of(obj), hook=False))
                continue
            for phase in phases:
                if phase in PHASES:
                    tasks.append(Task(obj, phase, wave_of(obj), hook=True))
                # Skip: no task; SyncFail: left out (see the docstring)
        return tasks

    def _live_tracked(self) -> list[dict]:
        """Live namespaced objects whose tracking id names this app and the object itself."""
        names = sorted({name for (group, kind), (name, namespaced) in self.k.resources().items()
                        if namespaced and kind not in ("Event", "Binding", "TokenReview", "LocalSubjectAccessReview")
                        and not (group == "events.k8s.io")})
        found = []
        for obj in self.k.items("get", "-n", self.namespace, ",".join(names), "--ignore-not-found"):
            tid = annotations(obj).get(TRACKING_ID, "")
            group, kind, ns, name = key_of(obj)
            if tid != f"{self.app}:{group}/{kind}:{ns}/{name}":
                continue
            if obj["metadata"].get("ownerReferences") or is_hook(obj):
                continue
            found.append(obj)
        return found

    def _prune_tasks(self, objs: list[dict], tasks: list[Task]) -> list[Task]:
        wanted = {key_of(o) for o in objs}
        prunes = [Task(o, "Sync", wave_of(o), hook=False, prune=True)
                  for o in self._live_tracked() if key_of(o) not in wanted]
        # mirror the prune waves (ge pkg/sync/sync_context.go:911-935)
        waves = sorted({t.wave for t in prunes})
        mirror = dict(zip(waves, reversed(waves)))
        for t in prunes:
            t.wave = mirror[t.wave]
        last = max([0, *(t.wave for t in tasks if t.phase == "Sync")]) + 1
        for t in prunes:
            if "PruneLast=true" in sync_options(t.obj):
                t.wave = last
        return prunes

    # -- running

    def run(self, manifests: list[dict]) -> SyncResult:
        result = SyncResult()
        objs = self._prepare(manifests)
        tasks = self._tasks(objs)
        tasks += self._prune_tasks(objs, tasks)
        tasks.sort(key=Task.sort_key)
        try:
            self._dry_run([t.obj for t in tasks if not t.hook and not t.prune])
        except KubectlError as e:   # nothing is applied when the dry run fails
            raise SyncFailed(f"dry run failed: {e.stderr.strip()}", result) from e

        groups: list[tuple[tuple[str, int], list[Task]]] = []
        for t in tasks:
            if groups and groups[-1][0] == (t.phase, t.wave):
                groups[-1][1].append(t)
            else:
                groups.append(((t.phase, t.wave), [t]))

        hooks_run: list[Task] = []
        try:
            for i, ((phase, wave), group) in enumerate(groups):
                self._prune(phase, wave, [t for t in group if t.prune], result)
                applies = [t for t in group if not t.prune]
                self._delete_hooks(phase, wave, [t for t in applies if t.hook
                                                 and "BeforeHookCreation" in delete_policies(t.obj)], result)
                self._apply(phase, wave, applies, result)
                hooks_run += [t for t in applies if t.hook]
                final = i == len(groups) - 1
                if final and not any(t.hook for t in group):
                    break   # ge pkg/sync/sync_context.go:566-571: done right after the last apply
                if len(groups) > 1 or any(t.hook for t in group):
                    self._wait(phase, wave, applies, result)
        except SyncFailed:
            self._delete_hooks_with_policy(hooks_run, "HookFailed")
            raise
        self._delete_hooks_with_policy(hooks_run, "HookSucceeded")
        return result

    def _emit(self, event: Event, result: SyncResult) -> None:
        result.events.append(event)
        if self.observer:
            self.observer(event, result)

    def _dry_run(self, objs: list[dict]) -> None:
        if objs:
            self.k.run("apply", "--server-side", "--force-conflicts", "--field-manager", FIELD_MANAGER,
                       "--dry-run=server", "-f", "-", stdin=_stream(objs))

    def _apply(self, phase: str, wave: int, tasks: list[Task], result: SyncResult) -> None:
        # runs of consecutive tasks of one kind, one after another (ge pkg/sync/sync_context.go:1380-1531)
        runs: list[list[Task]] = []
        for t in tasks:
            if runs and runs[-1][0].kind == t.kind:
                runs[-1].append(t)
            else:
                runs.append([t])
        for run in runs:
            try:
                out = self.k.items("apply", "--server-side", "--force-conflicts", "--field-manager", FIELD_MANAGER,
                                   "-f", "-", stdin=_stream([t.obj for t in run]))
            except KubectlError as e:
                raise SyncFailed(f"apply of {[t.label() for t in run]} failed: {e.stderr.strip()}", result) from e
            for item in out:
                result.applied[f"{item['kind']}/{item['metadata']['name']}"] = item
            self._emit(Event("apply", phase, wave, [t.label() for t in run]), result)

    def _delete(self, obj: dict, *, wait: bool, what: str) -> None:
        resource, _ = self.k.resource_of(obj)
        ns = ["-n", obj["metadata"]["namespace"]] if obj["metadata"].get("namespace") else []
        self.k.run("delete", *ns, resource, obj["metadata"]["name"], "--cascade=foreground", "--ignore-not-found",
                   f"--wait={'true' if wait else 'false'}", f"--timeout={int(self.timeout)}s",
                   timeout=self.timeout + 30)

    def _prune(self, phase: str, wave: int, tasks: list[Task], result: SyncResult) -> None:
        if not tasks:
            return
        for t in tasks:
            self._delete(t.obj, wait=False, what="prune")
        for t in tasks:
            self._delete(t.obj, wait=True, what="prune")
        self._emit(Event("prune", phase, wave, [t.label() for t in tasks]), result)

    def _delete_hooks(self, phase: str, wave: int, tasks: list[Task], result: SyncResult) -> None:
        existing = [t for t in tasks if self._get(t.obj) is not None]
        for t in existing:
            self._delete(t.obj, wait=True, what="hook")
        if existing:
            self._emit(Event("delete-hook", phase, wave, [t.label() for t in existing]), result)

    def _delete_hooks_with_policy(self, hooks: list[Task], policy: str) -> None:
        for t in hooks:
            if policy in delete_policies(t.obj):
                self._delete(t.obj, wait=False, what="hook")

    def _get(self, obj: dict) -> dict | None:
        resource, _ = self.k.resource_of(obj)
        ns = ["-n", obj["metadata"]["namespace"]] if obj["metadata"].get("namespace") else []
        out = self.k.run("get", *ns, resource, obj["metadata"]["name"], "--ignore-not-found", "-o", "json").stdout
        return json.loads(out) if out.strip() else None

    def _live(self, tasks: list[Task]) -> dict[str, dict | None]:
        by_ns: dict[str, list[Task]] = {}
        for t in tasks:
            by_ns.setdefault(t.namespace, []).append(t)
        live: dict[str, dict | None] = {t.label(): None for t in tasks}
        for ns, ts in by_ns.items():
            refs = [f"{self.k.resource_of(t.obj)[0]}/{t.name}" for t in ts]
            for item in self.k.items("get", *(["-n", ns] if ns else []), *refs, "--ignore-not-found"):
                live[f"{item['kind']}/{item['metadata']['name']}"] = item
        return live

    def _metrics_served(self) -> bool:
        return any(group == "metrics.k8s.io" for group, _ in self.k.resources())

    def _wait(self, phase: str, wave: int, tasks: list[Task], result: SyncResult) -> None:
        deadline = time.monotonic() + self.timeout
        pending = {t.label(): t for t in tasks}
        while True:
            live = self._live(list(pending.values()))
            for label, t in list(pending.items()):
                status, message = health(live[label])
                if status == DEGRADED and t.kind == "HorizontalPodAutoscaler" and not self._metrics_served():
                    reasons = {(c.get("type"), c.get("reason")) for c in _conditions(live[label])
                               if (c.get("type"), c.get("reason")) in HPA_DEGRADED}
                    if reasons == {("ScalingActive", "FailedGetResourceMetric")}:
                        result.notes.append(f"{label}: Argo CD 3.5 counts it Degraded (no metrics-server: {message}); "
                                            "counted Healthy here")
                        status = HEALTHY
                if status == DEGRADED:
                    what = "hook" if t.hook else "object"
                    raise SyncFailed(f"{phase} wave {wave}: {what} {label} is Degraded: {message}", result)
                if status in (HEALTHY, None) and not (t.hook and status is None and live[label] is None):
                    del pending[label]
            if not pending:
                self._emit(Event("healthy", phase, wave, [t.label() for t in tasks]), result)
                return
            if time.monotonic() > deadline:
                states = {label: health(live[label]) for label in pending}
                raise SyncTimeout(f"{phase} wave {wave}: not healthy after {self.timeout}s: {states}", result)
            time.sleep(0.25)


def _stream(objs: list[dict]) -> str:
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": objs})


def sync(kubeconfig: str, app: str, namespace: str, manifests: list[dict], **kwargs: Any) -> SyncResult:
    return Sync(Kubectl(kubeconfig), app, namespace, **kwargs).run(manifests)
