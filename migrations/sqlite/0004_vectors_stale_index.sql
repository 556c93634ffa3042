-- Space records count their stale vectors on every lookup; without an index that count read every
-- vector row of the space (kilobytes each). A partial index holds only the stale rows.
CREATE INDEX vectors_stale ON vectors(space_id) WHERE stale = 1;
