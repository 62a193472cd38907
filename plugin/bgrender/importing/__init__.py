"""The importing wing: `bgrender import`, a kustomize blue/green layout turned into an app
(DESIGN §13).

  layouts.py           the I/O edge: the layout's objects, built with kustomize or read as files
  recognize.py         which object is what: the colors, the Service, the routing (pure)
  naming.py            the names the app and its Deployments get, and why they change (pure)
  base_from_colors.py  the base Deployment, from the two colors' Deployments (pure)
  importer.py          the use case: bluegreen.yaml and deployment.yaml, and the notes (pure)
  migration.py         what to tell the user, and the steps that move the app across (pure)

cli/importing.py runs it, pins the lock through the release wing's `lock`, and writes OUT_DIR.
"""
