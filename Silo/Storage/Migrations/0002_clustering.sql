-- Membership (Orleans.Clustering.AdoNet, silos and gateway discovery of clients).
-- One version row per cluster (Orleans' DeploymentId = ClusterId) guards every change to the member
-- rows: a writer names the version it read, and a change is applied only if nobody moved it since.

CREATE TABLE orleans_membership_version
(
    deployment_id varchar(150)   NOT NULL PRIMARY KEY,
    version       integer        NOT NULL DEFAULT 0,
    changed_at    timestamptz(3) NOT NULL DEFAULT now()
);

CREATE TABLE orleans_membership
(
    deployment_id   varchar(150)   NOT NULL REFERENCES orleans_membership_version (deployment_id),
    address         varchar(45)    NOT NULL,
    port            integer        NOT NULL,
    generation      integer        NOT NULL,
    silo_name       varchar(150)   NOT NULL,
    host_name       varchar(150)   NOT NULL,
    status          integer        NOT NULL,   -- Orleans SiloStatus: 3 = Active, 6 = Dead
    proxy_port      integer,                   -- the gateway port; 0 or NULL for a silo without a gateway
    suspect_times   varchar(8000),
    start_time      timestamptz(3) NOT NULL,
    i_am_alive_time timestamptz(3) NOT NULL,
    PRIMARY KEY (deployment_id, address, port, generation)
);

-- Adds a silo row and moves the version in one step; answers 1 when both happened, else 0 and nothing changed.
CREATE FUNCTION huginn_membership_insert(
    p_deployment_id varchar, p_address varchar, p_port integer, p_generation integer,
    p_silo_name varchar, p_host_name varchar, p_status integer, p_proxy_port integer,
    p_start_time timestamptz, p_i_am_alive_time timestamptz, p_version integer)
RETURNS integer LANGUAGE plpgsql AS $fn$
BEGIN
    BEGIN
        INSERT INTO orleans_membership (deployment_id, address, port, generation, silo_name, host_name,
                                        status, proxy_port, start_time, i_am_alive_time)
        VALUES (p_deployment_id, p_address, p_port, p_generation, p_silo_name, p_host_name,
                p_status, p_proxy_port, p_start_time, p_i_am_alive_time)
        ON CONFLICT DO NOTHING;
        IF NOT FOUND THEN RETURN 0; END IF;

        UPDATE orleans_membership_version
           SET version = version + 1, changed_at = now()
         WHERE deployment_id = p_deployment_id AND version = p_version;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'HG001';   -- undo the insert: somebody moved the version
        END IF;
        RETURN 1;
    EXCEPTION WHEN SQLSTATE 'HG001' THEN
        RETURN 0;
    END;
END
$fn$;

-- Changes a silo's status and suspicions if the version is still the one the caller read.
CREATE FUNCTION huginn_membership_update(
    p_deployment_id varchar, p_address varchar, p_port integer, p_generation integer,
    p_status integer, p_suspect_times varchar, p_i_am_alive_time timestamptz, p_version integer)
RETURNS integer LANGUAGE plpgsql AS $fn$
BEGIN
    BEGIN
        UPDATE orleans_membership_version
           SET version = version + 1, changed_at = now()
         WHERE deployment_id = p_deployment_id AND version = p_version;
        IF NOT FOUND THEN RETURN 0; END IF;

        UPDATE orleans_membership
           SET status = p_status, suspect_times = p_suspect_times, i_am_alive_time = p_i_am_alive_time
         WHERE deployment_id = p_deployment_id AND address = p_address
           AND port = p_port AND generation = p_generation;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'HG001';
        END IF;
        RETURN 1;
    EXCEPTION WHEN SQLSTATE 'HG001' THEN
        RETURN 0;
    END;
END
$fn$;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('InsertMembershipVersionKey', $q$
    WITH created AS (
        INSERT INTO orleans_membership_version (deployment_id) VALUES (@DeploymentId)
        ON CONFLICT DO NOTHING
        RETURNING 1)
    SELECT count(*)::integer FROM created
$q$),
('InsertMembershipKey', $q$
    SELECT huginn_membership_insert(@DeploymentId, @Address, @Port, @Generation, @SiloName, @HostName,
                                    @Status, @ProxyPort, @StartTime, @IAmAliveTime, @Version)
$q$),
('UpdateMembershipKey', $q$
    SELECT huginn_membership_update(@DeploymentId, @Address, @Port, @Generation,
                                    @Status, @SuspectTimes, @IAmAliveTime, @Version)
$q$),
-- Heartbeats do not move the version: they are not a membership change.
('UpdateIAmAlivetimeKey', $q$
    UPDATE orleans_membership SET i_am_alive_time = @IAmAliveTime
     WHERE deployment_id = @DeploymentId AND address = @Address AND port = @Port AND generation = @Generation
$q$),
-- The version row comes back even when the silo has no row yet (left join).
('MembershipReadRowKey', $q$
    SELECT v.deployment_id AS "DeploymentId", m.address AS "Address", m.port AS "Port",
           m.generation AS "Generation", m.silo_name AS "SiloName", m.host_name AS "HostName",
           m.status AS "Status", m.proxy_port AS "ProxyPort", m.suspect_times AS "SuspectTimes",
           m.start_time AS "StartTime", m.i_am_alive_time AS "IAmAliveTime", v.version AS "Version"
      FROM orleans_membership_version v
      LEFT JOIN orleans_membership m
        ON m.deployment_id = v.deployment_id
       AND m.address = @Address AND m.port = @Port AND m.generation = @Generation
     WHERE v.deployment_id = @DeploymentId
$q$),
('MembershipReadAllKey', $q$
    SELECT v.deployment_id AS "DeploymentId", m.address AS "Address", m.port AS "Port",
           m.generation AS "Generation", m.silo_name AS "SiloName", m.host_name AS "HostName",
           m.status AS "Status", m.proxy_port AS "ProxyPort", m.suspect_times AS "SuspectTimes",
           m.start_time AS "StartTime", m.i_am_alive_time AS "IAmAliveTime", v.version AS "Version"
      FROM orleans_membership_version v
      LEFT JOIN orleans_membership m ON m.deployment_id = v.deployment_id
     WHERE v.deployment_id = @DeploymentId
$q$),
('DeleteMembershipTableEntriesKey', $q$
    DELETE FROM orleans_membership WHERE deployment_id = @DeploymentId;
    DELETE FROM orleans_membership_version WHERE deployment_id = @DeploymentId;
$q$),
('GatewaysQueryKey', $q$
    SELECT address AS "Address", proxy_port AS "ProxyPort", generation AS "Generation"
      FROM orleans_membership
     WHERE deployment_id = @DeploymentId AND status = @Status AND proxy_port > 0
$q$),
-- Rows of silos that stopped heart-beating before the cut-off; an Active row (3) is never removed here.
('CleanupDefunctSiloEntriesKey', $q$
    DELETE FROM orleans_membership
     WHERE deployment_id = @DeploymentId AND i_am_alive_time < @IAmAliveTime AND status <> 3
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;
