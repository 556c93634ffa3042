-- A claim takes the oldest queued job: `… WHERE state = 'queued' … ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED`.
-- With only `jobs_state (state, id)` the planner walked the primary key in id order and filtered out
-- every finished job before the first queued one (1,500 rows read for one claim after 1,500 jobs: each
-- claim grew with the table's history). This index holds the queued jobs alone, in id order.
CREATE INDEX jobs_queued ON jobs(id) WHERE state = 'queued';
