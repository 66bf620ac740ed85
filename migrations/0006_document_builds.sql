-- edgechat schema v6: re-ingest is linearizable.
-- `last_generation` is the last generation number ever drawn for the document. Numbers are drawn
-- from it in the same statement that claims the build, so two builds can never share one (they
-- did when each read `max(generation, building) + 1` and then wrote it), and a number is never
-- reused after a failed or discarded build whose vectors may still await deletion.
-- `pending` holds what the build in progress will make live (title, metadata, source, file,
-- object key, content type, chunking) as JSON; the commit that makes the generation live copies it
-- into the live columns, so a build that fails or is refused leaves the document as it was.
ALTER TABLE documents ADD COLUMN last_generation INTEGER NOT NULL DEFAULT 0;
ALTER TABLE documents ADD COLUMN pending TEXT;
UPDATE documents SET last_generation = max(generation, coalesce(building, 0));
