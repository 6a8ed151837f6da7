-- 014: the other places a stored document was read from. A document is stored once, with the first path or URL
-- it came from (`raw_documents.source_uri`); the same bytes met again at another path of the same outlet are that
-- document (`documents_seen`), and their source key (md5 of source_uri, chr(31) and content_hash, as
-- `wirecopy.models.source_key`) is kept here, so that a later ingest under another outlet (another folder given)
-- still knows the file as stored.
CREATE TABLE document_sources (
    source_key  VARCHAR NOT NULL PRIMARY KEY,
    doc_id      VARCHAR NOT NULL,
    source_uri  VARCHAR NOT NULL,
    run_id      VARCHAR NOT NULL
);
