"""The query guard of `wirecopy sql`: read-only statements only, on a connection that cannot touch any file.

Two independent layers, so that one mistake in either does not let a query write:

1. The statement kinds are checked before anything runs (`check_query`): SELECT (with WITH, VALUES, FROM-first,
   DESCRIBE, SHOW, SUMMARIZE) and EXPLAIN of one are allowed; COPY, EXPORT, ATTACH/DETACH, INSTALL/LOAD, SET/RESET,
   PRAGMA, CALL, CHECKPOINT, VACUUM/ANALYZE, transactions and every DDL/DML statement are refused with one line.
2. The connection (`open_reader`) is opened read-only with `enable_external_access = false` (no file other than
   the database itself can be read or written: no COPY … TO, EXPORT, ATTACH, read_csv('/etc/passwd'), INSTALL,
   secrets), no extension auto-install/auto-load, no spilling to a temporary directory, and
   `lock_configuration = true`, so no statement can switch any of that back.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

READ_ONLY_CONFIG: dict[str, object] = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "temp_directory": "",  # a large sort fails with "out of memory" instead of writing a spill file
    "lock_configuration": True,  # last: the options above can no longer be changed by SET or PRAGMA
}

ALLOWED = "SELECT, WITH, VALUES, FROM, DESCRIBE, SHOW, SUMMARIZE or EXPLAIN"


class QueryRefused(ValueError):
    """A statement that `wirecopy sql` does not run; the message is one line."""


class EmptyQuery(QueryRefused):
    """No statement at all (an empty string, only comments or semicolons)."""


def _statement_starts(query: str) -> list[str]:
    """The first keyword of every statement, upper-case (comments skipped; opening parentheses skipped)."""
    at_character = _character_positions(query)
    starts: list[str] = []
    expect = True
    for position, kind in duckdb.tokenize(query):
        word = _word_at(query, at_character.get(position, len(query)))
        if kind == duckdb.token_type.operator and word in (";",):
            expect = True
            continue
        if expect and word and not (kind == duckdb.token_type.operator and word == "("):
            starts.append(word.upper())
            expect = False
    return starts


def _character_positions(query: str) -> dict[int, int]:
    """Character index by UTF-8 byte offset: DuckDB's tokenizer gives byte offsets (Arabic letters are two bytes)."""
    positions, offset = {}, 0
    for index, character in enumerate(query):
        positions[offset] = index
        offset += len(character.encode("utf-8"))
    positions[offset] = len(query)
    return positions


def _word_at(query: str, position: int) -> str:
    end = position
    while end < len(query) and (query[end].isalnum() or query[end] == "_"):
        end += 1
    return query[position:end] or query[position : position + 1]


def check_query(query: str) -> int:
    """Raise QueryRefused unless every statement in `query` only reads; returns how many statements it holds."""
    if not query.strip():
        raise EmptyQuery('empty query: give a SQL statement, e.g. wirecopy sql "SELECT count(*) FROM paragraphs"')
    try:
        query.encode("utf-8")
    except UnicodeEncodeError as error:
        raise QueryRefused(f"the query is not UTF-8 text (character {error.start + 1}): give it as UTF-8") from None
    for keyword in _statement_starts(query):
        if keyword == "PRAGMA":
            raise QueryRefused(
                "PRAGMA is refused: wirecopy sql is read-only (use DESCRIBE, SHOW or SELECT * FROM pragma_…() instead)"
            )
    try:
        statements = duckdb.connect(config={"enable_external_access": False}).extract_statements(query)
    except duckdb.Error as error:
        raise QueryRefused(f"query failed: {' '.join(str(error).split())}") from None
    if not statements:
        raise EmptyQuery('empty query: give a SQL statement, e.g. wirecopy sql "SELECT count(*) FROM paragraphs"')
    for statement in statements:
        _check_statement(statement)
    return len(statements)


def _check_statement(statement) -> None:
    kind = statement.type
    if kind == duckdb.StatementType.SELECT:
        return
    if kind == duckdb.StatementType.EXPLAIN:
        inner = _explained(statement.query)
        if inner and all(s.type == duckdb.StatementType.SELECT for s in _parse(inner)):
            return
        raise QueryRefused(f"EXPLAIN of anything but a query is refused: wirecopy sql is read-only ({ALLOWED})")
    name = kind.name.replace("_STATEMENT", "")
    first = _statement_starts(statement.query)
    if not statement.query.strip() and kind == duckdb.StatementType.CREATE:  # DuckDB's own, made for a PIVOT
        raise QueryRefused(
            "PIVOT without IN is refused: DuckDB would create a type of the ON column's values, and wirecopy sql is "
            "read-only; list the values: PIVOT t ON col IN ('a', 'b') USING count(*)"
        )
    shown = name if not first or first[0] == "WITH" else first[0]
    raise QueryRefused(
        f"{shown} is refused: wirecopy sql is read-only ({ALLOWED}); "
        "it cannot write, export, attach, install or change settings"
    )


def _explained(text: str) -> str:
    """The statement an EXPLAIN [ANALYZE] explains."""
    rest = text.lstrip()
    for word in ("EXPLAIN", "ANALYZE", "ANALYSE"):
        if rest[: len(word)].upper() == word and (len(rest) == len(word) or not rest[len(word)].isalnum()):
            rest = rest[len(word) :].lstrip()
    if rest.startswith("("):  # EXPLAIN (FORMAT json) …: options in parentheses
        depth = 0
        for i, char in enumerate(rest):
            depth += char == "("
            depth -= char == ")"
            if depth == 0:
                rest = rest[i + 1 :].lstrip()
                break
    return rest


def _parse(text: str):
    try:
        return duckdb.connect(config={"enable_external_access": False}).extract_statements(text)
    except duckdb.Error:
        return []


def open_reader(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the warehouse file that cannot create, change or read any other file."""
    return duckdb.connect(str(path), read_only=True, config=dict(READ_ONLY_CONFIG))
