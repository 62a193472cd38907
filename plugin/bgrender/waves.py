"""Sync waves (DESIGN §5): Argo CD applies wave by wave and waits for each to be healthy,
so the order below is what makes traffic move only to a color that is rolled out and tested.
"""

from __future__ import annotations

SHARED = -1  # Service, DestinationRule: subsets exist before any route names them
ACTIVE = 0  # the color taking traffic is rolled out first
SMOKE_TEST = 1  # then tested through the mesh
ROUTES = 2  # then traffic moves
IDLE = 3  # a color losing traffic scales down only after the switch
