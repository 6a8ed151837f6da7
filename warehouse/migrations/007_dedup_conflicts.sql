-- 007: pairs of texts that the duplicate definition found copied (B1/B2 overlap) but reporting different facts
-- (a template: another number, date, place, name or event). They are never linked, and clustering keeps them out
-- of one cluster even when both copy a third text (wirecopy/dedup/clustering.py). Derived, like dedup_edges.
CREATE TABLE dedup_conflicts (
    text_a  BIGINT NOT NULL,                               -- text_a < text_b
    text_b  BIGINT NOT NULL,
    kind    VARCHAR NOT NULL,                              -- number | date | direction | event | place | name | wording
    run_id  VARCHAR NOT NULL                               -- (text_a, text_b) unique
);
