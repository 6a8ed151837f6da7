-- 013: why a run failed or stopped (`<exception type>: <message>`, as the command printed it); null when it
-- completed, and for the runs before this migration.
ALTER TABLE ingest_runs ADD COLUMN error VARCHAR;
