-- Streams (Orleans.Streaming.AdoNet, provider "huginn": the devices' assignment streams).
-- A queue is a set of rows per (service, provider, queue). A message is handed out by moving its
-- visible_on into the future and counting the dequeue; it leaves the table when the receiver confirms it
-- with that dequeue count, or goes to the dead letters after too many attempts or when it expires.
-- Times are computed here, from the database clock, so that silos' clocks do not matter.

CREATE SEQUENCE orleans_stream_message_id AS bigint;

CREATE TABLE orleans_stream_message
(
    service_id  varchar(150) NOT NULL,
    provider_id varchar(150) NOT NULL,
    queue_id    varchar(150) NOT NULL,
    message_id  bigint       NOT NULL,
    dequeued    integer      NOT NULL,
    visible_on  timestamptz  NOT NULL,
    expires_on  timestamptz  NOT NULL,
    created_on  timestamptz  NOT NULL,
    modified_on timestamptz  NOT NULL,
    payload     bytea        NOT NULL,
    PRIMARY KEY (service_id, provider_id, queue_id, message_id)
);

CREATE TABLE orleans_stream_dead_letter
(
    service_id  varchar(150) NOT NULL,
    provider_id varchar(150) NOT NULL,
    queue_id    varchar(150) NOT NULL,
    message_id  bigint       NOT NULL,
    dequeued    integer      NOT NULL,
    visible_on  timestamptz  NOT NULL,
    expires_on  timestamptz  NOT NULL,
    created_on  timestamptz  NOT NULL,
    modified_on timestamptz  NOT NULL,
    dead_on     timestamptz  NOT NULL,
    remove_on   timestamptz  NOT NULL,
    payload     bytea,
    PRIMARY KEY (service_id, provider_id, queue_id, message_id)
);

-- When each queue is next due for eviction; the first reader past that time does it.
CREATE TABLE orleans_stream_control
(
    service_id  varchar(150) NOT NULL,
    provider_id varchar(150) NOT NULL,
    queue_id    varchar(150) NOT NULL,
    evict_on    timestamptz  NOT NULL,
    PRIMARY KEY (service_id, provider_id, queue_id)
);

-- Moves messages that used up their attempts or expired (and are not currently handed out) to the dead letters.
CREATE FUNCTION huginn_stream_evict_messages(
    p_service_id varchar, p_provider_id varchar, p_queue_id varchar,
    p_max_count integer, p_max_attempts integer, p_removal_timeout integer)
RETURNS void LANGUAGE sql AS $fn$
    WITH due AS (
        SELECT message_id
          FROM orleans_stream_message
         WHERE service_id = p_service_id AND provider_id = p_provider_id AND queue_id = p_queue_id
           AND visible_on <= now() AND (dequeued >= p_max_attempts OR expires_on <= now())
         ORDER BY message_id
         LIMIT p_max_count
           FOR UPDATE SKIP LOCKED),
    moved AS (
        DELETE FROM orleans_stream_message m USING due
         WHERE m.service_id = p_service_id AND m.provider_id = p_provider_id AND m.queue_id = p_queue_id
           AND m.message_id = due.message_id
        RETURNING m.*)
    INSERT INTO orleans_stream_dead_letter (service_id, provider_id, queue_id, message_id, dequeued, visible_on,
                                            expires_on, created_on, modified_on, dead_on, remove_on, payload)
    SELECT service_id, provider_id, queue_id, message_id, dequeued, visible_on,
           expires_on, created_on, modified_on, now(), now() + make_interval(secs => p_removal_timeout), payload
      FROM moved;
$fn$;

CREATE FUNCTION huginn_stream_evict_dead_letters(
    p_service_id varchar, p_provider_id varchar, p_queue_id varchar, p_max_count integer)
RETURNS void LANGUAGE sql AS $fn$
    WITH due AS (
        SELECT message_id
          FROM orleans_stream_dead_letter
         WHERE service_id = p_service_id AND provider_id = p_provider_id AND queue_id = p_queue_id
           AND remove_on <= now()
         ORDER BY message_id
         LIMIT p_max_count
           FOR UPDATE SKIP LOCKED)
    DELETE FROM orleans_stream_dead_letter d USING due
     WHERE d.service_id = p_service_id AND d.provider_id = p_provider_id AND d.queue_id = p_queue_id
       AND d.message_id = due.message_id;
$fn$;

-- Hands out the next visible messages of a queue, in order, after running the queue's eviction when it is due.
CREATE FUNCTION huginn_stream_get_messages(
    p_service_id varchar, p_provider_id varchar, p_queue_id varchar, p_max_count integer,
    p_max_attempts integer, p_visibility_timeout integer, p_removal_timeout integer,
    p_eviction_interval integer, p_eviction_batch_size integer)
RETURNS TABLE ("ServiceId" varchar, "ProviderId" varchar, "QueueId" varchar, "MessageId" bigint,
               "Dequeued" integer, "VisibleOn" timestamptz, "ExpiresOn" timestamptz,
               "CreatedOn" timestamptz, "ModifiedOn" timestamptz, "Payload" bytea)
LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO orleans_stream_control (service_id, provider_id, queue_id, evict_on)
    VALUES (p_service_id, p_provider_id, p_queue_id, now() - interval '1 second')
    ON CONFLICT DO NOTHING;

    -- Only the reader that moves evict_on forward evicts.
    UPDATE orleans_stream_control
       SET evict_on = now() + make_interval(secs => p_eviction_interval)
     WHERE service_id = p_service_id AND provider_id = p_provider_id AND queue_id = p_queue_id
       AND evict_on <= now();
    IF FOUND THEN
        PERFORM huginn_stream_evict_messages(p_service_id, p_provider_id, p_queue_id,
                                             p_eviction_batch_size, p_max_attempts, p_removal_timeout);
        PERFORM huginn_stream_evict_dead_letters(p_service_id, p_provider_id, p_queue_id, p_eviction_batch_size);
    END IF;

    RETURN QUERY
    WITH batch AS (
        SELECT m.message_id
          FROM orleans_stream_message m
         WHERE m.service_id = p_service_id AND m.provider_id = p_provider_id AND m.queue_id = p_queue_id
           AND m.dequeued < p_max_attempts AND m.visible_on <= now() AND m.expires_on > now()
         ORDER BY m.message_id
         LIMIT p_max_count
           FOR UPDATE)
    UPDATE orleans_stream_message m
       SET dequeued = m.dequeued + 1,
           visible_on = now() + make_interval(secs => p_visibility_timeout),
           modified_on = now()
      FROM batch
     WHERE m.service_id = p_service_id AND m.provider_id = p_provider_id AND m.queue_id = p_queue_id
       AND m.message_id = batch.message_id
    RETURNING m.service_id, m.provider_id, m.queue_id, m.message_id, m.dequeued,
              m.visible_on, m.expires_on, m.created_on, m.modified_on, m.payload;
END
$fn$;

-- Items is "messageId:dequeued|messageId:dequeued…", the dequeue count being the receipt of one hand-out.
-- A positive receipt confirms (deletes) the message; a negative one releases it for immediate redelivery
-- (a queue handed to another silo). A stale receipt matches nothing.
CREATE FUNCTION huginn_stream_confirm_messages(
    p_service_id varchar, p_provider_id varchar, p_queue_id varchar, p_items text)
RETURNS TABLE ("ServiceId" varchar, "ProviderId" varchar, "QueueId" varchar, "MessageId" bigint)
LANGUAGE plpgsql AS $fn$
BEGIN
    RETURN QUERY
    WITH receipt AS (
        SELECT split_part(item, ':', 1)::bigint AS message_id, split_part(item, ':', 2)::integer AS dequeued
          FROM unnest(string_to_array(p_items, '|')) AS item),
    confirmed AS (
        DELETE FROM orleans_stream_message m USING receipt r
         WHERE r.dequeued > 0
           AND m.service_id = p_service_id AND m.provider_id = p_provider_id AND m.queue_id = p_queue_id
           AND m.message_id = r.message_id AND m.dequeued = r.dequeued
        RETURNING m.service_id, m.provider_id, m.queue_id, m.message_id),
    released AS (
        UPDATE orleans_stream_message m SET visible_on = now(), modified_on = now()
          FROM receipt r
         WHERE r.dequeued < 0
           AND m.service_id = p_service_id AND m.provider_id = p_provider_id AND m.queue_id = p_queue_id
           AND m.message_id = r.message_id AND m.dequeued = -r.dequeued
        RETURNING m.service_id, m.provider_id, m.queue_id, m.message_id)
    SELECT * FROM confirmed
    UNION ALL
    SELECT * FROM released;
END
$fn$;

-- A delivery failed: the message becomes visible again while it has attempts left, else it is a dead letter.
CREATE FUNCTION huginn_stream_fail_message(
    p_service_id varchar, p_provider_id varchar, p_queue_id varchar, p_message_id bigint,
    p_max_attempts integer, p_removal_timeout integer)
RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    UPDATE orleans_stream_message SET visible_on = now(), modified_on = now()
     WHERE service_id = p_service_id AND provider_id = p_provider_id AND queue_id = p_queue_id
       AND message_id = p_message_id AND dequeued < p_max_attempts;
    IF FOUND THEN RETURN; END IF;

    WITH moved AS (
        DELETE FROM orleans_stream_message
         WHERE service_id = p_service_id AND provider_id = p_provider_id AND queue_id = p_queue_id
           AND message_id = p_message_id
        RETURNING *)
    INSERT INTO orleans_stream_dead_letter (service_id, provider_id, queue_id, message_id, dequeued, visible_on,
                                            expires_on, created_on, modified_on, dead_on, remove_on, payload)
    SELECT service_id, provider_id, queue_id, message_id, dequeued, visible_on,
           expires_on, created_on, modified_on, now(), now() + make_interval(secs => p_removal_timeout), payload
      FROM moved;
END
$fn$;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('QueueStreamMessageKey', $q$
    INSERT INTO orleans_stream_message (service_id, provider_id, queue_id, message_id, dequeued,
                                        visible_on, expires_on, created_on, modified_on, payload)
    VALUES (@ServiceId, @ProviderId, @QueueId, nextval('orleans_stream_message_id'), 0,
            now(), now() + make_interval(secs => @ExpiryTimeout), now(), now(), @Payload)
    RETURNING service_id AS "ServiceId", provider_id AS "ProviderId", queue_id AS "QueueId", message_id AS "MessageId"
$q$),
('GetStreamMessagesKey', $q$
    SELECT * FROM huginn_stream_get_messages(@ServiceId, @ProviderId, @QueueId, @MaxCount, @MaxAttempts,
                                             @VisibilityTimeout, @RemovalTimeout, @EvictionInterval, @EvictionBatchSize)
$q$),
('ConfirmStreamMessagesKey', $q$
    SELECT * FROM huginn_stream_confirm_messages(@ServiceId, @ProviderId, @QueueId, @Items)
$q$),
('FailStreamMessageKey', $q$
    SELECT huginn_stream_fail_message(@ServiceId, @ProviderId, @QueueId, @MessageId, @MaxAttempts, @RemovalTimeout)
$q$),
('EvictStreamMessagesKey', $q$
    SELECT huginn_stream_evict_messages(@ServiceId, @ProviderId, @QueueId, @MaxCount, @MaxAttempts, @RemovalTimeout)
$q$),
('EvictStreamDeadLettersKey', $q$
    SELECT huginn_stream_evict_dead_letters(@ServiceId, @ProviderId, @QueueId, @MaxCount)
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;
