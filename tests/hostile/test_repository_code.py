"""A render never imports Python from the repository. Argo CD runs the sidecar's `bgrender` in
the app's directory, which whoever can push chooses; the directory of the script heads the
module path, not the working directory, and bgrender's own modules load from its
installation (bgrender/bytecode.py), however the repository names its files."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from ..conftest import BGRENDER, EXAMPLES, REPO, SIDECAR_ENV, clean_env

GORILLA = next(p for p in EXAMPLES if p.name == "gorilla-sfx-demo")
# Modules the render path imports or stands in for, and bgrender's own package names.
PLANTED = ("yaml.py", "re.py", "types.py", "datetime.py", "collections.py", "base64.py", "copyreg.py", "enum.py",
           "_json.py", "_sha256.py", "marshal.py", "bgrender/__init__.py", "bgrender/intent/__init__.py",
           "bgrender/intent/spec.py", "intent/spec.py", "yamlfile/pyyaml.py", "__pycache__/colors.cpython-311.pyc")


@pytest.mark.parametrize("script", [str(REPO / "image" / "bgrender"), BGRENDER], ids=["image", "pip"])
def test_python_files_in_the_app_directory_are_never_imported(tmp_path, script):
    app, marker = tmp_path / "app", tmp_path / "imported"
    shutil.copytree(GORILLA, app)
    for name in PLANTED:
        path = app / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"open({str(marker)!r}, 'a').write({name!r} + '\\n')\n")
    env = clean_env({**SIDECAR_ENV, "ARGOCD_APP_NAME": "gorilla-sfx-demo", "ARGOCD_APP_NAMESPACE": "default"})
    planted = subprocess.run([sys.executable, script, "render"], cwd=app, env=env, capture_output=True, text=True,
                             timeout=60)
    pristine = subprocess.run([sys.executable, script, "render"], cwd=GORILLA, env=env, capture_output=True,
                              text=True, timeout=60)
    assert not marker.exists(), marker.read_text()
    assert planted.returncode == pristine.returncode == 0, planted.stderr
    assert planted.stdout == pristine.stdout and planted.stdout.startswith("---\n")
