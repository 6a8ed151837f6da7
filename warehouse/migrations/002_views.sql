-- 002: public views. Documented in docs/warehouse.md.

CREATE OR REPLACE VIEW paragraph_dedup AS
WITH cluster_heads AS (
    SELECT DISTINCT canonical_id, cluster_id FROM duplicate_links
)
SELECT
    d.source_uri,
    d.outlet,
    p.doc_id,
    p.position,
    p.text,
    p.paragraph_id,
    coalesce(l.canonical_id, p.paragraph_id)   AS canonical_id,
    coalesce(l.cluster_id, h.cluster_id)       AS cluster_id,
    l.method,
    l.similarity
FROM paragraphs p
JOIN documents d USING (doc_id)
LEFT JOIN duplicate_links l ON l.paragraph_id = p.paragraph_id
LEFT JOIN cluster_heads h ON h.canonical_id = p.paragraph_id;

CREATE OR REPLACE VIEW clean_corpus AS
SELECT d.doc_id, d.source_uri, d.outlet, d.title, d.published_at, d.language, p.position, p.text, p.paragraph_id
FROM paragraphs p
JOIN documents d USING (doc_id)
WHERE p.paragraph_id NOT IN (SELECT paragraph_id FROM duplicate_links);

CREATE OR REPLACE VIEW syndication AS
WITH members AS (
    SELECT pd.cluster_id, pd.outlet, pd.paragraph_id, pd.canonical_id,
           coalesce(d.published_at, d.fetched_at) AS seen_at
    FROM paragraph_dedup pd JOIN documents d USING (doc_id)
    WHERE pd.cluster_id IS NOT NULL
),
firsts AS (
    SELECT m.cluster_id, m.outlet AS first_outlet, m.seen_at AS first_seen_at
    FROM members m WHERE m.paragraph_id = m.canonical_id
)
SELECT
    m.cluster_id,
    f.first_outlet,
    f.first_seen_at,
    list(DISTINCT m.outlet ORDER BY m.outlet)                         AS outlets,
    count(*)                                                          AS paragraphs,
    count(DISTINCT m.outlet)                                          AS outlet_count,
    list({'outlet': m.outlet, 'lag': m.seen_at - f.first_seen_at} ORDER BY m.seen_at, m.outlet)
        FILTER (WHERE m.paragraph_id <> m.canonical_id)               AS copies
FROM members m JOIN firsts f USING (cluster_id)
GROUP BY m.cluster_id, f.first_outlet, f.first_seen_at;
