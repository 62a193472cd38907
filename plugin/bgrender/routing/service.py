"""routing.provider `service` (no mesh): the app's Service selects the app labels plus the
active color, so promotion is a selector change: instant, and it restarts nothing. Previews
go through the per-color Services (`kubectl port-forward svc/<service>-green`). No Istio or
Gateway API object: the Service itself, built in routing/__init__.py, is the routing object.
Reading back: the color in the live Service's selector gets production.
"""

from __future__ import annotations

from bgrender import TYPE_CHECKING, routing
from bgrender.colors import COLORS
from bgrender.errors import quote_labels
from bgrender.intent.spec import SERVICE
from bgrender.labels import selector_labels

if TYPE_CHECKING:
    from typing import Any

    from bgrender.plan.plan import Plan



def objects(plan: Plan) -> list[dict[str, Any]]:
    return []


def live(plan: Plan) -> routing.LiveObject:
    return routing.live_object(SERVICE, "Service", "services", plan.intent.service_name)


def production(svc: dict[str, Any], plan: Plan) -> routing.Production:
    spec = routing.expect(svc.get("spec") or {}, dict, "spec")
    selector = routing.expect(spec.get("selector") or {}, dict, "spec.selector")
    color = selector.get(plan.intent.color_label)
    if color is None:
        return routing.Production(None, f"its selector has no {plan.intent.color_label} label: it sends "
                                        "production traffic to both colors")
    if color not in COLORS:
        return routing.Production(None, f"its selector sends production traffic to {color}, not blue "
                                        "or green")
    if selector != selector_labels(plan.app_labels, plan.intent.color_label, color):
        return routing.Production(None, f"its selector {quote_labels(selector)} is not the one of the app's {color} "
                                        "pods: it sends production traffic to other pods")
    return routing.Production(color)
