-- A job submitted with `"remote": true` is left to remote workers (POST /v1/jobs/claim). The flag is
-- a column so that claiming never parses params (a hostile params text must not stall every claim).
ALTER TABLE jobs ADD COLUMN remote INTEGER NOT NULL DEFAULT 0;
UPDATE jobs SET remote = 1 WHERE json_valid(params) AND json_extract(params, '$.remote') IS 1;
DROP INDEX jobs_state;
CREATE INDEX jobs_state ON jobs(state, remote, id);
