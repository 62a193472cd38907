"""spec.traffic (DESIGN §18): the rules of a weighted step, registered in rules.py's RULES.

A share of production goes to the idle color only through routes that can split it (Istio
weights, Gateway API backend weights: never the `service` provider, whose Service selects one
color), and only to a color that is deployed and runs pods. While it holds a share the idle
color runs the active color's replicas and is tested before the share moves (plan/, render/).
"""

from __future__ import annotations

from bgrender import TYPE_CHECKING
from bgrender.colors import COLORS, other

if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from bgrender.errors import Problem
    from bgrender.yamlfile.document import Document

    Fields = Any  # rules.Fields, which imports these rules (a wing has no circles)

AT = ("spec", "traffic")


def share_needs_weighted_routes(doc: Document, f: Fields) -> Iterator[Problem]:
    """FAIL: {routing: {provider: service}, traffic: {percent: 10}}"""
    if f.get(*AT, "percent") is not None and f.routing("provider") == "service":
        yield doc.problem(AT, "routing.provider service cannot split production traffic (the app's Service selects "
                              "one color): a weighted step needs routing.provider istio or gateway-api", key=True)


def share_goes_to_a_color_with_pods(doc: Document, f: Fields) -> Iterator[Problem]:
    """The idle color must be deployed and run pods to take a share.
    FAIL: {active: blue, blue: {version: v1}, traffic: {percent: 10}}
    FAIL: {active: blue, blue: {version: v1}, green: {version: v2}, idleReplicas: 0, traffic: {percent: 10}}
    PASS: {active: blue, blue: {version: v1}, green: {version: v2}, traffic: {percent: 10}}"""
    active = f.get("spec", "active")
    if f.get(*AT, "percent") is None or active not in COLORS:
        return
    idle = other(active)
    if f.get("spec", idle, "version") is None and not f.broken & {f"spec.{idle}", f"spec.{idle}.version"}:
        yield doc.problem(AT, f'the idle color "{idle}" has no version: a share of production goes only to a '
                              "deployed release (bgrender release VERSION first)", key=True)
    elif f.get("spec", "idleReplicas") == 0:
        yield doc.problem(AT, "spec.idleReplicas is 0: the idle color runs no pods to take a share of production; "
                              "remove idleReplicas: 0 (a color holding a share runs the active color's replicas)",
                          key=True)
