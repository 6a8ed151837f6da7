-- 010: which run met which failure. `ingest_errors` keeps a failure once (with the run that first met it);
-- `run_errors` has one row per run that met it, so "what failed in this run" and "is it still failing" are
-- queries. Filled from `ingest_errors` for the runs before this migration (their first meeting only).
CREATE TABLE run_errors (
    run_id    VARCHAR NOT NULL,
    error_id  VARCHAR NOT NULL,
    PRIMARY KEY (run_id, error_id)
);
INSERT INTO run_errors SELECT run_id, error_id FROM ingest_errors;
