"""Which objects of a kustomize blue/green layout are what, for `bgrender import` (DESIGN §13).

In a layout like the seed post's: two Deployments of one app whose selectors say `blue` and
`green` under one label key (the color label, e.g. `deploy`), the Service selecting both
colors' pods, the DestinationRule whose subsets select each color by that label, and the
VirtualService the layout applies: its default route (the first that matches every request)
names the active color's subset, and its header routes (`<header>: exact <color>`) the
header. Each color's version is its image's tag, or its digest.

Pure: the layout's objects in (layouts.py read them), a Recognized value out, or Unrecognized
naming what is missing or ambiguous. Whatever of these objects bgrender's render will not
carry over is listed in `dropped`, for the notes; importer.py writes the files.
"""

from __future__ import annotations

from bgrender import TYPE_CHECKING
from bgrender.colors import COLORS, Color
from bgrender.digest import canonical_json
from bgrender.errors import BgRenderError, escape, quote
from bgrender.images import image_repository
from bgrender.importing.layouts import Layout, Manifest
from bgrender.importing.route_policy import Carried, app_uri, carry
from bgrender.intent import spec
from bgrender.intent.spec import ISTIO
from bgrender.labels import version_label_value
from bgrender.record import Record
from bgrender.routing import Malformed, istio
from bgrender.yamlfile.document import get_in

if TYPE_CHECKING:
    from typing import Any

# The fields of each object bgrender renders; anything else in the layout's is not carried over.
SERVICE_FIELDS = {"selector", "ports", "type"}
RULE_FIELDS = {"host", "subsets"}
SERVICE_ROUTE_FIELDS = {"hosts", "gateways", "http"}
ROUTE_FIELDS = {"name", "match", "route"}


class Unrecognized(BgRenderError):
    """The layout is not one `import` can read as one blue/green app; nothing was written."""

    def __init__(self, message: str):
        super().__init__(f"cannot import: {message}")


class Routes(Record):
    """What the VirtualService says."""

    active: Color
    header: str | None  # None: no header routes
    hosts: tuple[str, ...]
    gateways: tuple[str, ...]
    preview_gateways: tuple[str, ...]  # where its header routes applied (empty: wherever the VirtualService does)


class Recognized(Record):
    color_label: str
    version_label: str
    deployments: dict[Color, Manifest]
    versions: dict[Color, str]
    container: str  # the container that runs the app's image
    image: str  # its repository
    app_labels: dict[str, str]  # what both selectors share, without the color or version
    service: Manifest
    port: dict[str, Any]  # the Service's one port
    destination_rule: Manifest
    virtual_service: Manifest
    routes: Routes
    namespace: str | None
    dropped: tuple[str, ...]  # what the render does not carry over, one sentence each
    others: tuple[Manifest, ...]  # the layout's other objects, not imported
    carried: Carried = Carried({}, frozenset(), ())  # routing.policy, .match, .trafficPolicy (route_policy.py)

    @property
    def extra_selector_keys(self) -> list[str]:
        """What the live Deployments select on beyond the app labels and the color (the seed's
        `version`): where there is any, bgrender's selectors differ, and a selector cannot change."""
        keys = {k for d in self.deployments.values() for k in _selector(d)}
        return sorted(keys - set(self.app_labels) - {self.color_label})

    @property
    def selector_changes(self) -> bool:
        return bool(self.extra_selector_keys)


def recognize(layout: Layout) -> Recognized:
    objects = _distinct(layout.objects)
    color_label, deployments = _color_deployments(objects)
    container, image, versions = _app_container(deployments)
    version_label = _version_label(deployments, color_label, versions)
    app_labels = _app_labels(deployments, color_label, version_label)
    service = _service(objects, deployments)
    port = _port(service)
    rule, subsets = _destination_rule(objects, service, color_label)
    virtual_service = _virtual_service(objects, service)
    routes, kept = _routes(virtual_service, subsets)
    carried = carry(virtual_service, sorted(kept), max(kept), rule)
    chosen = [*deployments.values(), service, rule, virtual_service]
    dropped = _dropped(service, port, rule, carried) + _dropped_routes(virtual_service, kept, carried)
    return Recognized(color_label, version_label, deployments, versions, container, image, app_labels, service,
                      port, rule, virtual_service, routes, _namespace(chosen), tuple(dropped),
                      tuple(m for m in objects if all(m is not c for c in chosen)), carried)


def _distinct(objects: tuple[Manifest, ...]) -> list[Manifest]:
    """Each object once: a layout may build the same object twice (two roots sharing a base)."""
    seen: dict[str, Manifest] = {}
    for m in objects:
        seen.setdefault(canonical_json(m.data), m)
    return list(seen.values())


def _of_kind(objects: list[Manifest], kind: str, group: str) -> list[Manifest]:
    return [m for m in objects if m.kind == kind and str(m.data.get("apiVersion")).rpartition("/")[0] == group]


def _listed(objects: list[Manifest]) -> str:
    return ", ".join(m.describe() for m in objects[:6]) + (", ..." if len(objects) > 6 else "")


def _strings(data: Any) -> dict[str, str]:
    """A label map, as far as it is one."""
    return {k: v for k, v in data.items() if isinstance(v, str)} if isinstance(data, dict) else {}


def _selector(d: Manifest) -> dict[str, str]:
    return _strings(get_in(d.data, ("spec", "selector", "matchLabels")))


def _pod_labels(d: Manifest) -> dict[str, str]:
    return _strings(get_in(d.data, ("spec", "template", "metadata", "labels")))


# --- the color Deployments --------------------------------------------------------------------


def _color_deployments(objects: list[Manifest]) -> tuple[str, dict[Color, Manifest]]:
    """The color label and each color's Deployment: a selector label whose value is `blue` in
    exactly one Deployment and `green` in exactly one other."""
    deployments = _of_kind(objects, "Deployment", "apps")
    by_key: dict[str, dict[str, list[Manifest]]] = {}
    for d in deployments:
        for key, value in _selector(d).items():
            if value in COLORS:
                by_key.setdefault(key, {c: [] for c in COLORS})[value].append(d)
    keys = sorted(k for k, found in by_key.items() if all(found.values()))
    if len(keys) > 1:
        keys = [k for k in keys if k in _subset_keys(objects)] or keys
    if not keys:
        raise Unrecognized(_no_pair(deployments))
    if len(keys) > 1:
        raise Unrecognized("the Deployments say blue and green under several selector labels "
                           f"({', '.join(map(quote, keys))}), and no DestinationRule's subsets tell which one is "
                           "the color label")
    key = keys[0]
    found = by_key[key]
    for color in COLORS:
        if len(found[color]) > 1:
            raise Unrecognized(f"{len(found[color])} Deployments select {escape(key)}: {color}: "
                               f"{_listed(found[color])}; import one app at a time (point SOURCE_DIR at its layout)")
    return key, {c: found[c][0] for c in COLORS}


def _no_pair(deployments: list[Manifest]) -> str:
    named = [d for d in deployments if any(c in d.name for c in COLORS)]
    if named:
        return (f"no selector label says which color a Deployment is ({_listed(named)}): bgrender selects each "
                "color by a label, and the DestinationRule's subsets need one too")
    found = f" (found {_listed(deployments)})" if deployments else " (found no Deployment)"
    return ("no pair of Deployments whose selectors say blue and green under one label, as in "
            f"`deploy: blue` and `deploy: green`{found}")


def _subset_keys(objects: list[Manifest]) -> set[str]:
    return {k for rule in _of_kind(objects, "DestinationRule", ISTIO.group)
            for subset in get_in(rule.data, ("spec", "subsets")) or []
            for k, v in _strings(get_in(subset, ("labels",))).items() if v in COLORS}


# --- versions and labels ------------------------------------------------------------------------


def _containers(d: Manifest) -> dict[str, str | None]:
    listed = get_in(d.data, ("spec", "template", "spec", "containers"))
    return {c["name"]: c.get("image") if isinstance(c.get("image"), str) else None
            for c in (listed if isinstance(listed, list) else [])
            if isinstance(c, dict) and isinstance(c.get("name"), str)}


def _app_container(deployments: dict[Color, Manifest]) -> tuple[str, str, dict[Color, str]]:
    """The container that runs the app (the only one, else the only one whose image differs
    between the colors), its image repository, and each color's version."""
    images = {c: _containers(d) for c, d in deployments.items()}
    shared = [n for n in images["blue"] if n in images["green"] and images["blue"][n] and images["green"][n]
              and image_repository(images["blue"][n]) == image_repository(images["green"][n])]
    differing = [n for n in shared if images["blue"][n] != images["green"][n]]
    if len(images["blue"]) == 1 and shared:
        name = shared[0]
    elif len(differing) == 1:
        name = differing[0]
    else:
        raise Unrecognized(f"cannot tell which container runs the app in {_listed(list(deployments.values()))}: "
                           "it is the only container, or the only one whose image differs between the colors")
    repository = image_repository(images["blue"][name]) or ""
    return name, repository, {c: _version(deployments[c], name, images[c][name] or "", repository) for c in COLORS}


def _version(d: Manifest, container: str, image: str, repository: str) -> str:
    """The image's digest if it has one (what runs), else its tag."""
    rest = image[len(repository):]
    version = rest.split("@", 1)[1] if "@" in rest else rest[1:] if rest.startswith(":") else ""
    if not version:
        raise Unrecognized(f"{d.describe()}: container {quote(container)} runs {quote(image)}, without a tag or "
                           "digest (so `latest`, whatever that is at each pull); bgrender needs the version each "
                           "color runs: pin the image to a tag or digest in the layout first")
    if not spec.matches(spec.VERSION, version):
        raise Unrecognized(f"{d.describe()}: the image {quote(image)} has no tag or sha256 digest bgrender can use "
                           "as a version")
    return version


def version_forms(version: str) -> set[str]:
    """How a layout may write a version into a label: whole, as bgrender's label value, or cut
    short as CI jobs cut a commit SHA (at least 7 characters, as `git --short` gives)."""
    digits = version.removeprefix("sha256:")
    forms = {version, version_label_value(version)}
    return forms | {digits[:n] for n in range(7, len(digits) + 1)}


def _version_label(deployments: dict[Color, Manifest], color_label: str, versions: dict[Color, str]) -> str:
    """The pod label that holds each color's version (the seed's `version`, which kustomize's
    commonLabels set), else bgrender's default, `version`."""
    keys = sorted({k for d in deployments.values() for k in _pod_labels(d)} - {color_label})
    holding = [k for k in keys if all(_pod_labels(deployments[c]).get(k) in version_forms(versions[c]) for c in COLORS)]
    default = spec.default("labels", "version")
    return default if default in holding or not holding else holding[0]


def _app_labels(deployments: dict[Color, Manifest], color_label: str, version_label: str) -> dict[str, str]:
    blue, green = (_selector(deployments[c]) for c in COLORS)
    shared = {k: v for k, v in blue.items() if green.get(k) == v and k not in (color_label, version_label)}
    if not shared:
        raise Unrecognized(f"the selectors of {_listed(list(deployments.values()))} share no label besides the color "
                           "and the version; bgrender's Service selects both colors by such labels (e.g. app)")
    return shared


# --- the Service and the Istio objects ------------------------------------------------------------


def _service(objects: list[Manifest], deployments: dict[Color, Manifest]) -> Manifest:
    """The Service selecting both colors' pods."""
    def selects(service: Manifest, d: Manifest) -> bool:
        selector = _strings(get_in(service.data, ("spec", "selector")))
        return bool(selector) and selector.items() <= _pod_labels(d).items()

    services = _of_kind(objects, "Service", "")
    both = [s for s in services if all(selects(s, d) for d in deployments.values())]
    if len(both) == 1:
        return both[0]
    if both:
        raise Unrecognized(f"several Services select both colors' pods: {_listed(both)}; import one app at a time")
    one = [s for s in services if any(selects(s, d) for d in deployments.values())]
    hint = (f" ({_listed(one)} selects one color's only: a layout switching production by the Service's selector is "
            "not one `import` reads)") if one else ""
    raise Unrecognized(f"no Service selects the pods of both {_listed(list(deployments.values()))}{hint}")


def _port(service: Manifest) -> dict[str, Any]:
    ports = get_in(service.data, ("spec", "ports"))
    if not isinstance(ports, list) or len(ports) != 1 or not isinstance(ports[0], dict) \
            or not isinstance(ports[0].get("port"), int):
        count = len(ports) if isinstance(ports, list) else 0
        raise Unrecognized(f"{service.describe()}: has {count} ports; bgrender's Service has one, the app's HTTP "
                           "port (keep any other in a Service of its own)")
    return ports[0]


def names_service(host: Any, service: Manifest) -> bool:
    """`web`, `web.shop`, `web.shop.svc.cluster.local` all name Service web (in its namespace)."""
    if not isinstance(host, str):
        return False
    parts = host.split(".")
    namespace = get_in(service.data, ("metadata", "namespace"))
    return parts[0] == service.name and (len(parts) == 1 or namespace is None or parts[1] == namespace)


def _one_for_service(candidates: list[Manifest], kind: str, service: Manifest, choosing: str) -> Manifest:
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise Unrecognized(f"no {kind} routes to Service {escape(service.name)}")
    raise Unrecognized(f"{len(candidates)} {kind}s for Service {escape(service.name)}: {_listed(candidates)}; "
                       f"{choosing}")


def _destination_rule(objects: list[Manifest], service: Manifest,
                      color_label: str) -> tuple[Manifest, dict[str, Color]]:
    """The Service's DestinationRule, and the color each of its subsets selects."""
    rules = [r for r in _of_kind(objects, "DestinationRule", ISTIO.group)
             if names_service(get_in(r.data, ("spec", "host")), service)]
    rule = _one_for_service(rules, "DestinationRule", service, "keep only the one in use")
    colors = _subset_colors(rule, color_label)
    for color in COLORS:
        if list(colors.values()).count(color) != 1:
            raise Unrecognized(f"{rule.describe()}: needs exactly one subset selecting {escape(color_label)}: {color}")
    return rule, colors


def _subset_colors(rule: Manifest, color_label: str) -> dict[str, Color]:
    """Subset name -> the color it selects."""
    subsets = get_in(rule.data, ("spec", "subsets"))
    return {s["name"]: color for s in (subsets if isinstance(subsets, list) else [])
            if isinstance(s, dict) and isinstance(s.get("name"), str)
            and (color := _color(_strings(s.get("labels")).get(color_label)))}


def _color(value: object) -> Color | None:
    """`value` as a color, if it is one."""
    return next((c for c in COLORS if c == value), None)


def _destinations(route: Any) -> list[dict[str, Any]]:
    listed = get_in(route, ("route",))
    return [d for d in (listed if isinstance(listed, list) else []) if isinstance(d, dict)]


def _http(virtual_service: Manifest) -> list[Any]:
    routes = get_in(virtual_service.data, ("spec", "http"))
    return routes if isinstance(routes, list) else []


def _virtual_service(objects: list[Manifest], service: Manifest) -> Manifest:
    routing = [v for v in _of_kind(objects, "VirtualService", ISTIO.group)
               if any(names_service(get_in(d, ("destination", "host")), service)
                      for r in _http(v) for d in _destinations(r))]
    return _one_for_service(routing, "VirtualService", service, "the layout must apply one (as a kustomization "
                                                               "choosing one variant does)")


def _routes(virtual_service: Manifest, subset_colors: dict[str, Color]) -> tuple[Routes, set[int]]:
    """What the VirtualService says, and which of its http routes say it (the default route and
    the header routes before it)."""
    http = _http(virtual_service)
    uris = app_uri(http)  # the app's path, where every route matches one (routing.match)
    try:
        route = istio.default_route(virtual_service.data, uris)
        serving = istio.serving_subsets(route) if route is not None else []
    except Malformed as err:
        raise Unrecognized(f"{virtual_service.describe()}: {escape(str(err))}") from err
    if route is None:
        raise Unrecognized(f"{virtual_service.describe()}: no default route (an http route without match, or "
                           "matching every URI); it tells which color serves production")
    default = http.index(route)
    active = _production(virtual_service, serving, subset_colors)
    headers = {i: h for i, r in enumerate(http[:default]) if (h := _header_route(r, subset_colors, uris or []))}
    names = sorted({name for name, _ in headers.values()})
    if len(names) > 1:
        raise Unrecognized(f"{virtual_service.describe()}: its header routes match on several headers "
                           f"({', '.join(map(quote, names))}); bgrender routes previews by one")
    previews = sorted({g for i in headers for m in http[i]["match"]
                       for g in _names(virtual_service, m.get("gateways"), "http[].match[].gateways")})
    return Routes(active, names[0] if names else None,
                  _names(virtual_service, get_in(virtual_service.data, ("spec", "hosts")), "spec.hosts"),
                  _names(virtual_service, get_in(virtual_service.data, ("spec", "gateways")), "spec.gateways"),
                  tuple(previews)), {default, *headers}


def _names(obj: Manifest, value: Any, where: str) -> tuple[str, ...]:
    """A list of hosts or gateways."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Unrecognized(f"{obj.describe()}: {where} must be a list of names")
    return tuple(value)


def _production(virtual_service: Manifest, subsets: list[str], subset_colors: dict[str, Color]) -> Color:
    if len(subsets) != 1 or subsets[0] not in subset_colors:
        raise Unrecognized(f"{virtual_service.describe()}: its default route must send production traffic to one "
                           "subset of the DestinationRule, blue's or green's (it names "
                           f"{', '.join(map(quote, subsets)) or 'none'})")
    return subset_colors[subsets[0]]


def _header_route(route: Any, subset_colors: dict[str, Color], uris: list[dict[str, Any]]) -> tuple[str, Color] | None:
    """(header, color) for a route that sends `<header>: exact <color>` to that color's subset."""
    matches, destinations = get_in(route, ("match",)), _destinations(route)
    if not matches or not isinstance(matches, list) or len(destinations) != 1:
        return None
    color = subset_colors.get(str(get_in(destinations[0], ("destination", "subset"))))
    found = set()
    for m in matches:
        headers = get_in(m, ("headers",))
        rest = {k: v for k, v in m.items() if k not in ("headers", "gateways")} if isinstance(m, dict) else None
        if not isinstance(headers, dict) or len(headers) != 1 or (rest not in istio.MATCHES_EVERY_REQUEST
                                                                  and rest not in uris):
            return None
        (name, value), = headers.items()
        exact = get_in(value, ("exact",))
        if not isinstance(exact, str):
            return None
        found.add((name, exact))
    if len(found) != 1 or not color:
        return None
    name, exact = found.pop()
    return (name, color) if exact == color else None


# --- what is left over ----------------------------------------------------------------------------


def _namespace(chosen: list[Manifest]) -> str | None:
    namespaces = sorted({str(ns) for m in chosen if (ns := get_in(m.data, ("metadata", "namespace")))})
    if len(namespaces) > 1:
        raise Unrecognized(f"the app's objects are in several namespaces ({', '.join(map(quote, namespaces))}); "
                           "bgrender renders an app into one")
    return namespaces[0] if namespaces else None


def _dropped(service: Manifest, port: dict[str, Any], rule: Manifest, carried: Carried) -> list[str]:
    """One sentence per field of these objects that bgrender's render does not carry over."""
    dropped = [f"{service.describe()}: spec.{k}" for k in _extra(service.data.get("spec"), SERVICE_FIELDS)]
    if get_in(service.data, ("spec", "type")) not in (None, "ClusterIP"):
        dropped.append(f"{service.describe()}: spec.type {escape(str(get_in(service.data, ('spec', 'type'))))} "
                       "(bgrender's Service is a ClusterIP Service)")
    dropped += [f"{rule.describe()}: spec.{k}" for k in _extra(rule.data.get("spec"), RULE_FIELDS)
                if k not in carried.fields]
    subsets = get_in(rule.data, ("spec", "subsets")) or []
    dropped += [f"{rule.describe()}: spec.subsets[{i}].{k}" for i, s in enumerate(subsets)
                for k in _extra(s, {"name", "labels"})]
    name = port.get("name")
    if name != "http":
        dropped.append(f"{service.describe()}: the port's name {quote(name) if name else '(none)'}; bgrender "
                       "names it http, and Istio takes the protocol from it")
    return dropped


def _dropped_routes(virtual_service: Manifest, kept: set[int], carried: Carried) -> list[str]:
    """The fields and http routes (all but the `kept` ones) the render does not carry over."""
    dropped = [f"{virtual_service.describe()}: spec.{k}"
               for k in _extra(virtual_service.data.get("spec"), SERVICE_ROUTE_FIELDS)]
    for i, route in enumerate(_http(virtual_service)):
        if i in kept:
            dropped += [f"{virtual_service.describe()}: spec.http[{i}].{k}" for k in _extra(route, ROUTE_FIELDS)
                        if f"spec.http[{i}].{k}" not in carried.fields]
        else:
            dropped.append(f"{virtual_service.describe()}: spec.http[{i}], neither a header route to a color "
                           "nor the default route")
    return dropped


def _extra(data: Any, known: set[str]) -> list[str]:
    return sorted(k for k in data if k not in known) if isinstance(data, dict) else []
