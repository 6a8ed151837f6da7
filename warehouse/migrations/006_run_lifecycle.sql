-- 006: a run is recorded when it starts (status 'running') and again when it ends ('completed' | 'failed' |
-- 'interrupted'); a run whose process died is marked 'interrupted' by the next run (warehouse/runs.py), with
-- the counts of what its committed batches stored. Feed entries over the per-feed cap are counted, not lost:
-- later runs fetch them, newest first.
ALTER TABLE ingest_runs ADD COLUMN feed_entries_deferred INTEGER;
