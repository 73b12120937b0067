-- Issue 12: inquiry types and purposes (API.md v1.1).
-- Consents may name any of the four purposes.
ALTER TABLE consents DROP CONSTRAINT consents_purpose_check;
ALTER TABLE consents ADD CONSTRAINT consents_purpose_check
  CHECK (purpose IN ('LOAN_ORIGINATION', 'CARD_APPLICATION', 'GUARANTOR_CHECK', 'ACCOUNT_REVIEW'));

-- The lenders with an existing credit relationship to the person (a tradeline OPEN, or not OPEN
-- with a balance above zero), sorted: cached with the score (same version), read by inquiry.lua
-- for ACCOUNT_REVIEW without consent. Computed by ScoreStore.recompute from then on; here for the
-- scores already stored, with a new version so the republisher puts them into Redis.
ALTER TABLE scores ADD COLUMN relationships jsonb NOT NULL DEFAULT '[]';
UPDATE scores s SET relationships = r.ids, version = nextval('score_version_seq')
FROM (SELECT borrower_key, jsonb_agg(DISTINCT member_id ORDER BY member_id) AS ids
      FROM tradelines WHERE status = 'OPEN' OR balance > 0 GROUP BY borrower_key) r
WHERE s.borrower_key = r.borrower_key;
