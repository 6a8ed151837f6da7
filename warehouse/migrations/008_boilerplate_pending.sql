-- 008: learned boilerplate refreshed for the texts a run touched, not recomputed from every paragraph.
-- The learned state of (outlet, text_hash) depends only on that text's occurrences and on the clusters they are
-- in; a commit records here, in its own transaction, the text of every paragraph it added or re-linked
-- (warehouse/commit.py), and the refresh recomputes those texts only, then empties the table
-- (warehouse/boilerplate.py). Documented in docs/cleaning.md ("Learned per-outlet boilerplate").
CREATE TABLE boilerplate_pending (
    text_hash  BIGINT NOT NULL                         -- paragraphs.text_hash, each once
);

-- One row: the settings `outlet_boilerplate` was last recomputed in full with. Other settings (or no row: a
-- warehouse from before this migration) make the next refresh a full one.
CREATE TABLE boilerplate_learning (
    min_docs      INTEGER NOT NULL,
    window_days   INTEGER NOT NULL,
    refreshed_at  TIMESTAMPTZ NOT NULL
);
