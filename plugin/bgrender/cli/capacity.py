"""`bgrender scale-up DEPLOYMENT --other DEPLOYMENT --min-replicas N`: what the capacity hook
runs (DESIGN §16), in the cluster, as the hook's service account, from the lean bgrender image.

Exit 0 once DEPLOYMENT runs at least max(its replicas, N, what --other runs) and that many pods
are ready; 4 when the cluster could not be read or written, or the pods were not ready within
--timeout (the Job fails, and with it the sync, before the route moves); 2 on a usage error.
Progress goes to stderr, the outcome to stdout: both end up in the Job's log.
"""

from __future__ import annotations

import os

import click

from bgrender.cli.streams import write_err, write_out
from bgrender.errors import ClusterError, escape, quote
from bgrender.intent import spec
from bgrender.live.capacity import scale_up as scale
from bgrender.live.deadline import OutOfTime, deadline
from bgrender.live.incluster import SERVICE_ACCOUNT_DIR, InCluster

DEFAULT_TIMEOUT = 600  # a Deployment's default progressDeadlineSeconds


def _deployment_name(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if not (len(value) <= 253 and spec.matches(spec.DNS_SUBDOMAIN, value)):
        raise click.BadParameter(f"{quote(value)} is not a Deployment name (a DNS-1123 subdomain)")
    return value


def _namespace(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not spec.is_dns_label(value):
        raise click.BadParameter(f"{quote(value)} is not a namespace name (a DNS-1123 label)")
    return value


@click.command("scale-up")
@click.argument("deployment", callback=_deployment_name)
@click.option("--other", required=True, metavar="DEPLOYMENT", callback=_deployment_name,
              help="The other color's Deployment: DEPLOYMENT gets at least the replicas it runs now.")
@click.option("--min-replicas", type=click.IntRange(min=1), required=True, metavar="N",
              help="The HPA's minReplicas: DEPLOYMENT gets at least these.")
@click.option("--timeout", type=click.IntRange(1, 3600), default=DEFAULT_TIMEOUT, show_default=True,
              metavar="SECONDS", help="Fail when the pods are not ready by then.")
@click.option("--namespace", "-n", metavar="NAME", callback=_namespace,
              help="Namespace of the Deployments (default: the pod's).")
@click.option("--service-account-dir", default=SERVICE_ACCOUNT_DIR, hidden=True,
              help="Where the token, ca.crt and namespace are (tests, and runs outside a pod).")
def scale_up(deployment: str, other: str, min_replicas: int, timeout: int, namespace: str | None,
             service_account_dir: str) -> None:
    """Scale DEPLOYMENT, the color taking production, up to what production runs now.

    Run by the capacity hook bgrender renders with spec.autoscaling, as a Sync hook before
    the route moves traffic: it sets DEPLOYMENT to max(its replicas, --min-replicas, the
    replicas --other runs), never lowering a count, and waits until that many pods are ready.
    Talks to the API server of the pod's cluster as the pod's service account.
    """
    progress: list[str] = []

    def say(line: str) -> None:
        progress.append(line)
        write_err(line + "\n")

    try:
        with deadline(timeout) as clock:
            api = InCluster(os.environ, clock, service_account_dir)
            try:
                outcome = scale(api, namespace or _pod_namespace(api), deployment, other, min_replicas, clock, say)
            finally:
                api.close()
    except OutOfTime as e:
        raise ClusterError(_gave_up(deployment, timeout, progress)) from e
    write_out(f"{outcome}\n")


def _pod_namespace(api: InCluster) -> str:
    namespace = api.namespace()
    if not spec.is_dns_label(namespace):
        raise ClusterError(f"the service account's namespace file names {quote(namespace)}, not a namespace")
    return namespace


def _gave_up(deployment: str, timeout: int, progress: list[str]) -> str:
    last = f" (last: {progress[-1]})" if progress else ""
    return f"{escape(deployment)} did not have the pods production needs ready within --timeout {timeout}s{last}"
