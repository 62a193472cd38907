"""The sync driver's own behaviour on the real control plane, where the lifecycle tests do not
reach it: a Degraded object fails the sync and no later wave is applied."""

from __future__ import annotations

import pytest

from .apps import deployments
from .argocd_sync import SyncFailed
from .conftest import Cluster

pytestmark = pytest.mark.e2e


def test_degraded_wave_stops_the_sync(cluster: Cluster) -> None:
    namespace = cluster.namespace("e2e-driver-degraded")
    # Pod Security `restricted` refuses this Deployment's pods (no securityContext): its progress
    # deadline passes and the Deployment controller marks it ProgressDeadlineExceeded: Degraded.
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "refused", "annotations": {"argocd.argoproj.io/sync-wave": "0"}},
        "spec": {"replicas": 1, "progressDeadlineSeconds": 2,
                 "selector": {"matchLabels": {"app": "refused"}},
                 "template": {"metadata": {"labels": {"app": "refused"}},
                              "spec": {"containers": [{"name": "app", "image": "registry.example.com/app:1"}]}}},
    }
    later = {"apiVersion": "v1", "kind": "ConfigMap",
             "metadata": {"name": "later", "annotations": {"argocd.argoproj.io/sync-wave": "1"}}, "data": {"a": "b"}}
    with pytest.raises(SyncFailed, match="Deployment/refused is Degraded"):
        cluster.sync("driver-degraded", namespace, [deployment, later], timeout=90)
    assert set(deployments(cluster, namespace)) == {"refused"}
    assert cluster.get("configmap", "later", namespace) is None, "a wave after the Degraded one was applied"
