-- Each event of an activity attempt names the activity it belongs to (Temporal's activity id,
-- unique within the workflow run), so the attempts of one step are told apart from those of its
-- neighbours (a document's embedding batches are one activity each), and an attempt that left no
-- terminal event (its worker died, its completion was lost, the database was down) can be found
-- and written down late by the next attempt. NULL for job-level events (`job` started, finished).
ALTER TABLE job_events ADD COLUMN activity_id text;
CREATE INDEX job_events_activity_idx ON job_events (job_id, activity_id, attempt) WHERE activity_id IS NOT NULL;
