-- Reminders (Orleans.Reminders.AdoNet): one row per grain and reminder name. The grain hash places a
-- reminder on the ring, so each silo reads only the range it owns; Version is the reminder's ETag.

CREATE TABLE orleans_reminder
(
    service_id    varchar(150)   NOT NULL,
    grain_id      varchar(150)   NOT NULL,
    reminder_name varchar(150)   NOT NULL,
    start_time    timestamptz(3) NOT NULL,
    period_ms     bigint         NOT NULL,
    grain_hash    integer        NOT NULL,
    version       integer        NOT NULL,
    PRIMARY KEY (service_id, grain_id, reminder_name)
);

CREATE INDEX orleans_reminder_ring ON orleans_reminder (service_id, grain_hash);

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('UpsertReminderRowKey', $q$
    INSERT INTO orleans_reminder (service_id, grain_id, reminder_name, start_time, period_ms, grain_hash, version)
    VALUES (@ServiceId, @GrainId, @ReminderName, @StartTime, @Period, @GrainHash, 0)
    ON CONFLICT (service_id, grain_id, reminder_name) DO UPDATE
       SET start_time = excluded.start_time, period_ms = excluded.period_ms,
           grain_hash = excluded.grain_hash, version = orleans_reminder.version + 1
    RETURNING version AS "Version"
$q$),
('ReadReminderRowsKey', $q$
    SELECT grain_id AS "GrainId", reminder_name AS "ReminderName", start_time AS "StartTime",
           period_ms AS "Period", version AS "Version"
      FROM orleans_reminder
     WHERE service_id = @ServiceId AND grain_id = @GrainId
$q$),
('ReadReminderRowKey', $q$
    SELECT grain_id AS "GrainId", reminder_name AS "ReminderName", start_time AS "StartTime",
           period_ms AS "Period", version AS "Version"
      FROM orleans_reminder
     WHERE service_id = @ServiceId AND grain_id = @GrainId AND reminder_name = @ReminderName
$q$),
-- A range that does not wrap around the ring: (begin, end].
('ReadRangeRows1Key', $q$
    SELECT grain_id AS "GrainId", reminder_name AS "ReminderName", start_time AS "StartTime",
           period_ms AS "Period", version AS "Version"
      FROM orleans_reminder
     WHERE service_id = @ServiceId AND grain_hash > @BeginHash AND grain_hash <= @EndHash
$q$),
-- A range that wraps around the ring: above begin, or up to end.
('ReadRangeRows2Key', $q$
    SELECT grain_id AS "GrainId", reminder_name AS "ReminderName", start_time AS "StartTime",
           period_ms AS "Period", version AS "Version"
      FROM orleans_reminder
     WHERE service_id = @ServiceId AND (grain_hash > @BeginHash OR grain_hash <= @EndHash)
$q$),
-- Answers 1 when the row with that version was removed, 0 otherwise.
('DeleteReminderRowKey', $q$
    WITH removed AS (
        DELETE FROM orleans_reminder
         WHERE service_id = @ServiceId AND grain_id = @GrainId AND reminder_name = @ReminderName
           AND version = @Version
        RETURNING 1)
    SELECT count(*)::integer FROM removed
$q$),
('DeleteReminderRowsKey', $q$
    DELETE FROM orleans_reminder WHERE service_id = @ServiceId
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;
