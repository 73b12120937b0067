-- What the Redis cache has not been told yet (consent.ConsentDecisions, members.MemberStatus,
-- cache.CacheRepair). Written in the same transaction as the change; a row stays "to publish" until
-- the cache holds a version at least as new, then it is marked done. The repair loop of every
-- instance finds the ones still to publish through the partial indexes below (empty when all is well).

-- consents: every change (grant, supersede, revoke) sets published = false on the rows it writes;
-- the slot (person, lender, purpose) is to publish while one of its rows is unpublished
ALTER TABLE consents ADD COLUMN published boolean NOT NULL DEFAULT true;
-- existing rows count as published; a row written later by anything but ConsentRepository (a demo
-- seed, an operator's INSERT) is to publish unless it says otherwise
ALTER TABLE consents ALTER COLUMN published SET DEFAULT false;
CREATE INDEX consents_unpublished ON consents (borrower_key, lender_id, purpose) WHERE NOT published;
-- before this release a revocation that could not be published was only repaired by a retry:
-- republish every slot holding a revocation once (idempotent: the cache keeps the highest version).
-- Only unexpired ones: a cached grant carries its expiry, so one past it never allows anyway.
UPDATE consents SET published = false WHERE status = 'REVOKED' AND expires_at > now();

-- members: the status version the cache is known to hold; to publish while below status_version
-- (0 for every existing member: each is republished once after the upgrade)
ALTER TABLE members ADD COLUMN published_version bigint NOT NULL DEFAULT 0;
CREATE INDEX members_unpublished ON members (id) WHERE published_version < status_version;
