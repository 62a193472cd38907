"""Sync waves (DESIGN §5, §12, §17): Argo CD applies wave by wave and waits for each to be
healthy, so the order below is what makes traffic move only to a color that is rolled out and
tested, and the old color scale down only once the new routes have had time to spread.

Each gate has a wave of its own: Argo CD applies the hooks of one wave together (same kind, in
parallel) and waits only between waves, so a wave is the one way to run a hook after another.
"""

from __future__ import annotations

SHARED = -1  # the colors' Services, ConfigMaps, the app's resources: there before anything uses them
ACTIVE = 0  # the color taking traffic is rolled out first (and one taking a share of it, spec.traffic)
SMOKE_TEST = 1  # then tested, through its own Service (a Sync hook)
CAPACITY = 1  # and, with autoscaling, scaled to what production runs now (a Sync hook, DESIGN §16)
ANALYSIS = 2  # then measured, once the smoke test has passed (a Sync hook: promotion.analysis.before)
ROUTES = 3  # then traffic moves: the routes, and the app's Service
SCALE_DOWN_DELAY = 4  # then, if the color losing traffic scales down, a pause (a Sync hook)
IDLE = 5  # a color losing traffic scales down only after that; a new idle release deploys here
# After the sync (PostSync hooks): the idle color's smoke test in manual mode, then the analyses
# of the idle color (manual mode) and of the production color (promotion.analysis.after).
POST_SMOKE_TEST = 0
POST_ANALYSIS = 1
