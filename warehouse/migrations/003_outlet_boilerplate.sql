-- 003: learned per-outlet boilerplate. Paragraphs stay stored; the public views leave out every paragraph
-- whose (outlet, text_hash) is flagged, and re-elect a cluster head when the old one was left out.
-- Documented in docs/cleaning.md ("Learned per-outlet boilerplate").

-- Texts that recur in at least `min_docs` distinct articles of one outlet within `window_days`.
-- Recomputed from paragraphs + documents after every batch (warehouse/boilerplate.py); never edited by hand.
CREATE TABLE outlet_boilerplate (
    outlet        VARCHAR NOT NULL,
    text_hash     BIGINT NOT NULL,                     -- paragraphs.text_hash (normalised text)
    sample_text   VARCHAR NOT NULL,                    -- the text of its earliest occurrence
    doc_count     INTEGER NOT NULL,                    -- documents of the outlet containing it
    window_count  INTEGER NOT NULL,                    -- most distinct articles within any window
    first_seen    TIMESTAMPTZ NOT NULL,
    last_seen     TIMESTAMPTZ NOT NULL,
    min_docs      INTEGER NOT NULL,                    -- the settings it was learned with
    window_days   INTEGER NOT NULL,
    PRIMARY KEY (outlet, text_hash)
);

-- Human decisions, append-only (the audit trail). The latest decision per (outlet, text_hash) wins:
-- 'boilerplate' = always leave out, 'content' = never leave out, 'learned' = back to the learned state.
CREATE SEQUENCE boilerplate_decision_seq START 1;
CREATE TABLE boilerplate_overrides (
    decision_id   BIGINT PRIMARY KEY DEFAULT nextval('boilerplate_decision_seq'),
    outlet        VARCHAR NOT NULL,
    text_hash     BIGINT NOT NULL,
    decision      VARCHAR NOT NULL CHECK (decision IN ('boilerplate', 'content', 'learned')),
    note          VARCHAR,
    sample_text   VARCHAR,
    decided_at    TIMESTAMPTZ NOT NULL
);

-- Every learned or overridden text with its effective state.
CREATE OR REPLACE VIEW boilerplate_status AS
WITH latest AS (
    SELECT outlet, text_hash, decision, note, sample_text, decided_at
    FROM boilerplate_overrides
    QUALIFY row_number() OVER (PARTITION BY outlet, text_hash ORDER BY decision_id DESC) = 1
),
joined AS (
    SELECT
        coalesce(b.outlet, o.outlet)                                  AS outlet,
        coalesce(b.text_hash, o.text_hash)                            AS text_hash,
        coalesce(b.sample_text, o.sample_text)                        AS sample_text,
        b.outlet IS NOT NULL                                          AS learned,
        CASE WHEN o.decision IN ('boilerplate', 'content') THEN o.decision END AS override,
        b.doc_count, b.window_count, b.first_seen, b.last_seen, b.min_docs, b.window_days,
        o.note, o.decided_at
    FROM outlet_boilerplate b
    FULL OUTER JOIN latest o ON o.outlet = b.outlet AND o.text_hash = b.text_hash
)
SELECT
    *,
    coalesce(override = 'boilerplate', learned)                       AS excluded,
    CASE
        WHEN override = 'boilerplate' THEN 'override'
        WHEN override = 'content' THEN 'override'
        ELSE 'learned'
    END                                                               AS source,
    CASE
        WHEN override = 'boilerplate' THEN 'dropped by hand' || coalesce(': ' || note, '')
        WHEN override = 'content' THEN 'kept by hand' || coalesce(': ' || note, '')
        ELSE format('in {} articles of this outlet within {} days (threshold {}); {} documents in all',
                    window_count, window_days, min_docs, doc_count)
    END                                                               AS reason
FROM joined
WHERE learned OR override IS NOT NULL;

-- The (outlet, text_hash) pairs the views leave out.
CREATE OR REPLACE VIEW boilerplate_flags AS
SELECT outlet, text_hash, source, reason FROM boilerplate_status WHERE excluded;

-- Every stored paragraph left out as boilerplate, and why.
CREATE OR REPLACE VIEW boilerplate_paragraphs AS
SELECT d.source_uri, d.outlet, p.doc_id, p.position, p.text, p.paragraph_id, p.text_hash, f.source, f.reason
FROM paragraphs p
JOIN documents d USING (doc_id)
JOIN boilerplate_flags f ON f.outlet = d.outlet AND f.text_hash = p.text_hash;

-- Same columns and meaning as in 002, over the paragraphs that are not boilerplate. A cluster whose
-- stored head was left out is led by its earliest remaining member (keep rule: published_at, fetched_at,
-- doc_id, position); a member's method/similarity then refer to the new head: 'exact' for the same text,
-- else the verified edge between the two texts when there is one, else the stored link's values.
-- A cluster with a single remaining member is no cluster (cluster_id NULL).
CREATE OR REPLACE VIEW paragraph_dedup AS
WITH kept AS (
    SELECT d.source_uri, d.outlet, p.doc_id, p.position, p.text, p.paragraph_id, p.text_hash,
           d.published_at, d.fetched_at
    FROM paragraphs p
    JOIN documents d USING (doc_id)
    ANTI JOIN boilerplate_flags f ON f.outlet = d.outlet AND f.text_hash = p.text_hash
),
cluster_heads AS (
    SELECT DISTINCT canonical_id, cluster_id FROM duplicate_links
),
members AS (
    SELECT k.*, coalesce(l.cluster_id, h.cluster_id) AS stored_cluster, l.canonical_id AS stored_canonical,
           l.method AS stored_method, l.similarity AS stored_similarity
    FROM kept k
    LEFT JOIN duplicate_links l ON l.paragraph_id = k.paragraph_id
    LEFT JOIN cluster_heads h ON h.canonical_id = k.paragraph_id
),
clusters AS (
    SELECT stored_cluster AS cluster_id,
           count(*)                                                                   AS size,
           bool_or(stored_canonical IS NULL)                                          AS head_kept,
           first(paragraph_id ORDER BY published_at NULLS LAST, fetched_at NULLS LAST, doc_id, position)
                                                                                      AS head_id,
           first(text_hash ORDER BY published_at NULLS LAST, fetched_at NULLS LAST, doc_id, position)
                                                                                      AS head_hash
    FROM members
    WHERE stored_cluster IS NOT NULL
    GROUP BY stored_cluster
),
resolved AS (
    SELECT m.*, c.size, c.head_kept,
           CASE WHEN c.head_kept THEN m.stored_canonical ELSE c.head_id END AS head_id,
           c.head_hash,
           CASE WHEN NOT c.head_kept THEN least(m.text_hash, c.head_hash) END AS edge_a,
           CASE WHEN NOT c.head_kept THEN greatest(m.text_hash, c.head_hash) END AS edge_b
    FROM members m
    LEFT JOIN clusters c ON c.cluster_id = m.stored_cluster
)
SELECT
    r.source_uri,
    r.outlet,
    r.doc_id,
    r.position,
    r.text,
    r.paragraph_id,
    CASE WHEN r.size > 1 THEN coalesce(r.head_id, r.paragraph_id) ELSE r.paragraph_id END AS canonical_id,
    CASE WHEN r.size > 1 THEN r.stored_cluster END                                         AS cluster_id,
    CASE
        WHEN r.size IS NULL OR r.size = 1 OR r.head_id IS NULL OR r.head_id = r.paragraph_id THEN NULL
        WHEN r.head_kept THEN r.stored_method
        WHEN r.text_hash = r.head_hash THEN 'exact'
        ELSE coalesce(e.method, r.stored_method)
    END                                                                                    AS method,
    CASE
        WHEN r.size IS NULL OR r.size = 1 OR r.head_id IS NULL OR r.head_id = r.paragraph_id THEN NULL
        WHEN r.head_kept THEN r.stored_similarity
        WHEN r.text_hash = r.head_hash THEN 1.0
        ELSE coalesce(e.similarity, r.stored_similarity)
    END                                                                                    AS similarity
FROM resolved r
LEFT JOIN dedup_edges e ON e.text_a = r.edge_a AND e.text_b = r.edge_b;

-- Same columns as in 002: the corpus without duplicates and without boilerplate (one row per cluster head
-- and per paragraph that has no copy).
CREATE OR REPLACE VIEW clean_corpus AS
SELECT d.doc_id, d.source_uri, d.outlet, d.title, d.published_at, d.language, pd.position, pd.text, pd.paragraph_id
FROM paragraph_dedup pd
JOIN documents d USING (doc_id)
WHERE pd.paragraph_id = pd.canonical_id;
