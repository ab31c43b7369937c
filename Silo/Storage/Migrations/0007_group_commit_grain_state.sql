-- Grain state of the "huginn" provider when it is GroupCommitGrainStorage (the default in the durable mode):
-- one row per grain and state name. The payload is the Orleans binary serialization of the state record, NULL
-- after a clear (the row stays so that its etag keeps counting: a writer holding an etag from before the clear
-- cannot succeed). etag is the optimistic-concurrency version: a write names the etag it read and succeeds only
-- if the row still has it, and moves it by one.

CREATE TABLE huginn_grain_state
(
    service_id  text        NOT NULL,
    grain_type  text        NOT NULL,   -- GrainId.Type, e.g. 'device'
    grain_id    text        NOT NULL,   -- GrainId.Key, e.g. 'device:basement-3090'
    state_name  text        NOT NULL,   -- the [PersistentState] name, e.g. 'device'
    etag        bigint      NOT NULL,
    payload     bytea,
    modified_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (service_id, grain_type, grain_id, state_name)
);
