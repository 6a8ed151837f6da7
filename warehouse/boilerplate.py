"""Learned per-outlet boilerplate in the warehouse: recompute after each run, record human decisions.

`outlet_boilerplate` is derived data: `refresh_boilerplate` recomputes it from `paragraphs` + `documents`
with the rule of `wirecopy.cleaning.learned`, for the texts that commits touched since the last refresh
(`boilerplate_pending`, migration 008) or in full, and writes the difference in one short transaction.
`boilerplate_overrides` is an append-only log of decisions; the latest per (outlet, text_hash) wins. The
views of migration 003 combine both, so a decision takes effect at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from wirecopy.warehouse import sql
from wirecopy.warehouse.db import session, transaction, writer_lock

from wirecopy.cleaning.learned import BoilerplateSettings
from wirecopy.dedup.engine import text_hash as hash_of_normalized
from wirecopy.dedup.normalize import normalize_batch

Decision = Literal["boilerplate", "content", "learned"]


@dataclass(frozen=True)
class BoilerplateRefresh:
    """Outcome of one recomputation: texts learned in all, and how the stored set changed."""

    learned: int
    added: int
    removed: int
    changed: int

    @property
    def wrote(self) -> bool:
        return bool(self.added or self.removed or self.changed)


def refresh_boilerplate(
    db: Path, settings: BoilerplateSettings, *, wait_seconds: float = 300.0, full: bool = False
) -> BoilerplateRefresh:
    """Bring `outlet_boilerplate` up to date: recompute the texts the commits since the last refresh touched
    (`boilerplate_pending`), or every text when `full`, when the settings differ from the last full refresh's,
    or when there was none. A no-op write when nothing changed. Either way the table ends equal to a full
    recomputation from everything stored."""
    params = {"min_docs": settings.min_docs, "window_days": settings.window_days}
    with writer_lock(db, wait_seconds=wait_seconds), session(db, read_only=False, wait_seconds=wait_seconds) as con:
        full = full or con.execute(sql.LEARNING_SETTINGS).fetchall() != [(settings.min_docs, settings.window_days)]
        if not full and not con.execute("SELECT count(*) FROM boilerplate_pending").fetchone()[0]:
            learned = con.execute("SELECT count(*) FROM outlet_boilerplate").fetchone()[0]
            return BoilerplateRefresh(learned=learned, added=0, removed=0, changed=0)
        learn = sql.LEARN_BOILERPLATE if full else sql.LEARN_PENDING_BOILERPLATE
        con.execute("CREATE TEMP TABLE learned_now AS " + learn, params)
        added, removed, differing, before = con.execute(sql.BOILERPLATE_DIFF if full else sql.PENDING_DIFF).fetchone()
        learned = before + added - removed
        result = BoilerplateRefresh(learned=learned, added=added, removed=removed, changed=differing - added)
        with transaction(con):
            if result.wrote:
                con.execute(sql.REPLACE_LEARNED_BOILERPLATE if full else sql.REPLACE_PENDING_BOILERPLATE)
            con.execute(sql.CLEAR_PENDING_TEXTS)
            if full:
                con.execute(sql.RECORD_LEARNING_SETTINGS, params | {"now": datetime.now(UTC)})
    return result


def text_hash_of(text: str) -> int:
    """The `text_hash` a paragraph with this text gets (same normalisation as at ingest)."""
    return hash_of_normalized(normalize_batch([text])[0])


class NoOverride(LookupError):
    """A reset of a text that has no keep/drop decision in force."""


class UnknownText(LookupError):
    """No stored paragraph of the outlet has that text, and nothing was learned or decided about it."""


def record_decision(
    db: Path,
    outlet: str,
    text_hash: int,
    decision: Decision,
    *,
    note: str | None = None,
    wait_seconds: float = 300.0,
) -> int:
    """Append a decision for (outlet, text_hash); returns its decision_id. Raises UnknownText, and NoOverride for a
    `learned` (reset) of a text without an override in force: the audit trail records only what changes a rule."""
    with writer_lock(db, wait_seconds=wait_seconds), session(db, read_only=False, wait_seconds=wait_seconds) as con:
        keys = {"outlet": outlet, "text_hash": text_hash}
        sample = con.execute(sql.BOILERPLATE_SAMPLE, keys).fetchone()
        if sample is None:
            raise UnknownText(f"no paragraph of outlet {outlet!r} has text_hash {text_hash}")
        current = con.execute(sql.CURRENT_BOILERPLATE_DECISION, keys).fetchone()
        if decision == "learned" and (current is None or current[0] == "learned"):
            raise NoOverride(f"text_hash {text_hash} of outlet {outlet!r} has no override to withdraw (see `list`)")
        row = con.execute(
            sql.INSERT_BOILERPLATE_DECISION,
            keys | {"decision": decision, "note": note, "sample_text": sample[0], "decided_at": datetime.now(UTC)},
        ).fetchone()
    return int(row[0])


def boilerplate_status(
    db: Path, *, outlet: str | None = None, limit: int = 1000, wait_seconds: float = 30.0
) -> tuple[list[str], list[tuple]]:
    """Column names and rows of `boilerplate_status`: every text left out, and every text kept by hand."""
    with session(db, read_only=True, wait_seconds=wait_seconds) as con:
        cursor = con.execute(sql.BOILERPLATE_STATUS, {"outlet": outlet, "limit": limit})
        return [d[0] for d in cursor.description], cursor.fetchall()


def decision_history(db: Path, *, outlet: str | None = None, wait_seconds: float = 30.0) -> tuple[list[str], list]:
    """Every decision ever recorded, oldest first (the audit trail)."""
    with session(db, read_only=True, wait_seconds=wait_seconds) as con:
        cursor = con.execute(sql.BOILERPLATE_HISTORY, {"outlet": outlet})
        return [d[0] for d in cursor.description], cursor.fetchall()


def paragraph_text_key(db: Path, paragraph_id: str, *, wait_seconds: float = 30.0) -> tuple[str, int]:
    """(outlet, text_hash) of a stored paragraph; raises UnknownText."""
    with session(db, read_only=True, wait_seconds=wait_seconds) as con:
        row = con.execute(sql.PARAGRAPH_TEXT_KEY, {"paragraph_id": paragraph_id}).fetchone()
    if row is None:
        raise UnknownText(f"no paragraph {paragraph_id!r}")
    return row[0], int(row[1])
