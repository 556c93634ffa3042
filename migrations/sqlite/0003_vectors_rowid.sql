-- Vectors move to a rowid table: a vector row is 0.75–1.5 KB, and SQLite stores WITHOUT ROWID rows
-- larger than ~1/20 of a page inefficiently (the whole row sits in the primary-key B-tree).
-- Same columns and semantics; (space_id, function_id) stays unique.

CREATE TABLE vectors_rowid (
    id          INTEGER PRIMARY KEY,
    space_id    INTEGER NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
    function_id INTEGER NOT NULL REFERENCES functions(id) ON DELETE CASCADE,
    n_rows      INTEGER NOT NULL DEFAULT 1,
    data        BLOB NOT NULL,
    stale       INTEGER NOT NULL DEFAULT 0,
    truncated   INTEGER NOT NULL DEFAULT 0,
    updated_at  REAL NOT NULL,
    UNIQUE (space_id, function_id)
);
INSERT INTO vectors_rowid(space_id, function_id, n_rows, data, stale, truncated, updated_at)
    SELECT space_id, function_id, n_rows, data, stale, truncated, updated_at FROM vectors ORDER BY space_id, function_id;
DROP TRIGGER vectors_delete_generation;
DROP TABLE vectors;
ALTER TABLE vectors_rowid RENAME TO vectors;
CREATE INDEX vectors_function ON vectors(function_id);
CREATE TRIGGER vectors_delete_generation AFTER DELETE ON vectors
BEGIN
    UPDATE spaces SET generation = generation + 1 WHERE id = OLD.space_id;
END;
