"""Learned per-outlet boilerplate on real DuckDB warehouses: what is flagged, what is not, overrides
through the CLI, order independence, and the SQL against the reference rule in wirecopy.cleaning.learned."""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner
from wirecopy.flows.ingest import ingest
from wirecopy.warehouse.boilerplate import record_decision, refresh_boilerplate, text_hash_of
from wirecopy.warehouse.commit import Batch, commit_batch

from tests.linkcheck import dedup_state
from wirecopy.cleaning.learned import (
    BoilerplateSettings,
    Occurrence,
    article_key,
    body_hash,
    learn,
    max_in_window,
)
from wirecopy.cli_boilerplate import app as boilerplate_cli
from wirecopy.dedup.settings import DedupSettings
from wirecopy.models import ContentType, RawDocument, content_hash
from wirecopy.transform import clean_document

FOOTER = "Readers can send corrections and tips to the news desk by writing to the address printed below this story."
WIRE = "The ministry said on Tuesday that the talks would resume in Cairo next week after a pause of two months."
GAMMA_NOTE = "Gamma Weekly is printed on recycled paper; subscriptions renew every January."
DAY0 = datetime(2024, 1, 1, 9, tzinfo=UTC)


VOCABULARY = str.split(
    "bridge river council harbour ferry market school railway budget mayor storm harvest museum clinic "
    "tunnel airport festival library stadium factory village border court bank port canal theatre union "
    "farmers nurses drivers teachers miners pilots students judges voters workers engineers fishermen"
)


def body(outlet: str, n: int) -> str:
    """A body paragraph no other (outlet, n) shares a word trigram with, in practice."""
    words = random.Random(f"{outlet}/{n}").choices(VOCABULARY, k=24)
    return f"{outlet.title()} report {n}: " + " ".join(words) + "."


def raw(outlet: str, n: int, extra: list[str], day: int, url: str | None = None) -> RawDocument:
    content = "\n\n".join([body(outlet, n), *extra])
    return RawDocument(
        source_uri=f"mem://{outlet}/{n}",
        outlet=outlet,
        content=content,
        content_type=ContentType.TEXT,
        content_hash=content_hash(content),
        published_at=DAY0 + timedelta(days=day),
        url=url,
    )


def store(db: Path, raws: list[RawDocument], settings: BoilerplateSettings | None = None):
    documents = [(r, clean_document(r)) for r in raws]
    commit_batch(db, Batch(run_id=uuid.uuid4().hex, documents=documents), DedupSettings())
    return refresh_boilerplate(db, settings or BoilerplateSettings())


def rows(db: Path, query: str, *params) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(query, list(params)).fetchall()


def footer_rows(db: Path) -> list[tuple]:
    return rows(
        db,
        "SELECT outlet, canonical_id, cluster_id, method, similarity, paragraph_id FROM paragraph_dedup "
        "WHERE text = ? ORDER BY outlet, doc_id",
        FOOTER,
    )


def test_footer_in_three_articles_of_one_outlet_is_left_out(prefect_harness, tmp_path: Path) -> None:
    records = [
        {"outlet": "alpha", "url": f"https://alpha.example/{n}", "published_at": f"2024-01-0{n + 1}T09:00:00Z",
         "text": f"{body('alpha', n)}\n\n{FOOTER}"}
        for n in range(3)
    ]  # fmt: skip
    path = tmp_path / "alpha.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    db = tmp_path / "warehouse.duckdb"
    assert ingest(sources=[str(path)], db=str(db)).documents_new == 3

    assert rows(db, "SELECT outlet, text_hash, sample_text, doc_count, window_count FROM outlet_boilerplate") == [
        ("alpha", text_hash_of(FOOTER), FOOTER, 3, 3)
    ]
    assert footer_rows(db) == []
    assert rows(db, "SELECT count(*) FROM paragraph_dedup WHERE outlet = 'alpha'") == [(3,)]
    assert rows(db, "SELECT count(*) FROM clean_corpus WHERE text = ?", FOOTER) == [(0,)]
    excluded = rows(db, "SELECT outlet, source, reason FROM boilerplate_paragraphs")
    assert len(excluded) == 3
    assert {(o, s) for o, s, _ in excluded} == {("alpha", "learned")}
    assert "in 3 articles of this outlet within 90 days (threshold 3)" in excluded[0][2]
    assert rows(db, "SELECT count(*) FROM paragraphs WHERE text = ?", FOOTER) == [(3,)], "paragraphs stay stored"


def test_same_paragraph_in_three_outlets_is_syndication_not_boilerplate(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    store(db, [raw(outlet, 1, [WIRE], day) for day, outlet in enumerate(("beta", "gamma", "delta"))])
    assert rows(db, "SELECT count(*) FROM outlet_boilerplate") == [(0,)]
    wire = rows(db, "SELECT outlet, method FROM paragraph_dedup WHERE text = ? ORDER BY outlet", WIRE)
    assert wire == [("beta", None), ("delta", "exact"), ("gamma", "exact")]
    assert rows(db, "SELECT first_outlet, outlets FROM syndication WHERE outlet_count = 3") == [
        ("beta", ["beta", "delta", "gamma"])
    ]


def test_threshold_window_and_article_versions(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    spread = [raw("alpha", n, [FOOTER], day) for n, day in enumerate((0, 70, 150))]  # no 3 within 90 days
    versions = [raw("beta", n, [WIRE], n, url="https://beta.example/one-story") for n in range(4)]
    two = [raw("gamma", n, [GAMMA_NOTE], n) for n in range(2)]
    assert store(db, spread + versions + two).learned == 0
    wide = store(db, [], BoilerplateSettings(window_days=151))
    assert (wide.learned, wide.added) == (1, 1)
    assert rows(db, "SELECT outlet, window_count, doc_count, window_days FROM outlet_boilerplate") == [
        ("alpha", 3, 3, 151)
    ]
    assert store(db, [], BoilerplateSettings(min_docs=2)).learned == 2  # days 0 and 70 suffice now; beta still not
    assert rows(db, "SELECT outlet FROM outlet_boilerplate ORDER BY 1") == [("alpha",), ("gamma",)]


def test_boilerplate_of_one_outlet_copied_by_another_is_syndication(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    assert store(db, [raw("alpha", n, [FOOTER], n) for n in range(3)]).learned == 1
    assert store(db, [raw("beta", 1, [FOOTER], 20)]).removed == 1  # now in two outlets: content again
    assert [r[0] for r in footer_rows(db)] == ["alpha"] * 3 + ["beta"]
    assert rows(db, "SELECT outlet FROM clean_corpus WHERE text = ?", FOOTER) == [("alpha",)]


def test_head_is_reelected_when_the_canonical_paragraph_is_dropped(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    alpha = [raw("alpha", n, [FOOTER], n) for n in range(3)]  # earliest: alpha's copy leads the cluster
    store(db, [*alpha, raw("beta", 1, [FOOTER], 10), raw("gamma", 1, [FOOTER], 11)])
    assert len(footer_rows(db)) == 5
    record_decision(db, "alpha", text_hash_of(FOOTER), "boilerplate", note="alpha's footer")
    (beta_row, gamma_row) = footer_rows(db)
    assert beta_row[0] == "beta" and beta_row[1] == beta_row[5] and beta_row[3] is None
    assert gamma_row[0] == "gamma" and gamma_row[1] == beta_row[5]
    assert (gamma_row[3], gamma_row[4]) == ("exact", 1.0) and gamma_row[2] == beta_row[2] is not None
    assert rows(db, "SELECT outlet FROM clean_corpus WHERE text = ?", FOOTER) == [("beta",)]
    assert rows(db, "SELECT first_outlet, outlets FROM syndication WHERE list_contains(outlets, 'gamma')") == [
        ("beta", ["beta", "gamma"])
    ]
    record_decision(db, "gamma", text_hash_of(FOOTER), "boilerplate")
    (beta_row,) = footer_rows(db)
    assert beta_row[1] == beta_row[5] and beta_row[2:5] == (None, None, None), "a lone copy is no cluster"


def invoke(*args: str) -> str:
    result = CliRunner().invoke(boilerplate_cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_overrides_through_the_cli_are_reversible_and_audited(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    store(db, [raw("alpha", n, [FOOTER, WIRE if n == 0 else f"Closing line {n} of alpha."], n) for n in range(3)])
    assert footer_rows(db) == []
    listed = json.loads(invoke("list", "--db", str(db), "--format", "json"))
    assert [(r["outlet"], r["text_hash"], r["excluded"], r["source"]) for r in listed] == [
        ("alpha", text_hash_of(FOOTER), True, "learned")
    ]

    assert "kept as content" in invoke("keep", "alpha", "--hash", str(text_hash_of(FOOTER)), "--db", str(db))
    restored = footer_rows(db)
    assert len(restored) == 3 and [r[3] for r in restored].count("exact") == 2
    assert rows(db, "SELECT count(*) FROM clean_corpus WHERE text = ?", FOOTER) == [(1,)]
    assert rows(db, "SELECT count(*) FROM boilerplate_paragraphs") == [(0,)]

    invoke("reset", "--text", FOOTER, "alpha", "--db", str(db))
    assert footer_rows(db) == []
    wire_paragraph = rows(db, "SELECT paragraph_id FROM paragraphs WHERE text = ?", WIRE)[0][0]
    invoke("drop", "--paragraph", wire_paragraph, "--note", "agency credit", "--db", str(db))
    assert rows(db, "SELECT source, reason FROM boilerplate_paragraphs WHERE text = ?", WIRE) == [
        ("override", "dropped by hand: agency credit")
    ]
    history = json.loads(invoke("history", "--db", str(db), "--format", "json"))
    assert [h["decision"] for h in history] == ["content", "learned", "boilerplate"]
    assert history[2]["sample_text"] == WIRE

    bad = CliRunner().invoke(boilerplate_cli, ["keep", "beta", "--text", FOOTER, "--db", str(db)])
    assert bad.exit_code == 1 and "no paragraph of outlet 'beta'" in bad.output
    again = CliRunner().invoke(boilerplate_cli, ["reset", "alpha", "--text", FOOTER, "--db", str(db)])
    assert again.exit_code == 1 and "has no override to withdraw" in again.output  # reset twice: nothing to undo
    history = json.loads(invoke("history", "--db", str(db), "--format", "json"))
    assert [h["decision"] for h in history] == ["content", "learned", "boilerplate"]


def corpus() -> list[RawDocument]:
    docs = [raw("alpha", n, [FOOTER], n) for n in range(4)]
    docs += [raw("beta", 1, [WIRE], 10), raw("gamma", 1, [WIRE], 11), raw("gamma", 2, [WIRE], 12)]
    docs += [raw("delta", n, [f"Closing line {n % 2} of delta."], 3 * n) for n in range(6)]
    docs += [raw("epsilon", 1, ["Closing line 1 of delta."], 30)]  # vetoes delta's line 1 when it arrives
    return docs


def snapshot(db: Path) -> tuple:
    learned = rows(db, "SELECT * FROM outlet_boilerplate ORDER BY outlet, text_hash")
    excluded = rows(db, "SELECT paragraph_id FROM boilerplate_paragraphs ORDER BY 1")
    corpus_rows = rows(db, "SELECT paragraph_id FROM clean_corpus ORDER BY 1")
    return learned, excluded, corpus_rows, dedup_state(db)


def test_result_does_not_depend_on_order_or_batching(tmp_path: Path) -> None:
    docs = corpus()
    one = tmp_path / "one.duckdb"
    store(one, docs)
    expected = snapshot(one)
    assert [r[0] for r in expected[0]] == ["alpha", "delta"]  # footer, closing line 0
    assert len(expected[1]) == 4 + 3
    shuffled = docs[::-1]
    random.Random(7).shuffle(shuffled)
    for name, batches in (("reversed", [docs[::-1][i : i + 3] for i in range(0, len(docs), 3)]),
                          ("singles", [[d] for d in shuffled])):  # fmt: skip
        db = tmp_path / f"{name}.duckdb"
        for batch in batches:
            store(db, batch)
        assert snapshot(db) == expected, name


OCCURRENCES = """
SELECT d.outlet, p.text_hash, p.doc_id, d.canonical_url, d.published_at,
       coalesce(l.cluster_id, h.cluster_id, 'text:' || p.text_hash), p.position
FROM paragraphs p JOIN documents d USING (doc_id)
LEFT JOIN duplicate_links l ON l.paragraph_id = p.paragraph_id
LEFT JOIN (SELECT DISTINCT canonical_id, cluster_id FROM duplicate_links) h ON h.canonical_id = p.paragraph_id
"""


def test_sql_matches_the_reference_rule(tmp_path: Path) -> None:
    rng = random.Random(11)
    outlets = ("alpha", "beta", "gamma")
    own = {o: [" ".join(f"{o}{i}w{k}" for k in range(9)) for i in range(4)] for o in outlets}  # nothing in common
    shared = [f"Shared wire line {i} that several outlets carry word for word today." for i in range(3)]
    docs = []
    for n in range(80):
        outlet = rng.choice(outlets)
        url = rng.choice([None, None, f"https://{outlet}.example/story-{n % 7}"])
        extra = rng.sample(own[outlet], rng.randint(0, 2)) + rng.sample(shared, rng.randint(0, 1))
        docs.append(raw(outlet, n, extra, rng.randint(0, 200), url=url))
    settings = BoilerplateSettings(min_docs=3, window_days=30)
    db = tmp_path / "w.duckdb"
    store(db, docs, settings)
    found = rows(db, OCCURRENCES)
    bodies = {doc: body_hash(h for d, _, h in sorted((r[2], r[6], r[1]) for r in found) if d == doc) for doc in
              {r[2] for r in found}}  # fmt: skip
    occurrences = [
        Occurrence(outlet, text_hash, doc_id, article_key(url, bodies[doc_id]), published_at, cluster)
        for outlet, text_hash, doc_id, url, published_at, cluster, _ in found
    ]
    expected = learn(occurrences, settings)
    stored = rows(
        db, "SELECT outlet, text_hash, doc_count, window_count, first_seen, last_seen FROM outlet_boilerplate"
    )
    assert len(expected) >= 3
    assert not {key for key in expected if key[1] in {text_hash_of(line) for line in shared}}
    assert {(r[0], r[1]): r[2:] for r in stored} == {
        key: (t.doc_count, t.window_count, t.first_seen, t.last_seen) for key, t in expected.items()
    }


def test_window_counting_and_boilerplate_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from wirecopy.config import ConfigError, load_settings

    days = [DAY0 + timedelta(days=d) for d in (0, 10, 40, 41, 100)]
    assert max_in_window(days, timedelta(days=31)) == 3  # 10, 40, 41
    assert max_in_window(days, timedelta(days=30)) == 2
    assert load_settings().boilerplate == BoilerplateSettings(min_docs=3, window_days=90)
    monkeypatch.setenv("WIRECOPY_BOILERPLATE__MIN_DOCS", "5")
    monkeypatch.setenv("WIRECOPY_BOILERPLATE__WINDOW_DAYS", "30")
    assert load_settings().boilerplate == BoilerplateSettings(min_docs=5, window_days=30)
    monkeypatch.setenv("WIRECOPY_BOILERPLATE__MIN_DOCS", "1")
    with pytest.raises(ConfigError, match=r"boilerplate\.min_docs"):
        load_settings()


def test_refreshing_the_touched_texts_equals_a_full_recomputation(tmp_path: Path) -> None:
    """Runs that make one outlet's repeated line syndicated (other outlets copy it with an attribution added),
    add occurrences in and out of the window, and re-link clusters: after each, the incremental refresh leaves
    `outlet_boilerplate` equal to a full recomputation of the same warehouse."""
    import shutil

    rng = random.Random(5)
    outlets = ("alpha", "beta", "gamma")
    own = {o: [f"{o.title()} desk line {i}: " + body(o, 100 + i) for i in range(3)] for o in outlets}
    copied = own["alpha"][0]
    edited = copied.rstrip(".") + ", Reuters reported."  # alpha's line as other outlets copy it: another text
    settings = BoilerplateSettings(min_docs=3, window_days=30)
    db, reference = tmp_path / "w.duckdb", tmp_path / "full.duckdb"
    learned_counts, alpha_line_learned = [], []
    alpha_line = "SELECT 1 FROM outlet_boilerplate WHERE outlet = 'alpha' AND text_hash = ?"
    for run in range(12):
        docs = []
        for k in range(5):
            n = run * 5 + k
            outlet = rng.choice(outlets)
            extra = rng.sample(own[outlet], rng.randint(0, 2))
            if run >= 6 and outlet != "alpha" and rng.random() < 0.3:
                extra.append(edited)
            docs.append(raw(outlet, n, extra, rng.randint(0, 40)))
        store(db, docs, settings)
        shutil.copy(db, reference)
        shutil.rmtree(reference.with_name(reference.name + ".lsh"), ignore_errors=True)
        refresh_boilerplate(reference, settings, full=True)
        query = "SELECT * FROM outlet_boilerplate ORDER BY outlet, text_hash"
        assert rows(db, query) == rows(reference, query), run
        assert rows(db, "SELECT count(*) FROM boilerplate_pending") == [(0,)]
        learned_counts.append(len(rows(db, query)))
        alpha_line_learned.append(bool(rows(db, alpha_line, text_hash_of(copied))))
    assert max(learned_counts) >= 3
    # learned, then left out once other outlets copied it
    assert alpha_line_learned[5] and not alpha_line_learned[-1], alpha_line_learned


def test_one_text_saved_three_ways_is_one_article_not_boilerplate(
    prefect_harness, tmp_path: Path, seeds_dir: Path
) -> None:
    """The same article saved as is, with CRLF line endings and with a trailing blank line: three documents (other
    bytes), one body, so its paragraphs recur in one article of the outlet, not three."""
    text = sorted(seeds_dir.iterdir())[0].read_text(encoding="utf-8")
    folder = tmp_path / "in" / "gazette"
    folder.mkdir(parents=True)
    (folder / "story.txt").write_text(text, encoding="utf-8")
    (folder / "story-crlf.txt").write_bytes(text.replace("\n", "\r\n").encode("utf-8"))
    (folder / "story-again.txt").write_text(text + "\n\n", encoding="utf-8")
    db = tmp_path / "w.duckdb"
    assert ingest(sources=[str(tmp_path / "in")], db=str(db)).documents_new == 3
    assert rows(db, "SELECT count(*) FROM outlet_boilerplate") == [(0,)]
    paragraphs = rows(db, "SELECT count(*) FROM paragraphs WHERE doc_id = (SELECT min(doc_id) FROM documents)")[0][0]
    assert paragraphs > 3 and rows(db, "SELECT count(*) FROM clean_corpus") == [(paragraphs,)]
    assert rows(db, "SELECT count(DISTINCT body_hash) FROM documents") == [(1,)]
    in_sql = rows(db, "SELECT doc_id, md5(string_agg(CAST(text_hash AS VARCHAR), ',' ORDER BY position)) "
                      "FROM paragraphs GROUP BY doc_id ORDER BY doc_id")  # fmt: skip
    assert in_sql == rows(db, "SELECT doc_id, body_hash FROM documents ORDER BY doc_id")  # migration 012's formula
