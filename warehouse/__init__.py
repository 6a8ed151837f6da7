"""Load stage: the DuckDB warehouse, its migrations, and the LSH store beside it."""

from wirecopy import process_memory

process_memory.set_duckdb_allocator()  # before anything imports duckdb
process_memory.set_glibc_thresholds()
process_memory.set_arrow_pool()
