"""Every SQL statement the Python code runs, in one place. Schema DDL lives in warehouse/migrations/*.sql.

Statements that take a list read it from a registered Arrow table named `ids` (column `id`, distinct values).
They are written as inner joins against `ids`, not `IN (SELECT …)`: DuckDB then filters the scan with the
join keys and reads the wide columns only for matching rows (0.08 s instead of 0.5 s on a 1M-row table).
"""

KNOWN_DOCUMENTS = "SELECT r.doc_id FROM ids JOIN raw_documents r ON r.doc_id = ids.id"

# every stored document's id, and its source key (wirecopy.models.source_key: the same bytes from the same place),
# and the keys of the other places it was read from (migration 014)
STORED_DOCUMENT_IDS = """
SELECT unhex(doc_id) AS id, unhex(md5(source_uri || chr(31) || content_hash)) AS source_key FROM raw_documents
UNION ALL SELECT unhex(doc_id), unhex(source_key) FROM document_sources
"""

# the same, for a warehouse read before migration 014 (no document_sources yet)
STORED_DOCUMENT_IDS_BEFORE_014 = """
SELECT unhex(doc_id) AS id, unhex(md5(source_uri || chr(31) || content_hash)) AS source_key FROM raw_documents
"""

KNOWN_CLEAN_DOCUMENTS = "SELECT d.doc_id FROM ids JOIN documents d ON d.doc_id = ids.id"

KNOWN_TEXTS = "SELECT t.text_hash FROM ids JOIN dedup_texts t ON t.text_hash = ids.id"

# Texts with a signature are exactly those with shingle_count > 0 (the engine sets both, for texts of at least
# min_tokens tokens); the integer column is far cheaper to scan than the list's validity (6 ms vs 100 ms at 1M).
SIGNED_TEXTS = "SELECT count(*), coalesce(bit_xor(text_hash), 0) FROM dedup_texts WHERE shingle_count > 0"

STORED_SKETCHES = "SELECT text_hash, normalized, shingle_count, signature FROM dedup_texts WHERE shingle_count > 0"

SAMPLE_SKETCHES = """
SELECT normalized, signature FROM dedup_texts WHERE shingle_count > 0 ORDER BY text_hash LIMIT $limit
"""


EDGES_TOUCHING = """
SELECT e.text_a, e.text_b, e.method, e.similarity, e.jaccard, e.containment
FROM ids JOIN dedup_edges e ON e.text_a = ids.id
UNION
SELECT e.text_a, e.text_b, e.method, e.similarity, e.jaccard, e.containment
FROM ids JOIN dedup_edges e ON e.text_b = ids.id
"""

CONFLICTS_AMONG = """
SELECT c.text_a, c.text_b
FROM dedup_conflicts c
JOIN ids a ON a.id = c.text_a
JOIN ids b ON b.id = c.text_b
"""

PARAGRAPHS_OF_TEXTS = """
SELECT p.paragraph_id, p.text_hash, epoch_us(d.published_at), epoch_us(d.fetched_at), p.doc_id, p.position
FROM ids JOIN paragraphs p ON p.text_hash = ids.id JOIN documents d ON d.doc_id = p.doc_id
"""

COMMITS_SINCE_MERGE = "SELECT commits_since FROM row_group_merges"

RECORD_COMMIT = "UPDATE row_group_merges SET commits_since = CASE WHEN $merged THEN 0 ELSE commits_since + 1 END"

DELETE_LINKS = "DELETE FROM duplicate_links USING ids WHERE duplicate_links.paragraph_id = ids.id"

# Bulk inserts from a registered Arrow table named `batch` whose columns match the target table.
INSERT_IGNORE = "INSERT OR IGNORE INTO {table} BY NAME SELECT * FROM batch"
INSERT = "INSERT INTO {table} BY NAME SELECT * FROM batch"

INSERT_RUN = "INSERT OR REPLACE INTO ingest_runs BY NAME SELECT * FROM batch"
RUNNING_RUNS = "SELECT run_id FROM ingest_runs WHERE status = 'running'"

COUNTED_TABLES = (
    "raw_documents", "document_sources", "documents", "paragraphs", "removed_segments", "duplicate_links",
    "dedup_texts", "dedup_edges", "dedup_conflicts", "ingest_errors", "run_errors", "ingest_runs", "outlet_boilerplate",
    "boilerplate_overrides",
)  # fmt: skip
"""The tables `wirecopy stats` counts, those a warehouse has (an older one lacks later migrations' until an ingest)."""

PRESENT_TABLES = "SELECT table_name FROM duckdb_tables()"
# a warehouse published by an older wirecopy lacks later migrations' tables until the next ingest applies them (a
# read-only connection cannot): readers take what it has
PRESENT_RELATIONS = PRESENT_TABLES + " UNION ALL SELECT view_name FROM duckdb_views()"

TABLE_COUNT = 'SELECT count(*) FROM "{table}"'

LINKS_BY_METHOD = """
SELECT m.method, count(l.method) FROM (VALUES ('containment'), ('exact'), ('near')) m(method)
LEFT JOIN duplicate_links l USING (method) GROUP BY m.method ORDER BY m.method
"""  # every method, 0 when none (as a run summary's `duplicates`)

# one run's row as a run summary has it, and the failures it met (`<source_uri>: <stage>: <reason>`)
RUN_OUTCOME = """
SELECT status, inputs, documents_new, documents_seen, paragraphs_new, exact_links, near_links, containment_links,
       boilerplate_removed, errors, feed_entries_deferred, seconds, stage_seconds
FROM ingest_runs WHERE run_id = $run_id
"""
RUN_ERROR_MESSAGES = """
SELECT e.source_uri || ': ' || e.stage || ': ' || e.reason FROM run_errors r JOIN ingest_errors e USING (error_id)
WHERE r.run_id = $run_id ORDER BY e.source_uri, e.stage
"""

# `kind` through the row as JSON: a warehouse published before migration 009 has no such column (reprocess: 009)
RECENT_RUNS = """
SELECT run_id, started_at, coalesce(to_json(r) ->> 'kind', 'ingest') AS kind, status, inputs, documents_new,
       paragraphs_new, exact_links + near_links + containment_links AS links, errors, round(seconds, 2) AS seconds,
       to_json(r) ->> 'error' AS error  -- migration 013
FROM ingest_runs r ORDER BY started_at DESC LIMIT $limit
"""

# Reprocess: the new warehouse file is attached as `fresh`; kept tables are copied, derived ones rebuilt.
ATTACH_FRESH = "ATTACH '{path}' AS fresh"  # path quoted by the caller: ATTACH takes no parameters
COPY_TO_FRESH = "INSERT INTO fresh.{table} SELECT * FROM main.{table}"
DETACH_FRESH = "DETACH fresh"
RAW_DOCUMENTS_PAGE = """
SELECT doc_id, source_uri, outlet, content, content_type, content_hash, fetched_at, title, published_at, url,
    entry_title, entry_published_at
FROM raw_documents WHERE doc_id > $after ORDER BY doc_id LIMIT $limit
"""

# --- learned per-outlet boilerplate (warehouse/boilerplate.py; rule in wirecopy/cleaning/learned.py) ---
# Hours, not days: day arithmetic on TIMESTAMPTZ follows the session time zone's DST changes.
# Each paragraph's occurrence (outlet, article, date, cluster) and the clusters found in several outlets, from
# `{paragraphs}` with their `{documents}`, links (`{links}`) and cluster heads (`{heads}`): every paragraph,
# or those of the pending texts.
_OCCURRENCES = """
everywhere AS (
    SELECT d.outlet, p.text_hash, p.doc_id, p.position,  -- no text: this CTE is materialised, texts are large
           coalesce(d.canonical_url, d.body_hash, d.doc_id) AS article,  -- the same body saved twice: one article
           coalesce(d.published_at, d.fetched_at) AS seen_at,
           coalesce(l.cluster_id, h.cluster_id, 'text:' || p.text_hash) AS cluster
    FROM {paragraphs} p JOIN {documents} d USING (doc_id)
    LEFT JOIN {links} l ON l.paragraph_id = p.paragraph_id
    LEFT JOIN {heads} h ON h.canonical_id = p.paragraph_id
),
syndicated AS (
    SELECT cluster FROM everywhere GROUP BY cluster HAVING count(DISTINCT outlet) > 1
),
"""

_EVERY_OCCURRENCE = """
WITH cluster_heads AS (
    SELECT DISTINCT canonical_id, cluster_id FROM duplicate_links
),
""" + _OCCURRENCES.format(
    paragraphs="paragraphs", documents="documents", links="duplicate_links", heads="cluster_heads"
)

# For the pending texts only. A commit records as pending the texts of every paragraph it adds or re-links: the
# whole connected component around its texts (wirecopy.dedup.match: `relinked_texts`), so every member of a
# pending paragraph's cluster has a pending text too, and a cluster's syndication is decided over its members
# from these occurrences alone (tests/test_learned_boilerplate.py checks the result against a full
# recomputation after every run). No scan of every link (cluster heads) or every paragraph twice: at a million
# paragraphs 0.15 s instead of 0.18–0.28 s (one thread, a fresh connection, 10,000 pending texts).
_PENDING_OCCURRENCES = """
WITH pending AS (
    SELECT DISTINCT text_hash FROM boilerplate_pending
),
pending_paragraphs AS (
    SELECT paragraph_id, text_hash, doc_id, position FROM paragraphs SEMI JOIN pending USING (text_hash)
),
pending_links AS (  -- IN, not a join on the whole table: the hash table is built on the few pending rows
    SELECT paragraph_id, cluster_id FROM duplicate_links
    WHERE paragraph_id IN (SELECT paragraph_id FROM pending_paragraphs)
),
pending_heads AS (
    SELECT DISTINCT canonical_id, cluster_id FROM duplicate_links
    WHERE canonical_id IN (SELECT paragraph_id FROM pending_paragraphs)
),
pending_documents AS (
    SELECT doc_id, outlet, canonical_url, body_hash, published_at, fetched_at FROM documents
    WHERE doc_id IN (SELECT doc_id FROM pending_paragraphs)
),
""" + _OCCURRENCES.format(
    paragraphs="pending_paragraphs", documents="pending_documents", links="pending_links", heads="pending_heads"
)

_LEARN_FROM_OCCURRENCES = """
occurrences AS (
    SELECT * FROM everywhere
    WHERE seen_at IS NOT NULL AND cluster NOT IN (SELECT cluster FROM syndicated)
),
candidates AS (
    SELECT outlet, text_hash FROM occurrences
    GROUP BY outlet, text_hash HAVING count(DISTINCT article) >= $min_docs
),
articles AS (
    SELECT outlet, text_hash, article, min(seen_at) AS seen_at
    FROM occurrences SEMI JOIN candidates USING (outlet, text_hash)
    GROUP BY outlet, text_hash, article
),
windows AS (
    SELECT outlet, text_hash, seen_at,
           count(*) OVER (PARTITION BY outlet, text_hash ORDER BY seen_at
                          RANGE BETWEEN to_hours(24 * CAST($window_days AS BIGINT)) PRECEDING AND CURRENT ROW)
               AS in_window
    FROM articles
),
learned AS (
    SELECT outlet, text_hash, max(in_window) AS window_count
    FROM windows GROUP BY outlet, text_hash HAVING max(in_window) >= $min_docs
),
summary AS (
    SELECT o.outlet, o.text_hash,
           first(o.doc_id ORDER BY o.seen_at, o.doc_id, o.position) AS sample_doc,
           first(o.position ORDER BY o.seen_at, o.doc_id, o.position) AS sample_position,
           CAST(count(DISTINCT o.doc_id) AS INTEGER) AS doc_count,
           CAST(any_value(l.window_count) AS INTEGER) AS window_count,
           min(o.seen_at) AS first_seen, max(o.seen_at) AS last_seen
    FROM occurrences o JOIN learned l USING (outlet, text_hash)
    GROUP BY o.outlet, o.text_hash
)
SELECT s.outlet, s.text_hash, p.text AS sample_text, s.doc_count, s.window_count, s.first_seen, s.last_seen,
       CAST($min_docs AS INTEGER) AS min_docs, CAST($window_days AS INTEGER) AS window_days
FROM summary s JOIN paragraphs p ON p.doc_id = s.sample_doc AND p.position = s.sample_position
"""

# Learned boilerplate recomputed from every paragraph, and for the pending texts only (same rows for those).
LEARN_BOILERPLATE = _EVERY_OCCURRENCE + _LEARN_FROM_OCCURRENCES
LEARN_PENDING_BOILERPLATE = _PENDING_OCCURRENCES + _LEARN_FROM_OCCURRENCES

RECORD_PENDING_TEXTS = (
    "INSERT INTO boilerplate_pending SELECT id FROM ids ANTI JOIN boilerplate_pending ON text_hash = id"
)

REPLACE_PENDING_BOILERPLATE = """
DELETE FROM outlet_boilerplate WHERE text_hash IN (SELECT text_hash FROM boilerplate_pending);
INSERT INTO outlet_boilerplate BY NAME SELECT * FROM learned_now;
"""

CLEAR_PENDING_TEXTS = "DELETE FROM boilerplate_pending"

LEARNING_SETTINGS = "SELECT min_docs, window_days FROM boilerplate_learning"

RECORD_LEARNING_SETTINGS = """
DELETE FROM boilerplate_learning;
INSERT INTO boilerplate_learning VALUES ($min_docs, $window_days, $now);
"""

# Differences between the freshly learned rows (temp table `learned_now`) and the stored rows they replace (all of
# `outlet_boilerplate`, or the pending texts' rows), and the number of rows stored before.
_BOILERPLATE_DIFF = """
WITH stored AS ({stored})
SELECT
    (SELECT count(*) FROM learned_now n ANTI JOIN stored b USING (outlet, text_hash)) AS added,
    (SELECT count(*) FROM stored b ANTI JOIN learned_now n USING (outlet, text_hash)) AS removed,
    (SELECT count(*) FROM (SELECT * FROM learned_now EXCEPT SELECT * FROM stored)) AS differing,
    (SELECT count(*) FROM outlet_boilerplate) AS stored_before
"""
BOILERPLATE_DIFF = _BOILERPLATE_DIFF.format(stored="SELECT * FROM outlet_boilerplate")
PENDING_DIFF = _BOILERPLATE_DIFF.format(
    stored="SELECT * FROM outlet_boilerplate SEMI JOIN boilerplate_pending USING (text_hash)"
)

REPLACE_LEARNED_BOILERPLATE = """
DELETE FROM outlet_boilerplate;
INSERT INTO outlet_boilerplate BY NAME SELECT * FROM learned_now;
"""

BOILERPLATE_STATUS = """
SELECT outlet, text_hash, excluded, source, learned, override, window_count, doc_count, first_seen, last_seen,
       reason, sample_text
FROM boilerplate_status
WHERE $outlet IS NULL OR outlet = $outlet
ORDER BY outlet, excluded DESC, window_count DESC NULLS LAST, text_hash
LIMIT $limit
"""

BOILERPLATE_HISTORY = """
SELECT decision_id, decided_at, outlet, text_hash, decision, note, sample_text
FROM boilerplate_overrides
WHERE $outlet IS NULL OR outlet = $outlet
ORDER BY decision_id
"""

# A sample of the text of (outlet, text_hash): learned row first, else the earliest stored paragraph.
BOILERPLATE_SAMPLE = """
SELECT text FROM (
    SELECT 0 AS rank, sample_text AS text FROM outlet_boilerplate WHERE outlet = $outlet AND text_hash = $text_hash
    UNION ALL
    SELECT 1, p.text FROM paragraphs p JOIN documents d USING (doc_id)
    WHERE d.outlet = $outlet AND p.text_hash = $text_hash
)
ORDER BY rank, text
LIMIT 1
"""

# the latest decision on a text of an outlet (None: never decided)
CURRENT_BOILERPLATE_DECISION = """
SELECT decision FROM boilerplate_overrides WHERE outlet = $outlet AND text_hash = $text_hash
ORDER BY decision_id DESC LIMIT 1
"""

# The id follows every stored one even where the sequence does not: a reprocess copies the decisions into a new
# file whose sequence starts again at 1 (and warehouses reprocessed before this have such a sequence).
INSERT_BOILERPLATE_DECISION = """
INSERT INTO boilerplate_overrides (decision_id, outlet, text_hash, decision, note, sample_text, decided_at)
VALUES (
    greatest(
        nextval('boilerplate_decision_seq'), (SELECT coalesce(max(decision_id), 0) + 1 FROM boilerplate_overrides)
    ),
    $outlet, $text_hash, $decision, $note, $sample_text, $decided_at
)
RETURNING decision_id
"""

# Article links already stored (feed entries are not fetched again); ids = the links.
STORED_LINKS = """
SELECT r.url AS link FROM ids JOIN raw_documents r ON r.url = ids.id
UNION
SELECT r.source_uri FROM ids JOIN raw_documents r ON r.source_uri = ids.id
"""

PARAGRAPH_TEXT_KEY = """
SELECT d.outlet, p.text_hash FROM paragraphs p JOIN documents d USING (doc_id) WHERE p.paragraph_id = $paragraph_id
"""

# --- Python API (wirecopy/api.py) and CLI progress ---
RAW_DOCUMENT_COUNT = "SELECT count(*) FROM raw_documents"

# the settings of the latest run that stored paragraphs (a failed run, or one that stored nothing, sketched nothing)
LATEST_DEDUP_SETTINGS = """
SELECT settings->'dedup' FROM ingest_runs
WHERE settings IS NOT NULL AND status = 'completed' AND paragraphs_new > 0
ORDER BY started_at DESC LIMIT 1
"""

PARAGRAPH_SIGNATURES = """
SELECT p.paragraph_id, t.signature
FROM (SELECT unnest($ids) AS paragraph_id) ids
JOIN paragraphs p USING (paragraph_id)
JOIN dedup_texts t ON t.text_hash = p.text_hash
"""
