"""The CRDs the end-to-end control plane installs, vendored in `e2e/crds/` from Go modules.

`python -m tests.e2e.vendored_crds` (re)writes them from the module cache (`go mod download`);
`test_vendored_crds.py` checks that they still match the modules. `e2e/crds/README.md` names
each file's module, version and path.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CRDS = REPO / "e2e" / "crds"

ISTIO = ("istio.io/api", "v1.32.0", "kubernetes/customresourcedefinitions.gen.yaml")
ISTIO_GROUPS = ("networking.istio.io", "security.istio.io")
GATEWAY_API = ("sigs.k8s.io/gateway-api", "v1.6.1", "config/crd/standard")
# The kinds spec.resources may version besides ConfigMaps and Secrets (DESIGN §19).
EXTERNAL_SECRETS = ("github.com/external-secrets/external-secrets", "v1.3.2",
                    "config/crds/bases/external-secrets.io_externalsecrets.yaml")
SEALED_SECRETS = ("github.com/bitnami-labs/sealed-secrets", "v0.40.0",
                  "helm/sealed-secrets/crds/bitnami.com_sealedsecrets.yaml")


def module_dir(module: str, version: str) -> Path:
    """Where `go mod download` puts MODULE@VERSION (downloading it if needed)."""
    out = subprocess.run(["go", "mod", "download", "-json", f"{module}@{version}"], check=True,
                         capture_output=True, text=True, cwd=REPO / "e2e", timeout=600).stdout
    info = json.loads(out)
    if info.get("Error"):
        raise RuntimeError(f"go mod download {module}@{version}: {info['Error']}")
    return Path(info["Dir"])


def istio_documents(text: str) -> str:
    """The documents of Istio's generated CRD file that define a CRD of ISTIO_GROUPS, unchanged."""
    kept = []
    for doc in text.split("\n---\n"):
        groups = {line.split(":", 1)[1].strip() for line in doc.splitlines() if line.startswith("  group:")}
        if groups & set(ISTIO_GROUPS):
            kept.append(doc.strip("\n") + "\n")
    return "---\n".join(kept)


def expected() -> dict[str, str]:
    """File name in e2e/crds/ -> content, from the modules."""
    files = {}
    istio = module_dir(*ISTIO[:2]) / ISTIO[2]
    header = f"# Vendored from Go module {ISTIO[0]} {ISTIO[1]}, {ISTIO[2]}: the CRDs of {', '.join(ISTIO_GROUPS)}.\n"
    files["istio.yaml"] = header + istio_documents(istio.read_text())
    standard = module_dir(*GATEWAY_API[:2]) / GATEWAY_API[2]
    for path in sorted(standard.glob("*.yaml")):
        files[f"gateway-api-{path.name}"] = path.read_text()
    for module, version, path in (EXTERNAL_SECRETS, SEALED_SECRETS):
        files[Path(path).name] = (module_dir(module, version) / path).read_text()
    return files


def main() -> int:
    CRDS.mkdir(parents=True, exist_ok=True)
    for old in CRDS.glob("*.yaml"):
        old.unlink()
    for name, text in expected().items():
        (CRDS / name).write_text(text)
        print(CRDS / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
