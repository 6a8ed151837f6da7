"""Sources read from one folder and recorded under another (the inbox's claim folder → the inbox)."""

from __future__ import annotations

import pyarrow as pa

from wirecopy.models import IngestError
from wirecopy.provenance import relocated_documents, relocated_errors, relocated_text, relocated_uri

CLAIM, INBOX = "/data/inbox/.processing/20261206-c1", "/data/inbox"
MOVED = {CLAIM: INBOX}


def test_only_paths_below_the_folder_read_are_relocated() -> None:
    assert relocated_uri(f"{CLAIM}/afp/a.txt", MOVED) == f"{INBOX}/afp/a.txt"
    assert relocated_uri(f"{CLAIM}/b.jsonl#L3", MOVED) == f"{INBOX}/b.jsonl#L3"
    assert relocated_uri(f"{CLAIM}0/c.txt", MOVED) == f"{CLAIM}0/c.txt"  # another claim sharing the prefix
    assert (
        relocated_uri("https://example.org/data/inbox/.processing/x", MOVED)
        == "https://example.org/data/inbox/.processing/x"
    )
    assert relocated_uri(f"{CLAIM}/a.txt", {}) == f"{CLAIM}/a.txt"


def test_reasons_quoting_the_folder_name_the_inbox() -> None:
    assert relocated_text(f"directory {CLAIM} contains no article files", MOVED) == (
        f"directory {INBOX} contains no article files"
    )
    assert (
        relocated_text(f"outside the ingest root {CLAIM}: refused", MOVED)
        == f"outside the ingest root {INBOX}: refused"
    )
    assert relocated_text(f"{CLAIM}/x.txt is empty", MOVED) == f"{INBOX}/x.txt is empty"
    assert relocated_text(f"{CLAIM}0/x.txt is empty", MOVED) == f"{CLAIM}0/x.txt is empty"


def test_documents_and_errors_are_relocated_and_nothing_else_changes() -> None:
    table = pa.table({"source_uri": [f"{CLAIM}/a.txt", "/elsewhere/b.txt"], "outlet": ["a", "b"]})
    moved = relocated_documents(table, MOVED)
    assert moved.column("source_uri").to_pylist() == [f"{INBOX}/a.txt", "/elsewhere/b.txt"]
    assert moved.column("outlet").equals(table.column("outlet")) and moved.schema == table.schema
    [error] = relocated_errors(
        [IngestError(source_uri=f"{CLAIM}/e.txt", stage="read", reason=f"{CLAIM}/e.txt: empty")], MOVED
    )
    assert (error.source_uri, error.stage, error.reason) == (f"{INBOX}/e.txt", "read", f"{INBOX}/e.txt: empty")
