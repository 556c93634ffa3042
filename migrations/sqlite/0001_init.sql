-- SWE-JEPA Store, initial schema (SQLite). Never edit a released migration: add a new file.
-- Times are Unix seconds (REAL). Vectors are little-endian float32 or float16 blobs.

CREATE TABLE repositories (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    path        TEXT,
    created_at  REAL NOT NULL,
    updated_at  REAL NOT NULL
);

CREATE TABLE functions (
    id              INTEGER PRIMARY KEY,
    repo_id         INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    path            TEXT NOT NULL,
    qualified_name  TEXT NOT NULL,
    language        TEXT NOT NULL DEFAULT 'python',
    start_line      INTEGER NOT NULL,
    end_line        INTEGER NOT NULL,
    signature       TEXT NOT NULL,
    body            TEXT NOT NULL,
    content_hash    TEXT NOT NULL,
    body_hash       TEXT NOT NULL,            -- duplicate group key (normalised body)
    properties      TEXT NOT NULL DEFAULT '{}', -- JSON: static properties and history
    created_at      REAL NOT NULL,
    updated_at      REAL NOT NULL,
    UNIQUE (repo_id, path, qualified_name),
    CHECK (start_line >= 1 AND end_line >= start_line)
);
CREATE INDEX functions_body_hash ON functions(body_hash);
CREATE INDEX functions_qualified_name ON functions(qualified_name);

CREATE TABLE spaces (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    model       TEXT NOT NULL DEFAULT '',
    layer       INTEGER,
    kind        TEXT NOT NULL,
    dim         INTEGER NOT NULL CHECK (dim > 0),
    dtype       TEXT NOT NULL DEFAULT 'float32' CHECK (dtype IN ('float32', 'float16')),
    metric      TEXT NOT NULL DEFAULT 'cosine' CHECK (metric IN ('cosine', 'ip', 'l2')),
    index_factory TEXT NOT NULL DEFAULT 'Flat',
    generation  INTEGER NOT NULL DEFAULT 0,   -- bumped on every vector write; FAISS files carry it
    created_at  REAL NOT NULL
);

CREATE TABLE vectors (
    space_id    INTEGER NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
    function_id INTEGER NOT NULL REFERENCES functions(id) ON DELETE CASCADE,
    n_rows      INTEGER NOT NULL DEFAULT 1,   -- token count for *_tokens spaces
    data        BLOB NOT NULL,
    stale       INTEGER NOT NULL DEFAULT 0,   -- the function changed since this was computed
    truncated   INTEGER NOT NULL DEFAULT 0,   -- the input was cut at the model's limit
    updated_at  REAL NOT NULL,
    PRIMARY KEY (space_id, function_id)
) WITHOUT ROWID;
CREATE INDEX vectors_function ON vectors(function_id);

-- Deleting vectors (directly or by cascade) moves the space's generation so indexes know.
CREATE TRIGGER vectors_delete_generation AFTER DELETE ON vectors
BEGIN
    UPDATE spaces SET generation = generation + 1 WHERE id = OLD.space_id;
END;

CREATE TABLE jobs (
    id               INTEGER PRIMARY KEY,
    type             TEXT NOT NULL,
    state            TEXT NOT NULL DEFAULT 'queued'
                     CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    params           TEXT NOT NULL DEFAULT '{}',
    result           TEXT,
    error            TEXT,
    progress         REAL NOT NULL DEFAULT 0,
    message          TEXT NOT NULL DEFAULT '',
    attempt          INTEGER NOT NULL DEFAULT 0,
    max_attempts     INTEGER NOT NULL DEFAULT 3,
    worker           TEXT,
    lease_expires_at REAL,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    created_at       REAL NOT NULL,
    started_at       REAL,
    finished_at      REAL,
    updated_at       REAL NOT NULL
);
CREATE INDEX jobs_state ON jobs(state, id);

CREATE TABLE job_metrics (
    job_id  INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    step    INTEGER NOT NULL,
    name    TEXT NOT NULL,
    value   REAL NOT NULL,
    at      REAL NOT NULL
);
CREATE INDEX job_metrics_job ON job_metrics(job_id, name, step);

CREATE TABLE job_logs (
    id      INTEGER PRIMARY KEY,
    job_id  INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    at      REAL NOT NULL,
    level   TEXT NOT NULL DEFAULT 'info',
    message TEXT NOT NULL
);
CREATE INDEX job_logs_job ON job_logs(job_id, id);
