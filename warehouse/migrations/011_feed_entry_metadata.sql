-- 011: what the feed entry that linked an article said about it, kept apart from what the page says. Cleaning
-- takes the page's own title and date first (`title`/`published_at` of a fetched page are empty: the page's are
-- extracted), the entry's where the page has none, so a page stores the same values whether it was fetched on
-- its own or from a feed. Articles stored before this migration keep the entry's values in `title`/`published_at`.
ALTER TABLE raw_documents ADD COLUMN entry_title VARCHAR;
ALTER TABLE raw_documents ADD COLUMN entry_published_at TIMESTAMPTZ;
