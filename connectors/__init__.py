"""Extract layer: plain generators turning files, directories, globs and URLs into typed records.

No Prefect here; flows call `iter_sources` (or the lower-level readers) and get `RawDocument`s and
`IngestError`s back, never exceptions.
"""

from wirecopy.connectors.encoding import UndecodableError, decode_bytes
from wirecopy.connectors.feeds import FeedEntry, feed_entries, is_feed
from wirecopy.connectors.files import SourceLimits, read_file
from wirecopy.connectors.http import FetchError, FetchPolicy, fetch_url
from wirecopy.connectors.jsonl import JsonlFields
from wirecopy.connectors.outlets import MetadataError, outlet_for
from wirecopy.connectors.sources import is_url, iter_sources

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
