"""Load stage: the DuckDB warehouse, its migrations, and the LSH store beside it."""

import os

# DuckDB allocates through its bundled jemalloc, which by default keeps freed pages for seconds before returning
# them. An ingest opens and closes a connection per batch, so those pages pile up: returning them at once lowers
# the indexing process's peak RSS by about 40 MB (bench/dedup.py). Read when duckdb is first loaded, so it must be
# set before `import duckdb`; an explicit setting in the environment wins.
os.environ.setdefault("DUCKDB_JE_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")
