"""Where bgrender's labels and annotations go, and their keys: the one place render, the lock,
status and routing take them from.

Label placement is the point of the whole tool (kustomize keeps selector, template and
metadata labels apart for the same reason): a selector holds the app labels plus the color,
constant for a Deployment's life; the version goes only on pod templates, so a release is an
ordinary rolling update and never `spec.selector: field is immutable`.
"""

from __future__ import annotations

from bgrender import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

    from bgrender.colors import Color

# Argo CD's annotations.
SYNC_WAVE = "argocd.argoproj.io/sync-wave"
HOOK = "argocd.argoproj.io/hook"
HOOK_DELETE_POLICY = "argocd.argoproj.io/hook-delete-policy"
HELM_HOOK = "helm.sh/hook"  # Argo CD treats a Helm hook as one of its own
# Annotations a base may not carry: copied to both colors, they would take the colors out of
# the order bgrender gives them (a hook is applied in its phase, outside the sync waves).
ORDER_ANNOTATIONS = {
    SYNC_WAVE: "bgrender sets the sync waves; remove this annotation",
    HOOK: "would make each color a sync hook, applied outside the sync waves bgrender sets; remove this annotation",
    HELM_HOOK: "Argo CD would make each color a sync hook, applied outside the sync waves bgrender sets; "
               "remove this annotation",
}
SYNC_OPTIONS = "argocd.argoproj.io/sync-options"
# The full version on a color's pod template (the version label may be shortened).
VERSION_ANNOTATION = "bgrender.io/version"
# Which release a pod template is (DESIGN §15): 12 hex digits of its lock entry's digest, as a
# label and an annotation on the pod template, added at render and not part of the digest. Two
# releases of one version (a config-only release) differ here, in the cluster and in `status`.
RELEASE = "bgrender.io/release"
# A color Deployment's role, on its metadata only (never its pod template: a promotion changes
# it and must restart nothing), for Argo CD's UI and `kubectl get -L bgrender.io/role`.
ROLE = "bgrender.io/role"
PRODUCTION, IDLE = "production", "idle"
# On a ConfigMap, Secret, ExternalSecret or SealedSecret of spec.resources: "true" versions it
# with each color's release, like spec.configMaps (DESIGN §19; intent/versioned.py).
VERSIONED = "bgrender.io/versioned"
# A SealedSecret's scope: only these two let it be renamed (the default, strict, seals its name in).
SEALED_SCOPES = ("sealedsecrets.bitnami.com/namespace-wide", "sealedsecrets.bitnami.com/cluster-wide")
# Objects bgrender makes that belong to the app but to no color (the smoke-test Job).
APP_LABEL = "bgrender.io/app"
# Kubernetes' limits: a label value, a DNS-1123 label (Service and Job names: the Job controller
# puts the Job's name in a label of its pods), and a DNS-1123 subdomain (other object names).
MAX_LABEL_VALUE = 63
MAX_DNS_LABEL = 63
MAX_DNS_SUBDOMAIN = 253


def metadata(name: str, namespace: str | None, labels: dict[str, str], wave: int) -> dict[str, Any]:
    """An object's metadata: its name, namespace (if any), labels and sync wave."""
    meta: dict[str, Any] = {"name": name, "labels": dict(labels), "annotations": {SYNC_WAVE: str(wave)}}
    if namespace:
        meta["namespace"] = namespace
    return meta


def selector_labels(app_labels: dict[str, str], color_label: str, color: Color) -> dict[str, str]:
    """A color Deployment's selector (and its Service's): never the version."""
    return {**app_labels, color_label: color}


def template_labels(labels: dict[str, str], color_label: str, color: Color,
                    version_label: str, version: str) -> dict[str, str]:
    """A color's pod labels: the base's, the color, and the version as a label value."""
    return {**labels, color_label: color, version_label: version_label_value(version)}


def release_id(digest: str) -> str:
    """The bgrender.io/release value of an entry with this digest ("sha256:<64 hex>")."""
    return digest[len("sha256:"):][:12]


def released_template(template: dict[str, Any], digest: str) -> dict[str, Any]:
    """A pinned pod template as it is rendered: with the bgrender.io/release label and annotation."""
    metadata = template.get("metadata") or {}
    release = release_id(digest)
    return {**template, "metadata": {**metadata, "labels": {**(metadata.get("labels") or {}), RELEASE: release},
                                     "annotations": {**(metadata.get("annotations") or {}), RELEASE: release}}}


def version_label_value(version: str) -> str:
    """A label value (≤63 chars of [A-Za-z0-9_.-], alphanumeric at both ends) for a version.

    A digest becomes "sha256-" and its first 12 hex digits, as image tools abbreviate it;
    the full version stays in the bgrender.io/version annotation.
    """
    if version.startswith("sha256:"):
        return "sha256-" + version[len("sha256:"):][:12]
    return version[:MAX_LABEL_VALUE].strip("_.-")
