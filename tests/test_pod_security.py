"""Every Job bgrender renders (the smoke tests, the scale-down delay) is admitted by a namespace
that enforces Pod Security `restricted`.

The checker is written from the Kubernetes Pod Security Standards page,
https://kubernetes.io/docs/concepts/security/pod-security-standards/ (kubernetes/website,
content/en/docs/concepts/security/pod-security-standards.md): every control of the Baseline
table, then every control the Restricted table adds, for Linux pods. It checks the fields the
page names, with the values it allows; an absent field counts as the page says.
"""

from __future__ import annotations

import pytest
import yaml

from .conftest import GOLDEN, cases

BASELINE_CAPABILITIES = {"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
                         "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}
SAFE_SYSCTLS = {"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
                "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
                "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
                "net.ipv4.tcp_keepalive_probes"}
SELINUX_TYPES = {"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}
RESTRICTED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
                      "projected", "secret"}
SECCOMP = {"RuntimeDefault", "Localhost"}


def restricted_violations(metadata: dict, pod: dict) -> list[str]:
    """What keeps `pod` (a PodSpec, with its template's metadata) out of a `restricted` namespace."""
    containers = [*pod.get("containers", []), *pod.get("initContainers", []), *pod.get("ephemeralContainers", [])]
    pod_context = pod.get("securityContext") or {}
    contexts = [c.get("securityContext") or {} for c in containers]
    found = []
    # --- Baseline ---
    if any((x.get("windowsOptions") or {}).get("hostProcess") for x in [pod_context, *contexts]):
        found.append("HostProcess")
    found += [f"host namespace {f}" for f in ("hostNetwork", "hostPID", "hostIPC") if pod.get(f)]
    if any(x.get("privileged") for x in contexts):
        found.append("privileged container")
    for x in contexts:
        found += [f"capability {c} added" for c in (x.get("capabilities") or {}).get("add") or []
                  if c not in BASELINE_CAPABILITIES]
    found += ["hostPath volume" for v in pod.get("volumes") or [] if "hostPath" in v]
    found += ["hostPort" for c in containers for port in c.get("ports") or [] if port.get("hostPort")]
    for x in [pod_context, *contexts]:
        if (x.get("appArmorProfile") or {}).get("type") not in (None, "RuntimeDefault", "Localhost"):
            found.append("AppArmor profile")
        selinux = x.get("seLinuxOptions") or {}
        if selinux.get("type", "") not in SELINUX_TYPES or selinux.get("user") or selinux.get("role"):
            found.append("SELinux options")
        if (x.get("seccompProfile") or {}).get("type") == "Unconfined":
            found.append("seccomp Unconfined")
    for key, value in (metadata.get("annotations") or {}).items():
        if key.startswith("container.apparmor.security.beta.kubernetes.io/") and \
                not (value == "runtime/default" or value.startswith("localhost/")):
            found.append("AppArmor annotation")
    found += ["procMount" for x in contexts if x.get("procMount") not in (None, "Default")]
    found += [f"sysctl {s.get('name')}" for s in pod_context.get("sysctls") or [] if s.get("name") not in SAFE_SYSCTLS]
    # --- Restricted ---
    for volume in pod.get("volumes") or []:
        if not RESTRICTED_VOLUMES & {k for k, v in volume.items() if v is not None}:
            found.append(f"volume type of {volume.get('name')}")
    found += ["allowPrivilegeEscalation not false" for x in contexts if x.get("allowPrivilegeEscalation") is not False]
    if not (pod_context.get("runAsNonRoot") is True and all(x.get("runAsNonRoot") in (None, True) for x in contexts)
            or all(x.get("runAsNonRoot") is True for x in contexts)):
        found.append("runAsNonRoot not true")
    found += ["runAsUser 0" for x in [pod_context, *contexts] if x.get("runAsUser") == 0]
    pod_seccomp = (pod_context.get("seccompProfile") or {}).get("type")
    container_seccomp = [(x.get("seccompProfile") or {}).get("type") for x in contexts]
    if not (pod_seccomp in SECCOMP and all(t in (None, *SECCOMP) for t in container_seccomp)
            or all(t in SECCOMP for t in container_seccomp)):
        found.append("seccomp profile not RuntimeDefault or Localhost")
    for x in contexts:
        capabilities = x.get("capabilities") or {}
        if "ALL" not in (capabilities.get("drop") or []):
            found.append("capabilities not dropping ALL")
        found += [f"capability {c} added" for c in capabilities.get("add") or [] if c != "NET_BIND_SERVICE"]
    return found


def _rendered_jobs() -> list:
    paths = [c / "expected.yaml" for c in cases("render")] + sorted((GOLDEN / "examples").glob("*.yaml"))
    jobs = [pytest.param(obj, id=f"{path.parent.name}:{obj['metadata']['name']}")
            for path in paths for obj in yaml.safe_load_all(path.read_text()) if obj["kind"] == "Job"]
    assert len(jobs) >= 8  # the smoke tests and the scale-down delays of the corpus
    return jobs


@pytest.mark.parametrize("job", _rendered_jobs())
def test_every_rendered_job_passes_pod_security_restricted(job):
    template = job["spec"]["template"]
    assert restricted_violations(template.get("metadata") or {}, template["spec"]) == []
    for container in template["spec"]["containers"]:  # a ResourceQuota admits only pods that say what they use
        assert {"requests", "limits"} <= container["resources"].keys()
        assert {"cpu", "memory"} <= container["resources"]["requests"].keys() & container["resources"]["limits"].keys()


ADMITTED = {"securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{"name": "c", "securityContext": {"allowPrivilegeEscalation": False,
                                                             "capabilities": {"drop": ["ALL"]}}}]}


@pytest.mark.parametrize(("change", "violation"), [
    (lambda p: p["securityContext"].pop("runAsNonRoot"), "runAsNonRoot not true"),
    (lambda p: p["securityContext"].pop("seccompProfile"), "seccomp profile not RuntimeDefault or Localhost"),
    (lambda p: p["containers"][0]["securityContext"].pop("allowPrivilegeEscalation"),
     "allowPrivilegeEscalation not false"),
    (lambda p: p["containers"][0]["securityContext"]["capabilities"].update(add=["NET_ADMIN"]),
     "capability NET_ADMIN added"),
    (lambda p: p["containers"][0]["securityContext"]["capabilities"].update(drop=["NET_RAW"]),
     "capabilities not dropping ALL"),
    (lambda p: p.update(volumes=[{"name": "h", "hostPath": {"path": "/"}}]), "hostPath volume"),
    (lambda p: p["securityContext"].update(runAsUser=0), "runAsUser 0"),
    (lambda p: p.update(hostNetwork=True), "host namespace hostNetwork"),
])
def test_the_checker_finds_each_violation(change, violation):
    import copy

    pod = copy.deepcopy(ADMITTED)
    assert restricted_violations({}, pod) == []
    change(pod)
    assert violation in restricted_violations({}, pod)
