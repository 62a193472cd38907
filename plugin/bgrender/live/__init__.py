"""The live wing: reading a cluster, read-only, for `status` and `release --check-live`.

  cluster.py     the entrance: read_live and check_live, one session inside one deadline
  kubeconfig.py  where the cluster is and as whom: kubeconfig or in-cluster, the namespace
  transport.py   the GETs through the kubernetes client's connection pool, size-limited
  answers.py     what the API server's answers mean (pure): objects, Status errors, messages
  deadline.py    one deadline for the work and for the processes it starts (standard library)
  status.py      the live records beside the Plan: the report and its table (pure)

Only this wing imports the `kubernetes` client and urllib3, and only once a cluster command
runs (cluster.py is imported lazily by cli/). Nothing here prints: cli/ shows what it returns.
"""
