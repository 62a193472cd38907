"""Versioned resources: a ConfigMap, Secret, ExternalSecret or SealedSecret of spec.resources
annotated `bgrender.io/versioned: "true"` goes blue/green with the colors (DESIGN §19).

Like spec.configMaps, each is named `<name>-<hash of its content>` and `mount` rewrites the pod
template's references to `<name>` into that name, so the color's release fixes which version it
runs. Unlike spec.configMaps, the lock pins only the version's digest, never its content (a
Secret's values must not enter the lock): the content of every version some color runs comes
from spec.resources. So a version is kept there, as its own document, while a color runs it;
several documents of one name are its versions, and the last is the one a release pins.

Only namespaced objects a pod refers to by name are versioned. What a rename breaks, and is
therefore refused: another kind (a ServiceAccount's or an Ingress's reference does not follow
the new name), a SealedSecret sealed in the strict scope (its ciphertext holds its name).

Called by app/reading.py (split), plan/pod_template.py (mount), plan/plan.py (pinned) and
render/companions.py (rendered). Pure.
"""

from __future__ import annotations

from bgrender import TYPE_CHECKING
from bgrender.digest import canonical_json, sha256_hex
from bgrender.errors import Problem, quote
from bgrender.intent.resources import Resource, identity
from bgrender.labels import MAX_DNS_SUBDOMAIN, SEALED_SCOPES, SYNC_OPTIONS, VERSIONED
from bgrender.record import Record
from bgrender.yamlfile.document import copy_data, get_in

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any

    from bgrender.intent.config_refs import Kind
    from bgrender.yamlfile.document import Path

HASH_LENGTH = 10  # hex digits, as spec.configMaps' names
# (group, kind) -> what a pod refers to: the object itself, or the Secret its controller makes.
KINDS: dict[tuple[str, str], Kind] = {("", "ConfigMap"): "ConfigMap", ("", "Secret"): "Secret",
                                      ("external-secrets.io", "ExternalSecret"): "Secret",
                                      ("bitnami.com", "SealedSecret"): "Secret"}
_ANNOTATION: Path = ("metadata", "annotations", VERSIONED)
# Other objects of the app that name a Secret, which would not follow its rename.
_SECRET_USERS: dict[tuple[str, str], tuple[tuple[tuple[str, ...], str], ...]] = {
    ("", "ServiceAccount"): ((("secrets",), "name"), (("imagePullSecrets",), "name")),
    ("networking.k8s.io", "Ingress"): ((("spec", "tls"), "secretName"),),
}


class Versioned(Record):
    """One version of a versioned resource."""

    kind: Kind  # what the pod template refers to
    name: str  # the name it refers to
    hashed_name: str  # "<name>-<hash>": the name the pod template gets
    digest: str  # "sha256:<hex>" of the object as written: what the lock pins
    keys: frozenset[str] | None  # the keys a pod may read (None: known only to a controller)
    resource: Resource  # as written
    current: bool  # the last document of its name: the version a release pins

    @property
    def at(self) -> Problem:
        return self.resource.doc.problem(_ANNOTATION, "")


def is_versioned(obj: dict[str, Any]) -> bool:
    annotations = get_in(obj, ("metadata", "annotations"))
    return isinstance(annotations, dict) and annotations.get(VERSIONED) == "true"


def split(resources: Iterable[Resource]) -> tuple[list[Resource], list[Versioned], list[Problem]]:
    """spec.resources into those emitted as they are and the versions of versioned ones, with
    the problems of the latter: a kind bgrender cannot rename, a version written twice, an
    object of the app that names a versioned Secret."""
    plain: list[Resource] = []
    found: list[tuple[Resource, Kind, str]] = []
    problems: list[Problem] = []
    for resource in resources:
        value = get_in(resource.obj, _ANNOTATION)
        if value not in (None, "true", "false"):
            problems.append(resource.doc.problem(_ANNOTATION, f'must be "true" or "false", got {quote(value)}'))
        if not is_versioned(resource.obj):
            plain.append(resource)
            continue
        kind, name, refused = _checked(resource)
        if refused:
            problems.append(refused)
        else:
            found.append((resource, kind, name))
    versions = _versions(found, problems)
    problems += _clashes(plain, versions)
    return plain, versions, problems


def _checked(resource: Resource) -> tuple[Kind, str, Problem | None]:
    """What pods call it, or why it cannot be versioned."""
    obj, doc = resource.obj, resource.doc
    group, kind, name = identity(obj)
    refers = KINDS.get((group, kind), "Secret")
    if (group, kind) not in KINDS:
        return refers, name, doc.problem(_ANNOTATION, f"bgrender versions a ConfigMap, Secret, ExternalSecret "
                                         f"(external-secrets.io) or SealedSecret (bitnami.com), not a {kind} "
                                         f"({quote(obj['apiVersion'])}); remove the annotation")
    if resource.cluster_scoped:
        return refers, name, doc.problem(_ANNOTATION, f"a versioned {kind} is renamed in its namespace; this one "
                                                      "is cluster-scoped")
    if kind == "SealedSecret" and not _sealed_renamable(obj):
        return refers, name, doc.problem(_ANNOTATION, "a versioned SealedSecret is renamed, and one sealed in the "
                                         "strict scope (the default) holds its name in its ciphertext, so the "
                                         "controller could not unseal it: seal it with --scope namespace-wide "
                                         f"(the annotation {SEALED_SCOPES[0]}), or remove this annotation")
    target = get_in(obj, ("spec", "target", "name")) if kind == "ExternalSecret" else None
    if target is not None and not isinstance(target, str):
        return refers, name, doc.problem(("spec", "target", "name"), "must be a Secret name")
    refers_to = target or name
    if len(refers_to) > MAX_DNS_SUBDOMAIN - HASH_LENGTH - 1:
        return refers, name, doc.problem(("metadata", "name"), f"a versioned {kind}'s name gets \"-\" and "
                                         f"{HASH_LENGTH} hex digits, and must stay within {MAX_DNS_SUBDOMAIN} "
                                         "characters; shorten it")
    return refers, refers_to, None


def _sealed_renamable(obj: dict[str, Any]) -> bool:
    places = (("metadata", "annotations"), ("spec", "template", "metadata", "annotations"))
    return any(isinstance(a := get_in(obj, p), dict) and a.get(scope) == "true" for p in places
               for scope in SEALED_SCOPES)


def _versions(found: list[tuple[Resource, Kind, str]], problems: list[Problem]) -> list[Versioned]:
    last = {(kind, name): resource for resource, kind, name in found}
    versions: dict[str, Versioned] = {}
    for resource, kind, name in found:
        digest = "sha256:" + sha256_hex(canonical_json(resource.obj).encode("utf-8", "surrogatepass"))
        hashed = f"{name}-{digest[len('sha256:'):][:HASH_LENGTH]}"
        twin = versions.get(hashed)
        if twin is not None:
            line, column = twin.resource.doc.position(("metadata", "name"))
            problems.append(resource.doc.problem(("metadata", "name"), f"this version of the {kind} {quote(name)} "
                                                 f"is written twice; also at {twin.resource.doc.file}:{line}:"
                                                 f"{column}"))
            continue
        keys = _keys(resource.obj)
        versions[hashed] = Versioned(kind, name, hashed, digest, keys, resource, last[(kind, name)] is resource)
    return list(versions.values())


def _keys(obj: dict[str, Any]) -> frozenset[str] | None:
    fields = {"ConfigMap": ("data", "binaryData"), "Secret": ("data", "stringData")}.get(obj["kind"])
    if fields is None or obj["apiVersion"] != "v1":
        return None
    return frozenset(k for f in fields if isinstance(obj.get(f), dict) for k in obj[f])


def _clashes(plain: list[Resource], versions: list[Versioned]) -> list[Problem]:
    """An unversioned object of the same name, and an object of the app that names a versioned
    Secret (it would not follow the rename)."""
    names = {(v.kind, v.name) for v in versions}
    problems = []
    for r in plain:
        group, kind, name = identity(r.obj)
        if (group, kind) in (("", "ConfigMap"), ("", "Secret")) and (kind, name) in names:
            problems.append(r.doc.problem(("metadata", "name"), f"a versioned {kind} has this name too; give one "
                                          "of them another name"))
        if (group, kind) in _SECRET_USERS:
            problems += _secret_user_problems(r, names)
    return problems


def _secret_user_problems(r: Resource, names: set[tuple[Kind, str]]) -> list[Problem]:
    group, kind, _ = identity(r.obj)
    return [r.doc.problem(where + (i, field), f"names the Secret {quote(item[field])}, which is versioned: only a "
                          f"color's pod template follows its new name each release, the {kind} would not; keep "
                          "this Secret unversioned")
            for where, field in _SECRET_USERS[(group, kind)]
            for i, item in enumerate(_list(get_in(r.obj, where)))
            if isinstance(item, dict) and ("Secret", item.get(field)) in names]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


# --- a color's release ----------------------------------------------------------------------------


def mount(template: dict[str, Any], versions: Iterable[Versioned],
          locate: Callable[[Path, str], Problem]) -> tuple[dict[str, Any], dict[str, str], list[Problem]]:
    """The pod template (already a copy) with every reference to a versioned object renamed to
    its current version's hashed name, the versions it now runs (hashed name -> digest), and the
    problems: a key the object does not hold (the pod would not start), a current version no
    reference names. A message names keys, never values."""
    current = {(v.kind, v.name): v for v in versions if v.current}
    if not current:
        return template, {}, []
    from bgrender.intent.config_refs import references  # only for an app with versioned resources

    pins: dict[str, str] = {}
    problems: list[Problem] = []
    for ref in references(template.get("spec")):
        found = current.get((ref.kind, ref.name))
        if found is None:
            continue
        ref.holder[ref.field] = found.hashed_name
        pins[found.hashed_name] = found.digest
        if found.keys is not None and not ref.optional:
            problems += [locate(path, f"the {found.kind} {quote(found.name)} has no key {quote(key)} (it has "
                                      f"{_listed(found.keys)}); the pod would not start")
                         for key, path in ref.keys if key not in found.keys]
    problems += [v.at.replace(message=f"no volume, envFrom, env or imagePullSecrets of the pod template refers to "
                                      f"the {v.kind} {quote(v.name)}, so no color would run it; refer to it, or "
                                      "remove the annotation")
                 for v in current.values() if v.hashed_name not in pins]
    return template, pins, problems


def _listed(keys: frozenset[str]) -> str:
    names = sorted(keys)
    return ", ".join(map(quote, names[:10])) + (", ..." if len(names) > 10 else "") if names else "no keys"


def pinned(pins: dict[str, dict[str, str]], versions: Iterable[Versioned],
           locate: Callable[[str, str, str], Problem]) -> tuple[list[Versioned], list[Problem]]:
    """The versions the colors run (color -> hashed name -> digest), each once, or a problem for
    each that spec.resources no longer holds: the render would leave a pod without it."""
    by_name = {(v.hashed_name, v.digest): v for v in versions}
    out: dict[str, Versioned] = {}
    problems = []
    for color, names in sorted(pins.items()):
        for hashed, digest in sorted(names.items()):
            found = by_name.get((hashed, digest))
            if found is not None:
                out[hashed] = found
            else:
                problems.append(locate(color, hashed, f"{color} runs {quote(hashed)}, a version spec.resources no "
                                       "longer holds: keep that version's document in spec.resources, before the "
                                       "new one, until no color runs it (bgrender renders every version a color "
                                       "runs, and the lock holds only its digest)"))
    return [out[k] for k in sorted(out)], problems


def name_matches_digest(hashed: str, digest: str) -> bool:
    """Whether a pinned version's name carries its digest (a lock edited by hand could not)."""
    return hashed.endswith("-" + digest[len("sha256:"):][:HASH_LENGTH])


def rendered(version: Versioned) -> Resource:
    """The version as it is emitted: renamed (an ExternalSecret's target and a SealedSecret's
    template name follow), immutable where Kubernetes allows it, pruned last."""
    obj = copy_data(version.resource.obj)
    meta = obj["metadata"]
    suffix = version.hashed_name[len(version.name):]
    meta["name"] += suffix
    if isinstance(get_in(obj, ("spec", "target", "name")), str):  # ExternalSecret
        obj["spec"]["target"]["name"] = version.hashed_name
    if obj["kind"] == "SealedSecret" and isinstance(get_in(obj, ("spec", "template", "metadata", "name")), str):
        obj["spec"]["template"]["metadata"]["name"] = version.hashed_name
    if obj["apiVersion"] == "v1":
        obj.setdefault("immutable", True)
    # Once no color runs it, the sync that replaces its pods prunes it last, as spec.configMaps'.
    meta["annotations"].setdefault(SYNC_OPTIONS, "PruneLast=true")
    return version.resource.replace(obj=obj)
