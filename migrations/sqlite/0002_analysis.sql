-- Analysis results (probes, neighbour lists). Never edit a released migration: add a new file.
--
-- Layer sweeps have no table: a sweep is one small table (a row per layer and kind) and lives as
-- the `layer_sweep` job's result (`GET /v1/jobs?type=layer_sweep`, then `GET /v1/jobs/{id}`).

-- One row per (probe job, target): the headline numbers as columns for listing, the whole
-- ProbeResult (folds, alphas, controls, n, groups, …) as JSON. Rows outlive their job and space
-- (a record of what was measured); `job_id` is cleared when the job row is deleted.
CREATE TABLE probe_results (
    id          INTEGER PRIMARY KEY,
    job_id      INTEGER REFERENCES jobs(id) ON DELETE SET NULL,
    space       TEXT NOT NULL,
    target      TEXT NOT NULL,
    task        TEXT NOT NULL CHECK (task IN ('regression', 'classification')),
    metric      TEXT NOT NULL,
    mean        REAL NOT NULL,
    std         REAL NOT NULL,
    group_by    TEXT NOT NULL DEFAULT 'repo',
    result      TEXT NOT NULL,            -- JSON: the full ProbeResult plus job-level context
    created_at  REAL NOT NULL
);
CREATE INDEX probe_results_space ON probe_results(space, target, id);
CREATE INDEX probe_results_job ON probe_results(job_id);

-- Top-k neighbour lists of the last `neighbours` job on a space (replaced as a whole by the next
-- one). Derived data: removed with the space or with either function.
CREATE TABLE neighbours (
    space        TEXT NOT NULL REFERENCES spaces(name) ON DELETE CASCADE,
    function_id  INTEGER NOT NULL REFERENCES functions(id) ON DELETE CASCADE,
    rank         INTEGER NOT NULL CHECK (rank >= 0),
    neighbour_id INTEGER NOT NULL REFERENCES functions(id) ON DELETE CASCADE,
    score        REAL NOT NULL,
    PRIMARY KEY (space, function_id, rank)
) WITHOUT ROWID;
-- Deleting a function cascades here through both columns: index them.
CREATE INDEX neighbours_function ON neighbours(function_id);
CREATE INDEX neighbours_neighbour ON neighbours(neighbour_id);

-- Job-level facts of each space's neighbour lists (k, exclusion rule, when, by which job).
CREATE TABLE neighbour_runs (
    space       TEXT PRIMARY KEY REFERENCES spaces(name) ON DELETE CASCADE,
    job_id      INTEGER REFERENCES jobs(id) ON DELETE SET NULL,
    k           INTEGER NOT NULL,
    exclude     TEXT NOT NULL,
    functions   INTEGER NOT NULL,
    created_at  REAL NOT NULL
);
