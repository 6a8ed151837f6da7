"""Extract layer: plain generators turning files, directories, globs and URLs into typed records.

No Prefect here; flows call `iter_sources` (or the lower-level readers) and get `RawDocument`s and
`IngestError`s back, never exceptions.

The names below are imported when first used, so that importing one connector (the settings need
`wirecopy.connectors.http`'s `FetchPolicy`) does not import the others (feeds, files: ≈ 0.1 s of a command's start).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wirecopy.connectors.encoding import UndecodableError, decode_bytes
    from wirecopy.connectors.feeds import FeedEntry, feed_entries, is_feed
    from wirecopy.connectors.files import SourceLimits, read_file
    from wirecopy.connectors.http import FetchError, FetchPolicy, fetch_url
    from wirecopy.connectors.jsonl import JsonlFields
    from wirecopy.connectors.outlets import MetadataError, outlet_for
    from wirecopy.connectors.sources import is_url, iter_sources

_MODULE_OF = {
    "UndecodableError": "encoding", "decode_bytes": "encoding",
    "FeedEntry": "feeds", "feed_entries": "feeds", "is_feed": "feeds",
    "SourceLimits": "files", "read_file": "files",
    "FetchError": "http", "FetchPolicy": "http", "fetch_url": "http",
    "JsonlFields": "jsonl",
    "MetadataError": "outlets", "outlet_for": "outlets",
    "is_url": "sources", "iter_sources": "sources",
}  # fmt: skip

__all__ = [
    "FeedEntry",
    "FetchError",
    "FetchPolicy",
    "JsonlFields",
    "MetadataError",
    "SourceLimits",
    "UndecodableError",
    "decode_bytes",
    "feed_entries",
    "fetch_url",
    "is_feed",
    "is_url",
    "iter_sources",
    "outlet_for",
    "read_file",
]


def __getattr__(name: str) -> Any:
    if name in _MODULE_OF:
        return getattr(importlib.import_module(f"{__name__}.{_MODULE_OF[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
