"""Where a source is recorded as coming from, when it is read from somewhere else: the inbox ingests the folder it
claimed (`inbox/.processing/<claim>/…`), a place that is gone once the files move on to `.done/` or `.failed/`;
its documents and errors are recorded under the path each file was dropped at (`inbox/…`), so provenance names
the drop, and the same failing file dropped again is the same error row."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

import pyarrow as pa

from wirecopy.models import IngestError

Relocations = Mapping[str, str]
"""Folder read → folder recorded, both absolute paths."""


def relocated_uri(uri: str, relocations: Relocations) -> str:
    """`uri` with a leading folder of `relocations` replaced (the first that matches)."""
    for read, recorded in relocations.items():
        if uri == read or uri.startswith(read + os.sep):
            return recorded + uri[len(read) :]
    return uri


def relocated_text(text: str, relocations: Relocations) -> str:
    """`text` (an error's reason, which may quote paths) with every folder of `relocations` replaced where it is
    a whole path or a path's start (followed by a separator, a colon, a space or the end)."""
    for read, recorded in relocations.items():
        text = re.sub(re.escape(read) + r"(?=[/:\s]|$)", recorded.replace("\\", "\\\\"), text)
    return text


def relocated_errors(errors: list[IngestError], relocations: Relocations) -> list[IngestError]:
    if not relocations:
        return errors
    return [
        error.model_copy(update={"source_uri": relocated_uri(error.source_uri, relocations),
                                 "reason": relocated_text(error.reason, relocations)})
        for error in errors
    ]  # fmt: skip


def relocated_documents(table: pa.Table, relocations: Relocations) -> pa.Table:
    """A documents table (`wirecopy.columns`) with its `source_uri` column relocated."""
    if not relocations or table.num_rows == 0:
        return table
    uris = [relocated_uri(uri, relocations) for uri in table.column("source_uri").to_pylist()]
    return table.set_column(table.schema.get_field_index("source_uri"), "source_uri", pa.array(uris, pa.string()))
