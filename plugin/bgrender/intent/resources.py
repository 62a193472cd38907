"""spec.resources: more manifests of the app (a ServiceAccount, an AuthorizationPolicy, ...),
emitted as they are, with bgrender's namespace and sync wave (DESIGN §11).

companions.load_companions reads the files (files.py and yamldoc.load_streams: the base's
guards) and `check_documents` checks each document; `emitted` places them at render time and
refuses one that collides with an object bgrender generates. They are the app's shared objects,
like the Service: not part of a color's release, so the lock does not pin them. Pure.

A kind's scope: the table below holds the built-in cluster-scoped kinds (what the API server's
paths say, checked against the Kubernetes client in the tests); a custom kind is cluster-scoped
only if a CustomResourceDefinition among the resources says so, and is namespaced otherwise,
as most are (AuthorizationPolicy, ServiceMonitor, ExternalSecret). The render never asks a
cluster (principle 1), and Argo CD's KUBE_API_VERSIONS lists kinds without their scope.
"""

from __future__ import annotations

from bgrender import TYPE_CHECKING, waves
from bgrender.errors import InvalidInput, Problem, quote, quote_labels
from bgrender.intent import spec
from bgrender.intent.configmaps import ConfigMap
from bgrender.labels import MAX_DNS_SUBDOMAIN, SYNC_WAVE, VERSIONED
from bgrender.record import Record
from bgrender.yamlfile.document import Document, get_in
from bgrender.yamlfile.dump import MAX_OUTPUT_BYTES

if TYPE_CHECKING:
    from typing import Any

# (group, kind) of the built-in kinds that live outside namespaces, up to Kubernetes 1.34.
CLUSTER_SCOPED = frozenset({
    ("", "ComponentStatus"), ("", "Namespace"), ("", "Node"), ("", "PersistentVolume"),
    *(("admissionregistration.k8s.io", k) for k in (
        "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding", "MutatingWebhookConfiguration",
        "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "ValidatingWebhookConfiguration")),
    ("apiextensions.k8s.io", "CustomResourceDefinition"), ("apiregistration.k8s.io", "APIService"),
    ("authentication.k8s.io", "SelfSubjectReview"), ("authentication.k8s.io", "TokenReview"),
    *(("authorization.k8s.io", k) for k in ("SelfSubjectAccessReview", "SelfSubjectRulesReview",
                                            "SubjectAccessReview")),
    ("certificates.k8s.io", "CertificateSigningRequest"), ("certificates.k8s.io", "ClusterTrustBundle"),
    ("flowcontrol.apiserver.k8s.io", "FlowSchema"), ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
    ("internal.apiserver.k8s.io", "StorageVersion"),
    ("networking.k8s.io", "IngressClass"), ("networking.k8s.io", "IPAddress"), ("networking.k8s.io", "ServiceCIDR"),
    ("node.k8s.io", "RuntimeClass"), ("policy", "PodSecurityPolicy"),
    ("rbac.authorization.k8s.io", "ClusterRole"), ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    *(("resource.k8s.io", k) for k in ("DeviceClass", "DeviceTaintRule", "ResourceClass",
                                       "ResourcePoolStatusRequest", "ResourceSlice")),
    ("scheduling.k8s.io", "PriorityClass"),
    *(("storage.k8s.io", k) for k in ("CSIDriver", "CSINode", "StorageClass", "VolumeAttachment",
                                      "VolumeAttributesClass")),
    ("storagemigration.k8s.io", "StorageVersionMigration"),
})
WAVE = r"^[-+]?[0-9]{1,9}$"  # Argo CD reads it with strconv.Atoi
# Kinds whose pods the app's Service would select if they carried the app labels, and where
# their pod labels are.
_POD_LABELS = {"Deployment": ("spec", "template", "metadata", "labels"),
               "StatefulSet": ("spec", "template", "metadata", "labels"),
               "DaemonSet": ("spec", "template", "metadata", "labels"),
               "ReplicaSet": ("spec", "template", "metadata", "labels"),
               "ReplicationController": ("spec", "template", "metadata", "labels"),
               "Job": ("spec", "template", "metadata", "labels"),
               "CronJob": ("spec", "jobTemplate", "spec", "template", "metadata", "labels"),
               "Pod": ("metadata", "labels")}


class Resource(Record):
    obj: dict[str, Any]
    doc: Document  # positions for problems
    cluster_scoped: bool

    @property
    def identity(self) -> tuple[str, str, str]:
        return identity(self.obj)


def identity(obj: dict[str, Any]) -> tuple[str, str, str]:
    """Group, kind and name: what tells two objects of one namespace apart (the version does not)."""
    group = obj["apiVersion"].rpartition("/")[0]
    return group, obj["kind"], obj["metadata"]["name"]


def check_documents(docs: list[Document], namespace: str | None, app_labels: dict[str, str],
                    base_name: str) -> tuple[list[Resource], list[Problem]]:
    """The resources the documents hold, or the problems of each: not a Kubernetes object, a
    namespace other than bluegreen.yaml's, a malformed sync wave, a workload whose pods carry the
    app labels (the app's own Deployment among them), an object defined twice."""
    problems, objects = [], []
    for doc in docs:
        found = _object_problems(doc, namespace)
        problems += found
        if not found:  # the checks below read fields these problems are about
            objects.append(doc)
    docs = objects
    crd_scopes = {_crd_kind(d.data): d.data["spec"].get("scope") == "Cluster" for d in docs if _is_crd(d.data)}
    resources: list[Resource] = []
    seen: dict[tuple[str, str, str], Document] = {}
    for doc in docs:
        group, kind, _ = identity(doc.data)
        scoped = crd_scopes.get((group, kind), (group, kind) in CLUSTER_SCOPED)
        resources.append(Resource(doc.data, doc, scoped))
        problems += _scope_problems(doc, scoped) + _workload_problems(doc, app_labels, base_name) + _data_problems(doc)
        versions = (doc.data["metadata"].get("annotations") or {}).get(VERSIONED) == "true"  # versioned.py
        first = doc if versions else seen.setdefault(identity(doc.data), doc)
        if first is not doc:
            line, column = first.position(("metadata", "name"))
            problems.append(doc.problem(("metadata", "name"), f"{kind} {quote(doc.data['metadata']['name'])} is "
                                        f"defined twice in spec.resources; also at {first.file}:{line}:{column}"))
    return resources, problems


def _object_problems(doc: Document, namespace: str | None) -> list[Problem]:
    obj = doc.data
    if not isinstance(obj, dict):
        return [doc.problem((), "must be a Kubernetes object: a mapping with apiVersion, kind and metadata.name")]
    problems = [doc.problem((field,), message) for field, pattern, message in (
        ("apiVersion", spec.KUBE_API_VERSION, "must be a Kubernetes apiVersion (e.g. v1, apps/v1)"),
        ("kind", spec.KIND, "must be a Kubernetes kind (e.g. ServiceAccount)"))
        if not (isinstance(obj.get(field), str) and spec.matches(pattern, obj[field]))]
    if problems:
        return problems
    if obj["apiVersion"].startswith("bgrender.io/"):
        return [doc.problem(("kind",), f"is a bgrender file ({quote(obj['kind'])}), not a manifest to emit; "
                                       "remove it from spec.resources")]
    if obj["kind"].endswith("List") or isinstance(obj.get("items"), list):
        # Argo CD and kubectl apply the items of anything that looks like a list (apimachinery's
        # IsList: a top-level `items` list), each unchecked: they must be documents of their own.
        return [doc.problem(("items",) if "items" in obj else ("kind",),
                            f"a list ({quote(obj['kind'])} with items) is not emitted as such: Argo CD would apply "
                            'its items unchecked; write each item as a document of its own, separated by "---"')]
    return _metadata_problems(doc, obj.get("metadata"), namespace)


def _metadata_problems(doc: Document, meta: Any, namespace: str | None) -> list[Problem]:
    if not isinstance(meta, dict):
        return [doc.problem(("metadata",), "required mapping is missing" if meta is None else "must be a mapping")]
    problems = []
    name = meta.get("name")
    if not (isinstance(name, str) and 0 < len(name) <= MAX_DNS_SUBDOMAIN and name.strip() == name and "/" not in name):
        problems.append(doc.problem(("metadata", "name"),
                                    f"required: a name of at most {MAX_DNS_SUBDOMAIN} characters (generateName "
                                    "is not supported: a render gives the same names every time)"))
    for field in ("labels", "annotations"):
        value = meta.get(field)
        if value is not None and not (isinstance(value, dict) and all(isinstance(v, str) for v in value.values())):
            problems.append(doc.problem(("metadata", field), "must be a mapping of keys to string values"))
    wave = (meta.get("annotations") or {}).get(SYNC_WAVE) if isinstance(meta.get("annotations"), dict) else None
    if wave is not None and not (isinstance(wave, str) and spec.matches(WAVE, wave)):
        problems.append(doc.problem(("metadata", "annotations", SYNC_WAVE), "must be a whole number in quotes, "
                                    f'such as "-2" or "5", got {quote(wave)}'))
    own = meta.get("namespace")
    if own is not None and own != namespace:
        problems.append(doc.problem(("metadata", "namespace"), "must not differ from bluegreen.yaml's "
                                    "metadata.namespace: bgrender puts the app's objects in one namespace; set it "
                                    "there (or leave both unset)"))
    return problems


# The data fields of a ConfigMap and a Secret, and whether their values are base64.
_DATA_FIELDS = {"ConfigMap": (("data", False), ("binaryData", True)), "Secret": (("data", True), ("stringData", False))}
_BASE64 = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"


def _data_problems(doc: Document) -> list[Problem]:
    """A ConfigMap's or Secret's keys as the API server takes them, and its values: strings, and
    base64 where the API reads base64. A message names the key, never the value (it may be a
    Secret's, and a message reaches Argo CD's UI)."""
    obj = doc.data
    problems = []
    for field, encoded in _DATA_FIELDS.get(obj["kind"], ()) if obj["apiVersion"] == "v1" else ():
        data = obj.get(field)
        if data is not None and not isinstance(data, dict):
            problems.append(doc.problem((field,), "must be a mapping of keys to values"))
            continue
        for key, value in (data or {}).items():
            if not (isinstance(key, str) and spec.matches(spec.CONFIG_KEY, key) and len(key) <= MAX_DNS_SUBDOMAIN):
                problems.append(doc.problem((field, key), f"{spec.CONFIG_KEY_HINT.replace('ConfigMap', obj['kind'])}, "
                                            f"got {quote(key)}", key=True))
            elif not isinstance(value, str) or (encoded and not spec.matches(_BASE64, value)):
                problems.append(doc.problem((field, key), "the value must be " + (
                    "base64 text (the value is not shown)" if encoded else "a string (the value is not shown)")))
    return problems


def _is_crd(obj: dict[str, Any]) -> bool:
    return (obj["kind"] == "CustomResourceDefinition" and obj["apiVersion"].startswith("apiextensions.k8s.io/")
            and isinstance(obj.get("spec"), dict) and isinstance(obj["spec"].get("names"), dict))


def _crd_kind(crd: dict[str, Any]) -> tuple[str, str]:
    return str(crd["spec"].get("group")), str(crd["spec"]["names"].get("kind"))


def _scope_problems(doc: Document, cluster_scoped: bool) -> list[Problem]:
    if cluster_scoped and "namespace" in doc.data["metadata"]:
        return [doc.problem(("metadata", "namespace"), f"a {doc.data['kind']} is cluster-scoped and has no "
                                                       "namespace; remove it")]
    return []


def _workload_problems(doc: Document, app_labels: dict[str, str], base_name: str) -> list[Problem]:
    obj = doc.data
    group, kind, name = identity(obj)
    where = _POD_LABELS.get(kind) if group in ("", "apps", "batch") else None
    labels = get_in(obj, where) if where else None
    carries = isinstance(labels, dict) and app_labels.items() <= labels.items()
    if (group, kind) == ("apps", "Deployment") and (carries or name == base_name):
        return [doc.problem(("metadata", "name"), "is a Deployment of the app itself: bgrender renders the app's "
                                                  "Deployments (one per color) from spec.deployment or "
                                                  "spec.template; remove it from spec.resources")]
    if carries:
        assert where is not None
        return [doc.problem(where, f"carries the app labels {quote_labels(app_labels)}, so the app's Service would "
                                   "send production traffic to these pods too; give them other labels")]
    return []


def emitted(resources: list[Resource], namespace: str | None, generated: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The resources as they are emitted: bgrender's namespace on namespaced kinds, wave -1
    unless they set one. InvalidInput when one has the kind and name of an object bgrender
    generates: one of the two would overwrite the other in the cluster."""
    ours = {identity(obj): obj for obj in generated}
    problems = [r.doc.problem(("metadata", "name"), f"the {r.obj['kind']} {quote(r.obj['metadata']['name'])} is "
                                                    "one bgrender generates; rename this one, or leave it to "
                                                    "bgrender")
                for r in resources if r.identity in ours]
    if problems:
        raise InvalidInput(problems)
    return [_placed(r, namespace) for r in resources]


def _placed(resource: Resource, namespace: str | None) -> dict[str, Any]:
    obj = dict(resource.obj)
    meta = obj["metadata"] = dict(obj["metadata"])
    if namespace and not resource.cluster_scoped:
        meta["namespace"] = namespace
    meta["annotations"] = {SYNC_WAVE: str(waves.SHARED), **(meta.get("annotations") or {})}
    return obj


# Everything spec.resources and spec.configMaps read, together. It all ends up in the render,
# whose output is capped, so more could never render; the cap keeps a list of a hundred 1 MiB
# files from being read at all.
MAX_COMPANION_BYTES = MAX_OUTPUT_BYTES


class Companions(Record):
    """What the companion files hold, read (app/reading.py) and checked."""

    config_maps: dict[str, ConfigMap]  # by the name the pod template uses
    resources: tuple[Resource, ...]  # emitted as they are
    # Every version of the versioned ones: intent/versioned.py's Versioned (which imports this module).
    versioned: tuple[Any, ...] = ()


NONE = Companions({}, ())
