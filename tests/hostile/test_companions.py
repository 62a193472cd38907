"""spec.resources and spec.configMaps files get the base's guards: only regular files inside the
app directory, size limits, UTF-8, the alias budget (one for all of them), and a cap on what
they read in all."""

from __future__ import annotations

import os

import pytest

from bgrender.app.files import MAX_FILE_BYTES
from bgrender.intent.configmaps import MAX_DATA_BYTES
from bgrender.intent.resources import MAX_COMPANION_BYTES
from bgrender.intent.spec import MAX_COMPANION_FILES
from bgrender.yamlfile.document import MAX_DEPTH, MAX_NODES

from .conftest import assert_refused, render

SERVICE_ACCOUNT = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {name}\n"
MOUNT = """\
          volumeMounts:
            - name: config
              mountPath: /etc/web
      volumes:
        - name: config
          configMap:
            name: web-config
"""


def bomb(levels: int) -> str:
    """A mapping whose aliases expand to about 9**levels values."""
    text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    names = "abcdefghij"
    return text + "".join(f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n" for a, b in zip(names, names[1:levels]))


def with_resources(app, *files: str):
    with open(app / "bluegreen.yaml", "a") as f:
        f.write("  resources: [" + ", ".join(files) + "]\n")


def with_config(app, *files: str):
    with open(app / "bluegreen.yaml", "a") as f:
        f.write("  configMaps:\n    - name: web-config\n      files: [" + ", ".join(files) + "]\n")
    base = (app / "deployment.yaml").read_text()
    (app / "deployment.yaml").write_text(base + MOUNT)


@pytest.fixture(params=["resource", "config"])
def companion(request, app):
    """Name a file `x.yaml` of the app either way: as a resource, or as a ConfigMap's file."""
    (with_resources if request.param == "resource" else with_config)(app, "x.yaml")
    return app


def test_fifo_is_refused_without_waiting_for_a_writer(companion):
    os.mkfifo(companion / "x.yaml")
    assert_refused(render(companion, timeout=10), "x.yaml: cannot be read: not a regular file")


def test_symlink_leaving_the_app_directory_is_refused(companion):
    (companion.parent / "outside.yaml").write_text(SERVICE_ACCOUNT.format(name="x"))
    (companion / "x.yaml").symlink_to("../outside.yaml")
    assert_refused(render(companion), "x.yaml: resolves (through a symlink) to a path outside the app directory")


def test_file_larger_than_the_limit(companion):
    (companion / "x.yaml").write_text("# " + "x" * MAX_FILE_BYTES + "\n")
    assert_refused(render(companion), "x.yaml", f"larger than {MAX_FILE_BYTES // 1024} KiB")


def test_nul_byte_is_reported_with_its_position(companion):
    (companion / "x.yaml").write_bytes(b"apiVersion: v1\nkind: Service\x00Account\n")
    assert_refused(render(companion), "x.yaml:2:14: contains a NUL byte")


def test_alias_bomb_in_a_resource(app):
    with_resources(app, "x.yaml")
    (app / "x.yaml").write_text(bomb(9))
    assert_refused(render(app, timeout=10), "x.yaml", f"more than {MAX_NODES} values once aliases are expanded")


@pytest.mark.parametrize("layout", ["documents of one file", "one file each"])
def test_one_budget_counts_every_document_of_every_resource_file(app, layout):
    """Each document stays under the budget a single file gets; together they do not."""
    (app / "one.yaml").write_text(bomb(5))
    with_resources(app, "one.yaml")
    alone = render(app, timeout=10)
    assert_refused(alone, "one.yaml:1:1: apiVersion: must be a Kubernetes apiVersion")  # under the budget
    (app / "bluegreen.yaml").write_text((app / "bluegreen.yaml").read_text().replace("  resources: [one.yaml]\n", ""))
    if layout == "documents of one file":
        (app / "r.yaml").write_text(bomb(5) + "---\n" + bomb(5))
        with_resources(app, "r.yaml")
    else:
        (app / "r1.yaml").write_text(bomb(5))
        (app / "r2.yaml").write_text(bomb(5))
        with_resources(app, "r1.yaml", "r2.yaml")
    assert_refused(render(app, timeout=10), f"more than {MAX_NODES} values once aliases are expanded")


def test_deep_nesting_in_a_resource(app):
    with_resources(app, "x.yaml")
    (app / "x.yaml").write_text("a: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n")
    assert_refused(render(app, timeout=10), "x.yaml:1:", "nesting")


def test_python_tags_in_a_resource_are_refused(app):
    with_resources(app, "x.yaml")
    (app / "x.yaml").write_text("apiVersion: v1\nkind: !!python/name:os.system ServiceAccount\n")
    assert_refused(render(app), "x.yaml:2:7: kind: unsupported tag")


def test_everything_the_companions_read_is_capped(app):
    """A list of files each under the file limit cannot add up to more than the render could
    ever print; the one that crosses the cap is named."""
    count = MAX_COMPANION_BYTES // (MAX_FILE_BYTES - 1024) + 1
    names = [f"r{i}.yaml" for i in range(count)]
    for name in names:
        (app / name).write_text(SERVICE_ACCOUNT.format(name=name[:-5]) + "# " + "x" * (MAX_FILE_BYTES - 1024) + "\n")
    with_resources(app, *names)
    result = render(app)
    assert_refused(result, f"spec.resources[{count - 1}]: ",
                   f"read more than {MAX_COMPANION_BYTES // 2**20} MiB in all")


def test_more_files_than_the_list_limit(app):
    with_resources(app, *[f"r{i}.yaml" for i in range(MAX_COMPANION_FILES + 1)])
    assert_refused(render(app), f"spec.resources: must hold at most {MAX_COMPANION_FILES} items")


def test_config_map_larger_than_kubernetes_accepts(app):
    half = "x" * (MAX_DATA_BYTES // 2 + 1)
    (app / "a.txt").write_text(half)
    (app / "b.txt").write_text(half)
    with_config(app, "a.txt", "b.txt")
    assert_refused(render(app), "spec.configMaps[0]: holds more than 1 MiB, the most a ConfigMap may hold")


def test_bom_and_crlf_are_accepted_and_kept_out_of_the_config(app):
    with_resources(app, "sa.yaml")
    (app / "sa.yaml").write_bytes(b"\xef\xbb\xbf" + SERVICE_ACCOUNT.format(name="web").replace("\n", "\r\n").encode())
    with_config(app, "settings.txt")
    (app / "settings.txt").write_bytes(b"\xef\xbb\xbfa=1\r\n")
    result = render(app)
    assert result.returncode == 0, result.stderr
    assert "kind: ServiceAccount" in result.stdout
    assert "settings.txt: \"a=1\\r\\n\"" in result.stdout  # the BOM is dropped; the bytes after it are kept
