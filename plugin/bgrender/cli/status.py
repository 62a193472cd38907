"""`bgrender status [PATH]`: the live state of an app beside Git (DESIGN §6).

Exit 0 when the cluster matches Git; 3 when it does not (the report is still printed, so
CI can show what drifted); 4 when the cluster could not be read (nothing on stdout). A base
holding changes no color runs yet is Git ahead of its releases, not drift: reported, exit 0.
The `kubernetes` client is imported only when the command runs, through live/cluster.py.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any, TypeVar

import click

from bgrender.app.pipeline import find_intent, load_app, plan_of, unreleased_base_changes
from bgrender.cli.streams import write_out
from bgrender.errors import Drift, escape, quote
from bgrender.intent import spec
from bgrender.live.status import build_report, format_json, format_table
from bgrender.plan.plan import Plan

# Seconds for all of a command's cluster work: with Python's start, a command that reads
# the cluster ends within 15 s of starting, whatever the API server or an exec plugin does.
DEFAULT_TIMEOUT = 8.0
MAX_TIMEOUT = 60.0

F = TypeVar("F", bound=Callable[..., Any])


class Seconds(click.ParamType):
    """A number of seconds above 0 and at most MAX_TIMEOUT; nan and inf are not numbers of seconds."""

    name = "seconds"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            self.fail(f"{quote(value)} is not a number of seconds", param, ctx)
        if not (math.isfinite(seconds) and 0 < seconds <= MAX_TIMEOUT):
            self.fail(f"{quote(value)} is not a number of seconds above 0 and at most {MAX_TIMEOUT:g}", param, ctx)
        return seconds


def connection_options(command: F) -> F:
    """--kubeconfig, --context and --timeout, for every command that reads the cluster."""
    for option in reversed([
        click.option("--kubeconfig", metavar="FILE",
                     help="Kubeconfig to use (default: $KUBECONFIG, ~/.kube/config, else in-cluster)."),
        click.option("--context", metavar="NAME", help="Kubeconfig context (default: its current-context)."),
        click.option("--timeout", type=Seconds(), default=DEFAULT_TIMEOUT, show_default=True, metavar="SECONDS",
                     help="Give up reading the cluster after this long, all requests and credential plugins "
                          f"together (at most {MAX_TIMEOUT:g})."),
    ]):
        command = option(command)
    return command


def _namespace_option(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not spec.is_dns_label(value):
        raise click.BadParameter(f"{quote(value)} is not a namespace name (a DNS-1123 label of at most 63 "
                                 "characters)")
    return value


@click.command()
@click.argument("path", default=".")
@click.option("--output", "-o", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="An aligned table for people, or JSON for scripts.")
@click.option("--namespace", "-n", metavar="NAME", callback=_namespace_option,
              help="Namespace of the app's objects when bluegreen.yaml names none "
                   "(default: the kubeconfig context's, else default).")
@connection_options
def status(path: str, output: str, namespace: str | None, kubeconfig: str | None, context: str | None,
           timeout: float) -> None:
    """Show what runs live for the app at PATH beside what Git says.

    Per color: the version in Git, the version live, replicas ready, its autoscaler if it has
    one; which color the live routing object (VirtualService, HTTPRoute or Service) sends
    production traffic to; and whether the base holds changes no color runs yet. Reads the
    cluster, changes nothing.
    """
    from bgrender.live import cluster  # here, not at the top: only cluster commands load the kubernetes client

    app = load_app(find_intent(path), os.environ)
    plan = plan_of(app)
    check_namespace_option(plan, namespace)
    unreleased = unreleased_base_changes(app, plan)
    live = cluster.read_live(plan, cluster.Connection(kubeconfig, context, timeout, namespace))
    report = build_report(plan, live, unreleased=unreleased)
    write_out((format_json(report) if output == "json" else format_table(report)) + "\n")
    if not report["inSync"]:
        # The table already lists the differences; JSON may go to a file, so stderr says them.
        reasons = f": {'; '.join(map(escape, report['drift']))}" if output == "json" else " (see above)"
        raise Drift(f"{plan.intent.name} is not in sync with Git{reasons}")


def check_namespace_option(plan: Plan, namespace: str | None) -> None:
    """-n may not contradict the namespace the app renders into: as kubectl refuses a manifest
    whose namespace differs from its -n, since the objects cannot be anywhere else."""
    if namespace is None or plan.namespace is None or namespace == plan.namespace:
        return
    where = (f"metadata.namespace in {escape(plan.intent.file)}" if plan.intent.namespace
             else "$ARGOCD_APP_NAMESPACE")
    raise click.BadParameter(f"the app's objects are in namespace {plan.namespace} ({where}), not {namespace}; "
                             f"leave -n out, or pass -n {plan.namespace}",
                             ctx=click.get_current_context(silent=True), param_hint="'-n' / '--namespace'")
