-- Grain state (Orleans.Persistence.AdoNet): the providers "huginn" (every Huginn grain) and
-- "PubSubStore" (stream subscriptions) share this table; a row is one grain's state of one grain type.
-- The payload is the Orleans binary serialization of the state record. Version is the ETag: a write
-- names the version it read and succeeds only if the row still has it (optimistic concurrency).

CREATE TABLE orleans_grain_state
(
    service_id         varchar(150) NOT NULL,
    grain_type         varchar(512) NOT NULL,
    grain_id_n0        bigint       NOT NULL,
    grain_id_n1        bigint       NOT NULL,
    -- the grain's string key, '' for none (Orleans sends NULL; '' keeps the primary key simple)
    grain_id_extension varchar(512) NOT NULL,
    grain_type_hash    integer      NOT NULL,
    grain_id_hash      integer      NOT NULL,
    payload            bytea,       -- NULL after a clear that keeps the row
    version            integer      NOT NULL,
    modified_at        timestamptz  NOT NULL DEFAULT now(),
    PRIMARY KEY (service_id, grain_type, grain_id_n0, grain_id_n1, grain_id_extension)
);

-- Writes a state: the first write (no version) inserts version 1, later ones move the version by one.
-- Answers the new version, or the caller's version unchanged when someone else wrote first,
-- which Orleans reports as an InconsistentStateException.
CREATE FUNCTION huginn_grain_state_write(
    p_grain_id_hash integer, p_grain_id_n0 bigint, p_grain_id_n1 bigint, p_grain_type_hash integer,
    p_grain_type varchar, p_grain_id_extension varchar, p_service_id varchar,
    p_version integer, p_payload bytea)
RETURNS TABLE ("NewGrainStateVersion" integer) LANGUAGE plpgsql AS $fn$
BEGIN
    IF p_version IS NULL THEN
        INSERT INTO orleans_grain_state (service_id, grain_type, grain_id_n0, grain_id_n1, grain_id_extension,
                                         grain_type_hash, grain_id_hash, payload, version)
        VALUES (p_service_id, p_grain_type, p_grain_id_n0, p_grain_id_n1, coalesce(p_grain_id_extension, ''),
                p_grain_type_hash, p_grain_id_hash, p_payload, 1)
        ON CONFLICT DO NOTHING;
        RETURN QUERY SELECT CASE WHEN FOUND THEN 1 END;
    ELSE
        UPDATE orleans_grain_state
           SET payload = p_payload, version = version + 1, modified_at = now()
         WHERE service_id = p_service_id AND grain_type = p_grain_type
           AND grain_id_n0 = p_grain_id_n0 AND grain_id_n1 = p_grain_id_n1
           AND grain_id_extension = coalesce(p_grain_id_extension, '')
           AND version = p_version;
        RETURN QUERY SELECT CASE WHEN FOUND THEN p_version + 1 ELSE p_version END;
    END IF;
END
$fn$;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('ReadFromStorageKey', $q$
    SELECT payload AS "PayloadBinary", version AS "Version"
      FROM orleans_grain_state
     WHERE service_id = @ServiceId AND grain_type = @GrainTypeString
       AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
       AND grain_id_extension = coalesce(@GrainIdExtensionString, '')
       AND @GrainIdHash IS NOT NULL AND @GrainTypeHash IS NOT NULL
$q$),
('WriteToStorageKey', $q$
    SELECT * FROM huginn_grain_state_write(@GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash,
                                           @GrainTypeString, @GrainIdExtensionString, @ServiceId,
                                           @GrainStateVersion, @PayloadBinary)
$q$),
-- ClearStateAsync keeps the row (and moves its version) unless the provider is set to delete on clear.
('ClearStorageKey', $q$
    UPDATE orleans_grain_state
       SET payload = NULL, version = version + 1, modified_at = now()
     WHERE service_id = @ServiceId AND grain_type = @GrainTypeString
       AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
       AND grain_id_extension = coalesce(@GrainIdExtensionString, '')
       AND version = @GrainStateVersion
       AND @GrainIdHash IS NOT NULL AND @GrainTypeHash IS NOT NULL
    RETURNING version AS "NewGrainStateVersion"
$q$),
('DeleteStorageKey', $q$
    DELETE FROM orleans_grain_state
     WHERE service_id = @ServiceId AND grain_type = @GrainTypeString
       AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
       AND grain_id_extension = coalesce(@GrainIdExtensionString, '')
       AND version = @GrainStateVersion
       AND @GrainIdHash IS NOT NULL AND @GrainTypeHash IS NOT NULL
    RETURNING version + 1 AS "NewGrainStateVersion"
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;
