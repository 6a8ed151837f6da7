"""Extract layer: plain generators turning files, directories, globs and URLs into typed records.

No Prefect here; flows call `iter_sources` (or the lower-level readers) and get `RawDocument`s and
`IngestError`s back, never exceptions.
"""

from connectors.encoding import UndecodableError, decode_bytes
from connectors.feeds import FeedEntry, feed_entries, is_feed
from connectors.files import SourceLimits, read_file
from connectors.http import FetchError, FetchPolicy, fetch_url
from connectors.jsonl import JsonlFields
from connectors.outlets import MetadataError, outlet_for
from connectors.sources import is_url, iter_sources

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
