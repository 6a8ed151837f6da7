-- 009: what a run was: 'ingest' (sources read, new documents stored) or 'reprocess' (every stored raw document
-- cleaned and deduplicated again: its run_id is the one every derived row of the rebuilt warehouse carries).
ALTER TABLE ingest_runs ADD COLUMN kind VARCHAR DEFAULT 'ingest';
UPDATE ingest_runs SET kind = 'ingest';
