-- A vector write already checks its space and every function itself, in bulk, and keeps them with
-- KEY SHARE locks until it commits (PostgresStore.upsertVectors: one `FOR KEY SHARE` of the space row
-- and one of all the batch's functions). The two foreign keys on `vectors` then did the same again per
-- row: two RI trigger queries (an SPI `SELECT … FOR KEY SHARE`) for every inserted row, 35–45% of the
-- server's CPU time for a 1,000-vector batch of dim 384 (measured from the backend's /proc CPU time:
-- 37–46 ms per batch with them, 25–26 ms without). `swejepa copy` imports into an empty store, parents
-- first, from a store that held the same rules.
--
-- What the constraints' ON DELETE CASCADE did, statement-level triggers now do: deleting functions
-- (directly, or by cascade from their repository) or spaces deletes their vectors in the same
-- transaction; `vectors_delete_generation` still moves the generations and counts of the spaces that
-- remain.
ALTER TABLE vectors DROP CONSTRAINT vectors_space_id_fkey;
ALTER TABLE vectors DROP CONSTRAINT vectors_function_id_fkey;

-- One function for both: TG_ARGV[0] names the vectors column that points at the deleted rows.
CREATE FUNCTION delete_vectors_of_deleted_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('DELETE FROM vectors v USING deleted_rows d WHERE v.%I = d.id', TG_ARGV[0]);
    RETURN NULL;
END;
$$;
CREATE TRIGGER functions_delete_vectors AFTER DELETE ON functions
    REFERENCING OLD TABLE AS deleted_rows
    FOR EACH STATEMENT EXECUTE FUNCTION delete_vectors_of_deleted_rows('function_id');
CREATE TRIGGER spaces_delete_vectors AFTER DELETE ON spaces
    REFERENCING OLD TABLE AS deleted_rows
    FOR EACH STATEMENT EXECUTE FUNCTION delete_vectors_of_deleted_rows('space_id');
