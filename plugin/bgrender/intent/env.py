"""What the environment contributes to a render (pure: takes a mapping, returns values).

Argo CD sets these for every plugin run (argocd-cmp-contract §2); a local preview can set
the same ones to see byte for byte what Argo CD will get. Unset and empty mean the same,
as Argo CD before v3.0 dropped empty variables.
"""

from __future__ import annotations

from bgrender import TYPE_CHECKING
from bgrender.errors import InvalidInput, Problem, quote
from bgrender.intent import spec
from bgrender.record import Record

if TYPE_CHECKING:
    from collections.abc import Mapping

# Argo CD passes parameters on the command line's environment; Linux caps one entry at 128 KiB.
MAX_ENV_CHARS = 128 * 1024


LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_LEVEL_VAR = "ARGOCD_ENV_BGRENDER_LOG_LEVEL"  # an Application sets it as plugin env BGRENDER_LOG_LEVEL


NAMESPACE_VAR = "ARGOCD_APP_NAMESPACE"  # the Application's destination namespace
BGRENDER_IMAGE_VAR = "BGRENDER_IMAGE"  # argocd-cm-patch sets it on the sidecar to the sidecar's own image
# The image name argocd-cm-patch gives the sidecar before kustomize's `images` sets the real one.
SIDECAR_IMAGE = "bgrender"


class Options(Record):
    namespace: str | None  # from ARGOCD_APP_NAMESPACE; bluegreen.yaml's own namespace wins
    served: frozenset[str] | None  # "group/version" the destination cluster serves; None: unknown (local)
    bgrender_image: str | None = None  # $BGRENDER_IMAGE: what hooks running bgrender run (DESIGN §16, §17)

    def api_version(self, group: str, versions: tuple[str, ...]) -> str | None:
        """The newest of `versions` of `group` the cluster serves (the newest at all when that
        is unknown, as for a local preview); None when it serves none."""
        for version in versions:
            api = api_version(group, version)
            if self.served is None or api in self.served:
                return api
        return None


def api_version(group: str, version: str) -> str:
    """An object's apiVersion: the core group is written without one."""
    return f"{group}/{version}" if group else version


def options_from_env(env: Mapping[str, str]) -> Options:
    problems: list[Problem] = []
    namespace = _namespace(env.get(NAMESPACE_VAR, ""), problems)
    served = _served(env.get("KUBE_API_VERSIONS", ""), problems)
    _check_parameters(env.get("ARGOCD_APP_PARAMETERS", ""), problems)
    if _log_level_value(env) not in ("", *LOG_LEVELS):
        problems.append(_env_problem(LOG_LEVEL_VAR, f"must be one of {', '.join(LOG_LEVELS)}"))
    image = env.get(BGRENDER_IMAGE_VAR, "").strip()
    if image and not spec.matches(spec.IMAGE_REFERENCE, image):
        problems.append(_env_problem(BGRENDER_IMAGE_VAR, f"must be an image reference, got {quote(image)}"))
    if problems:
        raise InvalidInput(problems)
    return Options(namespace=namespace, served=served, bgrender_image=image or None)


def as_the_sidecar(env: Mapping[str, str]) -> Mapping[str, str]:
    """`env` with $BGRENDER_IMAGE as the sidecar has it when it is not set: for checks of what
    Git holds (`validate`, the edit commands), which must not fail where only the sidecar
    knows its own image. `render` takes the environment as it is, and fails closed."""
    return env if env.get(BGRENDER_IMAGE_VAR, "").strip() else {**env, BGRENDER_IMAGE_VAR: SIDECAR_IMAGE}


def under_argocd(env: Mapping[str, str]) -> bool:
    return bool(env.get("ARGOCD_APP_NAME"))


def log_level(env: Mapping[str, str]) -> str:
    """Quiet on success locally; one line per render under Argo CD, where logs are read.
    A bad value is reported by options_from_env; until then the default applies."""
    value = _log_level_value(env)
    if value in LOG_LEVELS:
        return value
    return "info" if under_argocd(env) else "warning"


def _log_level_value(env: Mapping[str, str]) -> str:
    return env.get(LOG_LEVEL_VAR, "").strip().lower()


def _env_problem(name: str, message: str) -> Problem:
    return Problem("", 0, 0, name, message)


def _namespace(value: str, problems: list[Problem]) -> str | None:
    if not value:
        return None
    if not spec.is_dns_label(value):
        problems.append(_env_problem(NAMESPACE_VAR, "must be a DNS-1123 label"))
        return None
    return value


def _served(value: str, problems: list[Problem]) -> frozenset[str] | None:
    """The API versions the destination cluster serves, from Argo CD's list; None when unset."""
    if not value:
        return None
    if len(value) > MAX_ENV_CHARS:
        problems.append(_env_problem("KUBE_API_VERSIONS", f"is longer than {MAX_ENV_CHARS} characters"))
        return None
    # Argo CD lists both "group/version" and "group/version/Kind"; either shows a version is served.
    return frozenset("/".join(entry.strip().split("/")[:2]) for entry in value.split(","))


def unserved_problem(api: str, product: str, group: str, versions: tuple[str, ...]) -> Problem:
    """The destination cluster serves none of the API versions the routing needs."""
    listed = f"{group}/{versions[0]}" + "".join(f"{', ' if i < len(versions) - 1 else ' or '}{v}"
                                              for i, v in enumerate(versions[1:], 1))
    return _env_problem("KUBE_API_VERSIONS", f"the destination cluster serves no {api} ({listed}): is {product} "
                                             "installed there?")


def _check_parameters(value: str, problems: list[Problem]) -> None:
    """bgrender announces no parameters: everything an app needs is in Git, in bluegreen.yaml."""
    if not value or value == "null":  # "null": a plugin block without parameters; spares importing json
        return
    name = "ARGOCD_APP_PARAMETERS"
    if len(value) > MAX_ENV_CHARS:
        problems.append(_env_problem(name, f"is longer than {MAX_ENV_CHARS} characters"))
        return
    import json  # only when an Application sets parameters (an error) or writes null unusually

    try:
        params = json.loads(value)
    except (ValueError, RecursionError):
        problems.append(_env_problem(name, "is not valid JSON"))
        return
    if params is None:  # what Argo CD sends for a plugin block without parameters
        return
    if not isinstance(params, list):
        problems.append(_env_problem(name, "must be a JSON list of parameters"))
        return
    for param in params:
        shown = param.get("name") if isinstance(param, dict) else None
        label = quote(shown, limit=64) if isinstance(shown, str) else "without a name"
        problems.append(_env_problem(name, f"unknown parameter {label}: bgrender takes no parameters; "
                                           "set it in bluegreen.yaml"))
