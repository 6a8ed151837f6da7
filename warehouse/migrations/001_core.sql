-- 001: core tables. Every table is keyed by content-derived ids, so re-ingesting the same input is a no-op.
-- Keys of the large tables are enforced by the loader (it writes only ids it has checked are new, under the
-- writer lock) rather than by PRIMARY KEY constraints: DuckDB rewrites ART indexes at every checkpoint, which
-- made each batch's cost grow with the warehouse size.

CREATE TABLE ingest_runs (
    run_id              VARCHAR PRIMARY KEY,
    flow_run_id         VARCHAR,
    started_at          TIMESTAMPTZ NOT NULL,
    finished_at         TIMESTAMPTZ,
    status              VARCHAR NOT NULL,          -- running | completed | failed
    sources             VARCHAR[],
    inputs              INTEGER,
    documents_new       INTEGER,
    documents_seen      INTEGER,
    paragraphs_new      INTEGER,
    exact_links         INTEGER,
    near_links          INTEGER,
    containment_links   INTEGER,
    boilerplate_removed INTEGER,
    errors              INTEGER,
    seconds             DOUBLE,
    stage_seconds       JSON,
    settings            JSON
);

CREATE TABLE raw_documents (
    doc_id        VARCHAR NOT NULL,                    -- blake2b(outlet, content_hash); unique
    source_uri    VARCHAR NOT NULL,
    outlet        VARCHAR NOT NULL,
    content_type  VARCHAR NOT NULL,                    -- text | html
    content_hash  VARCHAR NOT NULL,
    content       VARCHAR NOT NULL,
    fetched_at    TIMESTAMPTZ,
    title         VARCHAR,
    published_at  TIMESTAMPTZ,
    url           VARCHAR,
    run_id        VARCHAR NOT NULL,
    ingested_at   TIMESTAMPTZ NOT NULL
);

CREATE TABLE documents (
    doc_id          VARCHAR NOT NULL,                  -- unique
    source_uri      VARCHAR NOT NULL,
    outlet          VARCHAR NOT NULL,
    title           VARCHAR,
    author          VARCHAR,
    published_at    TIMESTAMPTZ,
    fetched_at      TIMESTAMPTZ,
    canonical_url   VARCHAR,
    language        VARCHAR,
    paragraph_count INTEGER NOT NULL,
    run_id          VARCHAR NOT NULL
);

CREATE TABLE paragraphs (
    paragraph_id  VARCHAR NOT NULL,                    -- blake2b(doc_id, position); unique
    doc_id        VARCHAR NOT NULL,
    position      INTEGER NOT NULL,                    -- 0-based among the document's clean paragraphs
    text          VARCHAR NOT NULL,                    -- as published
    text_hash     BIGINT NOT NULL,                     -- hash of the normalised text: the exact-match key
    token_count   INTEGER NOT NULL,
    run_id        VARCHAR NOT NULL
);

CREATE TABLE removed_segments (
    doc_id   VARCHAR NOT NULL,
    line_no  INTEGER NOT NULL,
    text     VARCHAR NOT NULL,
    rule     VARCHAR NOT NULL,
    run_id   VARCHAR NOT NULL                          -- (doc_id, line_no) unique
);

CREATE TABLE ingest_errors (
    error_id     VARCHAR PRIMARY KEY,                  -- blake2b(source_uri, stage, reason): one row per distinct failure
    run_id       VARCHAR NOT NULL,
    source_uri   VARCHAR NOT NULL,
    stage        VARCHAR NOT NULL,
    reason       VARCHAR NOT NULL,
    occurred_at  TIMESTAMPTZ NOT NULL
);

-- Dedup index: one row per distinct normalised text (graph node), its LSH band keys and verified edges.
CREATE TABLE dedup_texts (
    text_hash      BIGINT NOT NULL,                    -- unique
    normalized     VARCHAR NOT NULL,
    token_count    INTEGER NOT NULL,
    shingle_count  INTEGER NOT NULL,
    signature      UINTEGER[],                         -- datasketch affine32 MinHash; NULL below min_tokens
    run_id         VARCHAR NOT NULL
);

CREATE TABLE dedup_bands (
    band_key   BIGINT NOT NULL,
    text_hash  BIGINT NOT NULL
);

CREATE TABLE dedup_edges (
    text_a       BIGINT NOT NULL,                      -- text_a < text_b
    text_b       BIGINT NOT NULL,
    method       VARCHAR NOT NULL,                     -- near | containment
    similarity   DOUBLE NOT NULL,
    jaccard      DOUBLE NOT NULL,
    containment  DOUBLE NOT NULL,
    run_id       VARCHAR NOT NULL                      -- (text_a, text_b) unique
);

CREATE TABLE duplicate_links (
    paragraph_id  VARCHAR NOT NULL,                    -- the copy; unique
    canonical_id  VARCHAR NOT NULL,                    -- the paragraph kept
    cluster_id    VARCHAR NOT NULL,
    method        VARCHAR NOT NULL,                    -- exact | near | containment
    similarity    DOUBLE NOT NULL,
    run_id        VARCHAR NOT NULL                     -- run that (re)computed this link
);
