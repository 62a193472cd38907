"""Only regular files inside the app directory are read; nothing blocks, nothing escapes."""

from __future__ import annotations

import os
import socket
import stat

import pytest

from bgrender.intent.spec import unsafe_path_reason

from .conftest import assert_refused, render


@pytest.mark.parametrize("target", ["bluegreen.yaml", "deployment.yaml"])
def test_fifo_is_refused_without_waiting_for_a_writer(app, target):
    (app / target).unlink()
    os.mkfifo(app / target)
    assert_refused(render(app, timeout=10), "not a regular file")


@pytest.mark.parametrize("target", ["bluegreen.yaml", "deployment.yaml"])
def test_directory_is_refused(app, target):
    (app / target).unlink()
    (app / target).mkdir()
    prefix = "" if target == "bluegreen.yaml" else "bluegreen.yaml:12:15: spec.deployment: "
    assert_refused(render(app), f"{prefix}{target}: is a directory, not a file")


def test_socket_is_refused(app):
    (app / "deployment.yaml").unlink()
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(app / "deployment.yaml"))
        assert_refused(render(app, timeout=10), "not a regular file")


def test_device_is_refused(app):
    (app / "deployment.yaml").unlink()
    try:
        os.mknod(app / "deployment.yaml", stat.S_IFCHR | 0o644, os.makedev(1, 5))  # /dev/zero
    except PermissionError:
        pytest.skip("creating a device node needs CAP_MKNOD, which this test runner lacks")
    assert_refused(render(app, timeout=10), "not a regular file")


@pytest.mark.parametrize("link", ["/etc/hostname", "../outside.yaml", "/dev/zero"])
def test_symlink_leaving_the_app_directory_is_refused(app, link):
    (app.parent / "outside.yaml").write_text((app / "deployment.yaml").read_text())
    (app / "deployment.yaml").unlink()
    (app / "deployment.yaml").symlink_to(link)
    assert_refused(render(app), "outside the app directory")


def test_intent_symlink_leaving_the_app_directory_is_refused(app, tmp_path):
    elsewhere = tmp_path / "elsewhere.yaml"
    elsewhere.write_text((app / "bluegreen.yaml").read_text())
    (app / "bluegreen.yaml").unlink()
    (app / "bluegreen.yaml").symlink_to(elsewhere)
    assert_refused(render(app), "bluegreen.yaml: resolves (through a symlink) to a path outside")


def test_symlink_loop_is_refused(app):
    (app / "deployment.yaml").unlink()
    (app / "deployment.yaml").symlink_to("loop.yaml")
    (app / "loop.yaml").symlink_to("deployment.yaml")
    assert_refused(render(app, timeout=10), "spec.deployment: deployment.yaml:")


def test_bad_utf8_is_reported_with_its_position(app):
    text = (app / "bluegreen.yaml").read_bytes().replace(b"name: web", b"name: w\xffeb")
    (app / "bluegreen.yaml").write_bytes(text)
    assert_refused(render(app), "bluegreen.yaml:4:10: not valid UTF-8 (byte 0xff)")


def test_nul_byte_is_reported_with_its_position(app):
    text = (app / "deployment.yaml").read_bytes().replace(b"name: web\n", b"name: w\x00eb\n", 1)
    (app / "deployment.yaml").write_bytes(text)
    assert_refused(render(app), "deployment.yaml:4:10: contains a NUL byte")


def test_control_character_is_a_yaml_error_with_position(app):
    text = (app / "bluegreen.yaml").read_text().replace("name: web", "name: w\x07eb")
    (app / "bluegreen.yaml").write_text(text)
    assert_refused(render(app), "bluegreen.yaml:4:")


def test_bom_and_crlf_are_accepted(app):
    for name in ("bluegreen.yaml", "deployment.yaml"):
        text = (app / name).read_text()
        (app / name).write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    result = render(app)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(("path", "reason"), [
    ("/etc/passwd", "not absolute"), ("", "empty"), ("a\x00b", "NUL"),
    # ".." may leave the app directory: the reader confines what it resolves to to the repository.
    ("../x.yaml", None), ("a/../../x.yaml", None),
    # Linux reads these as ordinary relative names; read_app_file still confines what they resolve to.
    ("a:deployment.yaml", None), ("C:deployment.yaml", None), ("C:\\deployment.yaml", None), ("\\x.yaml", None),
    ("..\\x.yaml", None), ("a..b.yaml", None), ("./deployment.yaml", None),
])
def test_unsafe_path_reason_follows_posix(path, reason):
    found = unsafe_path_reason(path)
    assert found is None if reason is None else reason in found


@pytest.mark.parametrize("name", ["C:deployment.yaml", "..\\x.yaml", "a\\b.yaml"])
def test_names_with_colons_and_backslashes_are_read(app, name):
    (app / "deployment.yaml").rename(app / name)
    intent = (app / "bluegreen.yaml").read_text().replace("deployment: deployment.yaml", f"deployment: '{name}'")
    (app / "bluegreen.yaml").write_text(intent)
    result = render(app)
    assert result.returncode == 0, result.stderr
