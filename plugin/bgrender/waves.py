"""Sync waves (DESIGN §5, §12): Argo CD applies wave by wave and waits for each to be healthy,
so the order below is what makes traffic move only to a color that is rolled out and tested,
and the old color scale down only once the new routes have had time to spread.
"""

from __future__ import annotations

SHARED = -1  # the colors' Services, ConfigMaps, the app's resources: there before anything uses them
ACTIVE = 0  # the color taking traffic is rolled out first
SMOKE_TEST = 1  # then tested, through its own Service (a Sync hook)
CAPACITY = 1  # and, with autoscaling, scaled to what production runs now (a Sync hook, DESIGN §16)
ROUTES = 2  # then traffic moves: the routes, and the app's Service
SCALE_DOWN_DELAY = 3  # then, if the color losing traffic scales down, a pause (a Sync hook)
IDLE = 4  # a color losing traffic scales down only after that; a new idle release deploys here
# After the sync, in manual mode: the idle color, tested like the active one (a PostSync hook).
