-- A job submitted with `"remote": true` is left to remote workers (POST /v1/jobs/claim). The flag is
-- a column so that claiming never parses params (jsonb refuses a \u0000 escape, and one such job
-- must not stall every claim).
ALTER TABLE jobs ADD COLUMN remote INTEGER NOT NULL DEFAULT 0;
