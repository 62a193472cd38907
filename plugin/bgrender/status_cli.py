"""`bgrender status [PATH]`: the live state of an app beside Git (DESIGN §6).

Exit 0 when the cluster matches Git; 3 when it does not (the report is still printed, so
CI can show what drifted) or when the cluster could not be read (nothing on stdout).
The `kubernetes` client is imported only when the command runs, through cluster.py.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

import click

from .errors import ClusterError
from .labels import version_label_value
from .pipeline import find_intent, plan_app
from .status import build_report, format_json, format_table

DEFAULT_TIMEOUT = 5.0  # seconds per request; a status reads at most five objects

F = TypeVar("F", bound=Callable[..., Any])


def connection_options(command: F) -> F:
    """--kubeconfig, --context and --timeout, for every command that reads the cluster."""
    for option in reversed([
        click.option("--kubeconfig", metavar="FILE",
                     help="Kubeconfig to use (default: $KUBECONFIG, ~/.kube/config, else in-cluster)."),
        click.option("--context", metavar="NAME", help="Kubeconfig context (default: its current-context)."),
        click.option("--timeout", type=click.FloatRange(min=0, min_open=True, max=60),
                     default=DEFAULT_TIMEOUT, show_default=True, metavar="SECONDS",
                     help="Give up on a request to the API server after this long."),
    ]):
        command = option(command)
    return command


@click.command()
@click.argument("path", default=".")
@click.option("--output", "-o", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="An aligned table for people, or JSON for scripts.")
@connection_options
def status(path: str, output: str, kubeconfig: str | None, context: str | None, timeout: float) -> None:
    """Show what runs live for the app at PATH beside what Git says.

    Per color: the version in Git, the version live, replicas ready; and which color the
    live VirtualService sends production traffic to. Reads the cluster, changes nothing.
    """
    from . import cluster  # here, not at the top: only cluster commands load the kubernetes client

    plan = plan_app(find_intent(path), os.environ)
    live = cluster.read_live(plan, cluster.Connection(kubeconfig, context, timeout))
    report = build_report(plan, live, version_label_value)
    click.echo(format_json(report) if output == "json" else format_table(report))
    if not report["inSync"]:
        # The table already lists the differences; JSON may go to a file, so stderr says them.
        reasons = f": {'; '.join(report['drift'])}" if output == "json" else " (see above)"
        raise ClusterError(f"{plan.intent.name} is not in sync with Git{reasons}")
