"""Every SQL statement the Python code runs, in one place. Schema DDL lives in warehouse/migrations/*.sql.

Statements that take a list read it from a registered Arrow table named `ids` (column `id`).
"""

KNOWN_DOCUMENTS = "SELECT doc_id FROM raw_documents WHERE doc_id IN (SELECT id FROM ids)"

KNOWN_TEXTS = "SELECT text_hash FROM dedup_texts WHERE text_hash IN (SELECT id FROM ids)"

BAND_MEMBERS = """
SELECT band_key, text_hash FROM dedup_bands
WHERE band_key IN (SELECT id FROM ids)
QUALIFY count(*) OVER (PARTITION BY band_key) <= $cap
"""

NORMALIZED_TEXTS = "SELECT text_hash, normalized FROM dedup_texts WHERE text_hash IN (SELECT id FROM ids)"

EDGES_TOUCHING = """
SELECT text_a, text_b, method, similarity, jaccard, containment FROM dedup_edges
WHERE text_a IN (SELECT id FROM ids) OR text_b IN (SELECT id FROM ids)
"""

PARAGRAPHS_OF_TEXTS = """
SELECT p.paragraph_id, p.text_hash, d.published_at, d.fetched_at, p.doc_id, p.position
FROM paragraphs p JOIN documents d USING (doc_id)
WHERE p.text_hash IN (SELECT id FROM ids)
"""

DELETE_LINKS = "DELETE FROM duplicate_links WHERE paragraph_id IN (SELECT id FROM ids)"

# Bulk inserts from a registered Arrow table named `batch` whose columns match the target table.
INSERT_IGNORE = "INSERT OR IGNORE INTO {table} BY NAME SELECT * FROM batch"
INSERT = "INSERT INTO {table} BY NAME SELECT * FROM batch"

INSERT_RUN = "INSERT OR REPLACE INTO ingest_runs BY NAME SELECT * FROM batch"

TABLE_COUNTS = """
SELECT 'raw_documents' AS table_name, count(*) AS row_count FROM raw_documents
UNION ALL SELECT 'documents', count(*) FROM documents
UNION ALL SELECT 'paragraphs', count(*) FROM paragraphs
UNION ALL SELECT 'removed_segments', count(*) FROM removed_segments
UNION ALL SELECT 'duplicate_links', count(*) FROM duplicate_links
UNION ALL SELECT 'dedup_texts', count(*) FROM dedup_texts
UNION ALL SELECT 'dedup_edges', count(*) FROM dedup_edges
UNION ALL SELECT 'ingest_errors', count(*) FROM ingest_errors
UNION ALL SELECT 'ingest_runs', count(*) FROM ingest_runs
"""

LINKS_BY_METHOD = "SELECT method, count(*) FROM duplicate_links GROUP BY method ORDER BY method"

RECENT_RUNS = """
SELECT run_id, started_at, status, inputs, documents_new, paragraphs_new,
       exact_links + near_links + containment_links AS links, errors, round(seconds, 2) AS seconds
FROM ingest_runs ORDER BY started_at DESC LIMIT $limit
"""
