-- Scores committed in Postgres always reach the cache (issue 11): published_version is the highest
-- version of the row known to be in Redis. It is raised only after the Redis write succeeded, so a
-- row with published_version < version is a score a crash or a failed publish may have left out of
-- the cache; scoring.ScoreRepublisher replays those (the versioned compare-and-set in Redis makes a
-- replay harmless) until it holds. Existing rows start at 0: republished once after the upgrade.
ALTER TABLE scores ADD COLUMN published_version bigint NOT NULL DEFAULT 0;
-- only the unpublished rows: normally empty, so the repair loop's scan costs nothing
CREATE INDEX scores_unpublished ON scores (borrower_key) WHERE published_version < version;
