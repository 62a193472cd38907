"""The validated intent and the resolved plan, as frozen values.

`intent.py` builds an Intent from bluegreen.yaml; `resolve.py` turns an Intent, its base
Deployment and the environment into a Plan; `render.py` turns a Plan into manifests.
"""

from __future__ import annotations

from .record import Record

TYPE_CHECKING = False  # the typing module costs ~3 ms at startup; only type checkers need it
if TYPE_CHECKING:
    from typing import Any, Literal

    Color = Literal["blue", "green"]
else:
    Color = str
COLORS: tuple[Color, Color] = ("blue", "green")


def other(color: Color) -> Color:
    return "green" if color == "blue" else "blue"


class SmokeTest(Record):
    path: str
    expect_status: int
    image: str
    timeout_seconds: int


class Intent(Record):
    """bluegreen.yaml after validation; defaults not yet applied where they need the base."""

    file: str  # as shown in messages
    name: str
    namespace: str | None
    image: str
    active: Color
    versions: dict[Color, str | None]
    deployment: str | None  # base manifest path, relative to the intent's directory
    template: dict[str, Any] | None  # or an inline PodTemplateSpec
    container: str | None
    replicas: int | None
    idle_replicas: int | None
    color_label: str
    version_label: str
    service_name: str
    port: int | None
    header: str
    hosts: tuple[str, ...]
    gateways: tuple[str, ...]
    virtual_service: str
    destination_rule: str
    mode: Literal["manual", "auto"]
    smoke_test: SmokeTest | None

    @property
    def idle(self) -> Color:
        return other(self.active)


# Sync waves (DESIGN §5): Argo CD applies wave by wave and waits for each to be healthy.
WAVE_SHARED = -1  # Service, DestinationRule: subsets exist before any route names them
WAVE_ACTIVE = 0  # the color taking traffic is rolled out first
WAVE_SMOKE_TEST = 1  # then tested through the mesh
WAVE_ROUTES = 2  # then traffic moves
WAVE_IDLE = 3  # a color losing traffic scales down only after the switch


class ColorPlan(Record):
    color: Color
    deployment_name: str
    version: str
    replicas: int
    wave: int
    base: dict[str, Any]  # the base Deployment with this color's templates expanded


class Plan(Record):
    """Everything a render needs, resolved: no defaults left, no I/O left."""

    intent: Intent
    base_name: str  # color Deployments are named "<base_name>-<color>"
    container_index: int  # which container of the base runs spec.image
    namespace: str | None
    istio_api: str  # e.g. "networking.istio.io/v1"
    app_labels: dict[str, str]  # the base selector: selects both colors
    port: int  # the Service port
    target_port: int  # the container port behind it
    colors: dict[Color, ColorPlan]  # only the colors that have a version

    @property
    def active(self) -> Color:
        return self.intent.active

    def deployment_name(self, color: Color) -> str:
        return f"{self.base_name}-{color}"
