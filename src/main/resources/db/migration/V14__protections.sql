-- A person's own protections of their file (API.md "Freeze and fraud alert", rights.Protections):
-- a freeze (with an optional temporary lift) and a fraud alert. One row per person, created by their
-- first change, never deleted (a lifted freeze or an ended alert is a row with nulls). Every change
-- takes a fresh version; published_version < version is the durable record that the cache
-- (Redis, read by the inquiry script) has not been told yet: cache.CacheRepair publishes it.
CREATE SEQUENCE protection_version_seq;
CREATE TABLE protections (
  borrower_key      bytea PRIMARY KEY,
  key_id            text NOT NULL,
  frozen_since      timestamptz,            -- null: not frozen
  lifted_until      timestamptz,            -- a temporary lift: not frozen before it, frozen again after it
  fraud_since       timestamptz,
  fraud_until       timestamptz,            -- the fraud alert lasts while now < fraud_until
  version           bigint NOT NULL,
  published_version bigint NOT NULL DEFAULT 0,
  updated_at        timestamptz NOT NULL DEFAULT now(),
  CHECK (lifted_until IS NULL OR frozen_since IS NOT NULL),
  CHECK ((fraud_since IS NULL) = (fraud_until IS NULL))
);
CREATE INDEX protections_unpublished ON protections (borrower_key) WHERE published_version < version;
