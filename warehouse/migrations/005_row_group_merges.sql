-- 005: when DuckDB may merge the small row groups each commit appends (warehouse/commit.py). Every commit
-- appends its rows as new row groups; merging them rewrites rows, so only every 16th commit to the warehouse
-- merges, whatever run it belongs to: a scheduled run of one small batch no longer rewrites the table's tail
-- each time, and a long backfill merges at the same rate. One row: the commits since the last merge.
CREATE TABLE row_group_merges (commits_since INTEGER NOT NULL);
INSERT INTO row_group_merges VALUES (0);
