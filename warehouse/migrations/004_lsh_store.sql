-- 004: LSH band keys move out of DuckDB into the LSH store beside the warehouse file (`<warehouse>.lsh/`,
-- warehouse/lsh_store.py). Looking a batch's keys up in this table was a hash join over every stored key,
-- 32 rows per indexed text, so each batch cost more as the warehouse grew. The keys are derived data: the
-- store is rebuilt from dedup_texts (signatures and normalised texts) whenever it is missing or stale.
DROP TABLE dedup_bands;
