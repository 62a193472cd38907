"""The docs site's build steps (mkdocs.yml `hooks:`), so that the pages read well on GitHub too.

- `<!-- include: ../README.md -->` on a line of its own puts that file's text there (add
  `until "## Heading"` to stop before a heading), its relative links made relative to the page.
- A relative link that leaves `docs/` (`../examples/orders`) names a file of the repository:
  it must exist (else a warning, which `strict` makes a failure), and becomes a link to the page
  that includes that file whole (`../SECURITY.md`: security.md), else to it on the repository's
  site.
- `schemas/bluegreen-v1alpha1.json` is what `bgrender schema` prints now, so the site serves
  the JSON Schema at the `$id` the schema names (intent/schema.py's SCHEMA_ID).
"""

from __future__ import annotations

import logging
import os
import posixpath
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File

log = logging.getLogger("mkdocs.plugins.bgrender_docs")

SCHEMA = "schemas/bluegreen-v1alpha1.json"
INCLUDE = re.compile(r'^<!-- include: (\S+)(?: until "([^"]+)")? -->$', re.M)
LINK = re.compile(r"\]\(([^)\s]+)\)")
# Fenced code blocks (also indented ones, in lists): no link is rewritten inside them.
FENCE = re.compile(r"^([ \t]*```).*?^\1[ \t]*$", re.S | re.M)


def schema_json() -> str:
    """What `bgrender schema` prints, run as users run it (the interpreter running mkdocs)."""
    return subprocess.run([sys.executable, "-m", "bgrender", "schema"], check=True, capture_output=True,
                          text=True).stdout


def on_files(files: Any, config: Any) -> Any:
    files.append(File.generated(config, SCHEMA, content=schema_json()))
    return files


def _outside_code(text: str, fix: Any) -> str:
    """`fix` applied to every link of `text` outside fenced code blocks."""
    out, end = [], 0
    for block in FENCE.finditer(text):
        out.append(LINK.sub(fix, text[end:block.start()]))
        out.append(block.group(0))
        end = block.end()
    out.append(LINK.sub(fix, text[end:]))
    return "".join(out)


def _is_relative(target: str) -> bool:
    return not re.match(r"^([a-z][a-z0-9+.-]*:|#|/)", target)


def _rebase(text: str, source_dir: Path, page_dir: Path, docs_dir: Path) -> str:
    """Relative links of a file in `source_dir`, made relative to a page in `page_dir`."""
    def fix(match: re.Match[str]) -> str:
        target = match.group(1)
        if not _is_relative(target):
            return match.group(0)
        path, _, anchor = target.partition("#")
        resolved = (source_dir / path).resolve()
        if resolved == docs_dir:
            resolved = docs_dir / "index.md"
        new = Path(os.path.relpath(resolved, page_dir)).as_posix()
        return f"]({new}{'#' + anchor if anchor else ''})"
    return _outside_code(text, fix)


def _include(markdown: str, page_dir: Path, docs_dir: Path) -> str:
    def expand(match: re.Match[str]) -> str:
        source = (page_dir / match.group(1)).resolve()
        text = source.read_text()
        if match.group(2):
            text = text.split(f"\n{match.group(2)}\n", 1)[0] + "\n"
        return _rebase(text, source.parent, page_dir, docs_dir)
    return INCLUDE.sub(expand, markdown)


def _included_whole(docs_dir: Path) -> dict[Path, Path]:
    """The files that a page includes whole, and that page."""
    found = {}
    for page in docs_dir.rglob("*.md"):
        for match in INCLUDE.finditer(page.read_text()):
            if not match.group(2):
                found[(page.parent / match.group(1)).resolve()] = page
    return found


def _to_repository(markdown: str, page: Any, config: Any) -> str:
    docs_dir = Path(config["docs_dir"]).resolve()
    root = docs_dir.parent
    page_dir = (docs_dir / page.file.src_path).parent
    pages = _included_whole(docs_dir)

    def fix(match: re.Match[str]) -> str:
        target = match.group(1)
        if not _is_relative(target):
            return match.group(0)
        path, _, anchor = target.partition("#")
        resolved = Path(posixpath.normpath((page_dir / path).as_posix()))
        if resolved.is_relative_to(docs_dir):
            return match.group(0)
        if not resolved.is_relative_to(root) or not resolved.exists():
            log.warning("Doc file '%s' links to '%s', which is not a file of the repository",
                        page.file.src_path, target)
            return match.group(0)
        if resolved.resolve() in pages:
            own = Path(os.path.relpath(pages[resolved.resolve()], page_dir)).as_posix()
            return f"]({own}{'#' + anchor if anchor else ''})"
        kind = "tree" if resolved.is_dir() else "blob"
        url = f"{config['repo_url'].rstrip('/')}/{kind}/main/{resolved.relative_to(root).as_posix()}"
        return f"]({url}{'#' + anchor if anchor else ''})"
    return _outside_code(markdown, fix)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    docs_dir = Path(config["docs_dir"]).resolve()
    markdown = _include(markdown, (docs_dir / page.file.src_path).parent, docs_dir)
    return _to_repository(markdown, page, config)
