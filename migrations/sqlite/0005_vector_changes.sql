-- Lets a process catch its FAISS cache up with vector writes made by other processes (workers, other
-- servers) without a rebuild: each vector row records the space generation that last wrote it, and
-- every deleted vector leaves a tombstone stamped with the generation its deletion produced.
-- Rows written before this migration keep generation 0; `changes_since` is the generation from which
-- the record is complete (an index older than that is rebuilt, as before). Existing rows are not
-- rewritten (a large database migrates in constant time).
-- The index leads with (space_id, stale) so that counting a space's stale vectors stays a covering
-- index read (it replaces 0004's partial index); changes are read with `stale IN (0, 1)`.
ALTER TABLE vectors ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
CREATE INDEX vectors_changes ON vectors(space_id, stale, generation);
DROP INDEX vectors_stale;
ALTER TABLE spaces ADD COLUMN changes_since INTEGER NOT NULL DEFAULT 0;
UPDATE spaces SET changes_since = generation;

CREATE TABLE vector_deletions (
    space_id    INTEGER NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
    generation  INTEGER NOT NULL,
    function_id INTEGER NOT NULL,
    PRIMARY KEY (space_id, generation, function_id)
) WITHOUT ROWID;

DROP TRIGGER vectors_delete_generation;
CREATE TRIGGER vectors_delete_generation AFTER DELETE ON vectors
BEGIN
    UPDATE spaces SET generation = generation + 1 WHERE id = OLD.space_id;
    INSERT INTO vector_deletions(space_id, generation, function_id)
        SELECT id, generation, OLD.function_id FROM spaces WHERE id = OLD.space_id;
END;
