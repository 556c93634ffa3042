-- Lets a process catch its FAISS cache up with vector writes made by other processes without a
-- rebuild (as SQLite's 0005): each vector row records the space generation that last wrote it, and
-- every deleted vector leaves a tombstone stamped with the generation its deletion produced. Rows
-- written before this migration keep generation 0; `changes_since` is where the record starts.
ALTER TABLE vectors ADD COLUMN generation BIGINT NOT NULL DEFAULT 0;
-- Leads with (space_id, stale) so that counting a space's stale vectors stays an index-only read
-- (replacing 0001's partial index); changes are read with `stale IN (0, 1)`.
CREATE INDEX vectors_changes ON vectors(space_id, stale, generation);
DROP INDEX vectors_stale;
ALTER TABLE spaces ADD COLUMN changes_since BIGINT NOT NULL DEFAULT 0;
UPDATE spaces SET changes_since = generation;

CREATE TABLE vector_deletions (
    space_id    BIGINT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
    generation  BIGINT NOT NULL,
    function_id BIGINT NOT NULL,
    PRIMARY KEY (space_id, generation, function_id)
);

-- The statement-level trigger moves each space's generation by its number of deleted rows (as
-- before) and stamps every deleted row's tombstone with the space's new generation.
CREATE OR REPLACE FUNCTION vectors_delete_generation() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    moved RECORD;
BEGIN
    FOR moved IN
        UPDATE spaces s SET generation = s.generation + d.n
        FROM (SELECT space_id, COUNT(*) AS n FROM deleted_vectors GROUP BY space_id) d
        WHERE s.id = d.space_id
        RETURNING s.id, s.name, s.generation
    LOOP
        INSERT INTO vector_deletions(space_id, generation, function_id)
            SELECT moved.id, moved.generation, dv.function_id FROM deleted_vectors dv WHERE dv.space_id = moved.id
            ON CONFLICT DO NOTHING;
        PERFORM pg_notify('swejepa_vectors', moved.name || ':' || moved.generation);
    END LOOP;
    RETURN NULL;
END;
$$;
