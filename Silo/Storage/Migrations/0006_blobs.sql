-- Content-addressed blobs (Huginn.Blobs.PostgresBlobStore): datasets and round weights, outside grain state.
-- A blob's bytes are rows of huginn_blob_chunk (1 MiB each but the last), keyed by a content id drawn before
-- the digest is known; the huginn_blob row, which names the digest, is inserted in the same transaction as
-- the last chunk, so a blob is visible whole or not at all. References say who still needs a blob; one
-- without any is deleted by the silo's collector once unreferenced_since is older than the grace period.

CREATE TABLE huginn_blob
(
    blob_id            text        NOT NULL PRIMARY KEY CHECK (blob_id ~ '^[0-9a-f]{64}$'), -- SHA-256, lowercase hex
    content_id         uuid        NOT NULL UNIQUE,
    length             bigint      NOT NULL CHECK (length > 0),
    chunk_bytes        integer     NOT NULL CHECK (chunk_bytes > 0),
    stored_at          timestamptz NOT NULL,
    -- when it was stored or lost its last reference; NULL while referenced
    unreferenced_since timestamptz
);

CREATE INDEX huginn_blob_unreferenced ON huginn_blob (unreferenced_since) WHERE unreferenced_since IS NOT NULL;

CREATE TABLE huginn_blob_chunk
(
    content_id uuid    NOT NULL,
    seq        integer NOT NULL,
    data       bytea   NOT NULL,
    PRIMARY KEY (content_id, seq)
);

-- Weights and datasets hardly compress: store the chunks out of line without trying.
ALTER TABLE huginn_blob_chunk ALTER COLUMN data SET STORAGE EXTERNAL;

-- A reference may name a blob not stored yet (or any more): it then protects the blob once it is stored.
CREATE TABLE huginn_blob_reference
(
    holder   varchar(200) NOT NULL,
    blob_id  text         NOT NULL,
    added_at timestamptz  NOT NULL,
    PRIMARY KEY (holder, blob_id)
);

CREATE INDEX huginn_blob_reference_blob ON huginn_blob_reference (blob_id);
