"""Reading the files bluegreen.yaml names: the base Deployment and the companion files
(spec.configMaps' files, spec.resources). Confined to the app's repository (app/repository.py),
regular, limited and UTF-8, like every read (app/files.py); a file that cannot be read is
reported at the line of bluegreen.yaml that names it. What they hold is checked by the intent wing.
"""

from __future__ import annotations

import os

from bgrender import TYPE_CHECKING
from bgrender.app.files import read_named_file, shown_beside
from bgrender.errors import InvalidInput, Problem, quote
from bgrender.intent.configmaps import MAX_DATA_BYTES, ConfigMap, data_bytes, hashed_name
from bgrender.intent.resources import MAX_COMPANION_BYTES, NONE, Companions, check_documents
from bgrender.intent.versioned import split
from bgrender.yamlfile.document import Document, load_document, load_streams

if TYPE_CHECKING:
    from bgrender.app.repository import Boundary
    from bgrender.intent.base_deployment import Base
    from bgrender.intent.intent import ConfigMapSpec, Intent


def read_base(intent: Intent, intent_doc: Document, app_dir: str, within: Boundary | None = None) -> Document | None:
    """The base Deployment file's document; None for an inline template (spec.template)."""
    if intent.deployment is None:
        return None
    shown = shown_beside(intent.file, intent.deployment)
    text = read_named_file(app_dir, intent.deployment, shown,
                           lambda message: intent_doc.problem(("spec", "deployment"), message), within)
    return load_document(text, shown)


class _Reader:
    """Reads companion files like the base (confined, regular, limited, UTF-8), under one budget
    for all of them; a file that cannot be read is reported at the line of bluegreen.yaml that
    names it."""

    def __init__(self, intent: Intent, intent_doc: Document, app_dir: str, within: Boundary | None):
        self.intent, self.intent_doc, self.app_dir, self.within = intent, intent_doc, app_dir, within
        self.spent = 0
        self.problems: list[Problem] = []

    def read(self, rel: str, at: tuple) -> str | None:
        if self.spent > MAX_COMPANION_BYTES:
            return None
        try:
            text = read_named_file(self.app_dir, rel, shown_beside(self.intent.file, rel),
                                   lambda message: self.intent_doc.problem(at, message), self.within)
        except InvalidInput as err:
            self.problems += err.problems
            return None
        self.spent += len(text)
        if self.spent > MAX_COMPANION_BYTES:
            self.problems.append(self.intent_doc.problem(at, f"spec.resources and spec.configMaps read more than "
                                                             f"{MAX_COMPANION_BYTES // 2**20} MiB in all; that "
                                                             "cannot render (keep large data out of Git manifests)"))
            return None
        return text


def read_companions(intent: Intent, intent_doc: Document, base: Base, app_dir: str,
                    within: Boundary | None = None) -> Companions:
    """Read and check spec.configMaps' files and spec.resources; InvalidInput with every problem."""
    if not intent.config_maps and not intent.resources:
        return NONE
    reader = _Reader(intent, intent_doc, app_dir, within)
    config_maps = {spec.name: _config_map(reader, spec, i) for i, spec in enumerate(intent.config_maps)}
    tried = [(i, shown_beside(intent.file, rel), reader.read(rel, ("spec", "resources", i)))
             for i, rel in enumerate(intent.resources)]
    read = [(i, file, text) for i, file, text in tried if text is not None]
    try:
        streams = load_streams([(text, file) for _, file, text in read])
    except InvalidInput as err:  # report the files that could not be read along with those that did not parse
        raise InvalidInput(reader.problems + err.problems) from err
    problems = reader.problems + [intent_doc.problem(("spec", "resources", i), f"{file}: holds no Kubernetes object")
                                  for (i, file, _), docs in zip(read, streams) if not docs]
    resources, found = check_documents([d for docs in streams for d in docs], intent.namespace, base.app_labels,
                                       base.name)
    plain, versions, refused = split(resources)
    refused += [v.resource.doc.problem(("metadata", "name"), f"spec.configMaps declares {quote(v.name)} too; version "
                                       "a ConfigMap one way only") for v in versions
                if v.kind == "ConfigMap" and v.name in config_maps]
    if problems or found or refused:
        raise InvalidInput(problems + found + refused)
    return Companions({k: v for k, v in config_maps.items() if v is not None}, tuple(plain), tuple(versions))


def _config_map(reader: _Reader, spec: ConfigMapSpec, index: int) -> ConfigMap | None:
    at = ("spec", "configMaps", index)
    data = dict(spec.data)
    for i, rel in enumerate(spec.files):
        text = reader.read(rel, at + ("files", i))
        if text is not None:
            data[os.path.basename(rel)] = text
    if data_bytes(data) > MAX_DATA_BYTES:
        reader.problems.append(reader.intent_doc.problem(at, f"holds more than {MAX_DATA_BYTES // 2**20} MiB, the "
                                                             "most a ConfigMap may hold"))
        return None
    return ConfigMap(spec.name, hashed_name(spec.name, data), data, reader.intent_doc.problem(at + ("name",), ""))
