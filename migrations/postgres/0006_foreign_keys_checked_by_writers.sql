-- Writers already check and lock what three foreign keys pointed at, once per batch, so the per-row
-- RI triggers (an SPI `SELECT … FOR KEY SHARE` for every inserted row) only repeated that work:
-- - a vector write locks its space row and every function of the batch `FOR KEY SHARE` and names the
--   first unknown function (PostgresStore.upsertVectors); the two keys on `vectors` took 35–45% of the
--   server's CPU time for a 1,000-vector batch of dim 384 (backend /proc CPU time: 37–46 ms per batch
--   with them, 25–26 ms without);
-- - a function upsert inserts-or-updates its repositories' rows first (`ON CONFLICT … DO UPDATE`, a row
--   lock held to commit) and uses their ids (PostgresStore.upsert); the key on `functions.repo_id` took
--   4.5–6.7 ms of a 16–22 ms insert of 500 functions.
-- `swejepa copy` imports into an empty store, parents first, from a store that held the same rules.
--
-- What the constraints' ON DELETE CASCADE did, statement-level triggers now do: deleting repositories,
-- functions (directly, or by cascade from their repository) or spaces deletes their rows in the same
-- transaction; `vectors_delete_generation` still moves the generations and counts of the spaces that
-- remain.
ALTER TABLE vectors DROP CONSTRAINT vectors_space_id_fkey;
ALTER TABLE vectors DROP CONSTRAINT vectors_function_id_fkey;
ALTER TABLE functions DROP CONSTRAINT functions_repo_id_fkey;

-- One function for all three: TG_ARGV names the table and the column that points at the deleted rows.
CREATE FUNCTION delete_rows_of_deleted_parents() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('DELETE FROM %I t USING deleted_rows d WHERE t.%I = d.id', TG_ARGV[0], TG_ARGV[1]);
    RETURN NULL;
END;
$$;
CREATE TRIGGER repositories_delete_functions AFTER DELETE ON repositories
    REFERENCING OLD TABLE AS deleted_rows
    FOR EACH STATEMENT EXECUTE FUNCTION delete_rows_of_deleted_parents('functions', 'repo_id');
CREATE TRIGGER functions_delete_vectors AFTER DELETE ON functions
    REFERENCING OLD TABLE AS deleted_rows
    FOR EACH STATEMENT EXECUTE FUNCTION delete_rows_of_deleted_parents('vectors', 'function_id');
CREATE TRIGGER spaces_delete_vectors AFTER DELETE ON spaces
    REFERENCING OLD TABLE AS deleted_rows
    FOR EACH STATEMENT EXECUTE FUNCTION delete_rows_of_deleted_parents('vectors', 'space_id');
