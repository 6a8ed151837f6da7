-- The syndication report's aggregates (wirecopy/reports/data.py), run on a read-only connection.
-- Statements are separated by `-- name: <name>` lines. Parameters: $since, $until (TIMESTAMPTZ or NULL: the
-- window applies to each paragraph's publication time, published_at else fetched_at) and $outlets (VARCHAR[]
-- or NULL: copies made or suffered by these outlets). Temporary tables: `report_paragraphs` (the public view
-- `paragraph_dedup` evaluated once, ids and times only) and `report_members` (every clustered paragraph in
-- the window with its cluster's first publisher and its lag behind it). A cluster's head counts wherever it
-- falls: a copy in the window or of the outlets asked for links its copier to its first publisher, so a
-- cluster is syndicated when one of its members there is of another outlet than the head's, and the top
-- clusters show their head beside those members.

-- name: unknown_outlets
-- The outlets asked for ($outlets) that no stored document has.
SELECT asked.outlet
FROM (SELECT unnest($outlets) AS outlet) asked
WHERE asked.outlet NOT IN (SELECT DISTINCT outlet FROM documents WHERE outlet IS NOT NULL)
ORDER BY asked.outlet;

-- name: known_outlets
SELECT DISTINCT outlet FROM documents WHERE outlet IS NOT NULL ORDER BY outlet LIMIT 20;

-- name: paragraphs
CREATE OR REPLACE TEMP TABLE report_paragraphs AS
SELECT pd.cluster_id, pd.outlet, pd.paragraph_id, pd.canonical_id, pd.doc_id,
       coalesce(d.published_at, d.fetched_at) AS seen_at
FROM paragraph_dedup pd JOIN documents d USING (doc_id);

-- name: members
CREATE OR REPLACE TEMP TABLE report_members AS
WITH heads AS (
    SELECT canonical_id, outlet AS first_outlet, seen_at AS first_seen
    FROM report_paragraphs WHERE cluster_id IS NOT NULL AND paragraph_id = canonical_id
)
SELECT c.cluster_id, c.outlet, c.paragraph_id, c.canonical_id, c.doc_id, c.paragraph_id = c.canonical_id AS is_head,
       h.first_outlet, c.seen_at, h.first_seen,
       CASE WHEN c.seen_at IS NOT NULL AND h.first_seen IS NOT NULL  -- greatest() would turn NULL into 0
            THEN greatest(epoch(c.seen_at) - epoch(h.first_seen), 0) END AS lag_seconds
FROM report_paragraphs c JOIN heads h USING (canonical_id)
WHERE c.cluster_id IS NOT NULL
  AND ($since IS NULL OR c.seen_at >= $since) AND ($until IS NULL OR c.seen_at < $until)
  AND ($outlets IS NULL OR list_contains($outlets, c.outlet) OR list_contains($outlets, h.first_outlet));

-- name: totals
WITH scoped AS (
    SELECT d.doc_id, d.outlet, coalesce(d.published_at, d.fetched_at) AS seen_at
    FROM documents d
    WHERE ($since IS NULL OR coalesce(d.published_at, d.fetched_at) >= $since)
      AND ($until IS NULL OR coalesce(d.published_at, d.fetched_at) < $until)
      AND ($outlets IS NULL OR list_contains($outlets, d.outlet))
)
SELECT
    (SELECT count(*) FROM scoped)                                                  AS documents,
    (SELECT count(*) FROM report_paragraphs p SEMI JOIN scoped USING (doc_id))    AS paragraphs,
    (SELECT count(DISTINCT outlet) FROM scoped)                                    AS outlets,
    (SELECT count(DISTINCT cluster_id) FROM report_members)                        AS clusters,
    (SELECT count(DISTINCT cluster_id) FROM report_members WHERE outlet <> first_outlet) AS syndicated_clusters,
    (SELECT count(*) FROM report_members WHERE NOT is_head AND outlet <> first_outlet) AS cross_outlet_copies,
    (SELECT min(seen_at) FROM scoped)                                              AS first_seen,
    (SELECT max(seen_at) FROM scoped)                                              AS last_seen;

-- name: matrix
SELECT first_outlet, outlet AS copier, count(*) AS paragraphs, count(DISTINCT cluster_id) AS clusters
FROM report_members
WHERE NOT is_head
GROUP BY first_outlet, outlet
ORDER BY paragraphs DESC, first_outlet, copier;

-- name: lags
SELECT first_outlet, outlet AS copier, count(*) AS copies,
       min(lag_seconds)                                  AS low,
       quantile_cont(lag_seconds, [0.25, 0.5, 0.75])     AS quartiles,
       quantile_cont(lag_seconds, 0.9)                   AS p90,
       max(lag_seconds)                                  AS high
FROM report_members
WHERE NOT is_head AND outlet <> first_outlet AND lag_seconds IS NOT NULL
GROUP BY first_outlet, outlet
ORDER BY copies DESC, first_outlet, copier
LIMIT $limit;

-- name: outlets
WITH published AS (
    SELECT outlet, count(DISTINCT doc_id) AS documents, count(*) AS paragraphs
    FROM report_paragraphs
    WHERE ($since IS NULL OR seen_at >= $since) AND ($until IS NULL OR seen_at < $until)
      AND ($outlets IS NULL OR list_contains($outlets, outlet))
    GROUP BY outlet
),
copies AS (
    SELECT outlet, first_outlet, cluster_id FROM report_members WHERE NOT is_head AND outlet <> first_outlet
),
copied_from AS (
    SELECT outlet, count(*) AS copied_from FROM copies GROUP BY outlet
),
copied_by AS (
    SELECT first_outlet AS outlet, count(*) AS copies_by_others, count(DISTINCT cluster_id) AS paragraphs_copied
    FROM copies GROUP BY first_outlet
),
sources AS (
    SELECT outlet, list({'outlet': first_outlet, 'paragraphs': n} ORDER BY n DESC, first_outlet)[1:3] AS top_sources
    FROM (SELECT outlet, first_outlet, count(*) AS n FROM copies GROUP BY outlet, first_outlet)
    GROUP BY outlet
)
SELECT p.outlet, p.documents, p.paragraphs,
       coalesce(f.copied_from, 0)       AS copied_from,
       coalesce(b.paragraphs_copied, 0) AS paragraphs_copied,
       coalesce(b.copies_by_others, 0)  AS copies_by_others,
       coalesce(s.top_sources, [])      AS top_sources
FROM published p
LEFT JOIN copied_from f USING (outlet)
LEFT JOIN copied_by b USING (outlet)
LEFT JOIN sources s USING (outlet)
ORDER BY p.paragraphs DESC, p.outlet
LIMIT $limit;

-- name: timeline
SELECT CAST(first_seen AS DATE) AS day, count(DISTINCT cluster_id) AS stories, count(*) AS copies
FROM report_members
WHERE NOT is_head AND outlet <> first_outlet AND first_seen IS NOT NULL
GROUP BY day
ORDER BY day;

-- name: top_clusters
CREATE OR REPLACE TEMP TABLE report_top AS
WITH outside AS (  -- heads the filter left out: one row per such cluster
    SELECT cluster_id, any_value(first_outlet) AS outlet, any_value(canonical_id) AS paragraph_id,
           min(first_seen) AS first_seen
    FROM report_members
    GROUP BY cluster_id HAVING NOT bool_or(is_head)
),
shown AS (  -- the members and their head, wherever it falls
    SELECT cluster_id, outlet, paragraph_id, first_seen FROM report_members
    UNION ALL
    SELECT cluster_id, outlet, paragraph_id, first_seen FROM outside
)
SELECT cluster_id, count(DISTINCT outlet) AS outlet_count, count(*) AS paragraphs, min(first_seen) AS first_seen
FROM shown
GROUP BY cluster_id
HAVING count(DISTINCT outlet) > 1
ORDER BY outlet_count DESC, paragraphs DESC, first_seen, cluster_id
LIMIT $limit;

-- name: cluster_texts
WITH outside AS (  -- heads of the top clusters that the filter left out
    SELECT canonical_id AS paragraph_id FROM report_members SEMI JOIN report_top USING (cluster_id)
    GROUP BY canonical_id HAVING NOT bool_or(is_head)
),
shown AS (  -- the members and their head, wherever it falls
    SELECT cluster_id, outlet, paragraph_id, doc_id, is_head, first_outlet, lag_seconds, seen_at FROM report_members
    UNION ALL
    SELECT h.cluster_id, h.outlet, h.paragraph_id, h.doc_id, true, h.outlet, 0, h.seen_at
    FROM report_paragraphs h SEMI JOIN outside USING (paragraph_id)
)
SELECT t.cluster_id, t.outlet_count, t.paragraphs, m.outlet, m.is_head, m.first_outlet, m.lag_seconds, m.seen_at,
       p.text, d.title, d.source_uri
FROM report_top t
JOIN shown m USING (cluster_id)
JOIN paragraphs p ON p.paragraph_id = m.paragraph_id
JOIN documents d ON d.doc_id = m.doc_id
QUALIFY row_number() OVER (PARTITION BY m.cluster_id, m.outlet ORDER BY m.is_head DESC, m.seen_at, m.paragraph_id) = 1
ORDER BY t.outlet_count DESC, t.paragraphs DESC, t.first_seen, t.cluster_id, m.is_head DESC, m.seen_at, m.outlet;

-- name: boilerplate
WITH scoped AS (
    SELECT doc_id, outlet FROM documents d
    WHERE ($since IS NULL OR coalesce(d.published_at, d.fetched_at) >= $since)
      AND ($until IS NULL OR coalesce(d.published_at, d.fetched_at) < $until)
      AND ($outlets IS NULL OR list_contains($outlets, d.outlet))
)
SELECT s.outlet, r.rule, count(*) AS segments
FROM removed_segments r JOIN scoped s USING (doc_id)
GROUP BY s.outlet, r.rule
UNION ALL
SELECT s.outlet, 'learned (' || b.source || ')', count(*)
FROM boilerplate_paragraphs b JOIN scoped s USING (doc_id)
GROUP BY s.outlet, b.source
ORDER BY segments DESC, outlet, rule;

-- name: runs
SELECT run_id, started_at, status, inputs, documents_new, paragraphs_new,
       exact_links + near_links + containment_links AS links, errors, seconds
FROM ingest_runs
ORDER BY started_at DESC
LIMIT $limit;
