-- 012: a fingerprint of each document's clean body (md5 of its paragraphs' text hashes, in order). Learned
-- boilerplate counts the distinct articles a paragraph appears in: without a canonical URL, documents with the
-- same body are one article (the same text saved again with other line endings or bytes), not several.
ALTER TABLE documents ADD COLUMN body_hash VARCHAR;
UPDATE documents SET body_hash = bodies.body_hash
FROM (
    SELECT doc_id, md5(string_agg(CAST(text_hash AS VARCHAR), ',' ORDER BY position)) AS body_hash
    FROM paragraphs GROUP BY doc_id
) AS bodies
WHERE documents.doc_id = bodies.doc_id;
