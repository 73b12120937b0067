-- Negative data ageing (issue 13, API.md "Negative data ageing (v1.1)", 征信业管理条例 Art 16) and
-- give to get ("Give to get (v1.1)").
--
-- closed_at: the day the account ended (repaid, closed, or charged off), optional, never before
-- opened_at. It ends every late period of the account still open, and a DEFAULTED or WRITTEN_OFF
-- account's negative state: ageing.NegativeDataAgeing deletes what ended more than
-- ageing.negativeDataYears ago.
ALTER TABLE tradelines ADD COLUMN closed_at date;
ALTER TABLE tradelines ADD CONSTRAINT tradelines_closed_after_opened CHECK (closed_at IS NULL OR closed_at >= opened_at);

-- The ageing pass's work lists, kept small by construction: only late periods and closed accounts
-- with something negative on them are indexed; in (member_id, account_ref) order so a pass walks
-- them in batches from a cursor.
CREATE INDEX repayments_late ON repayments (member_id, account_ref, period) WHERE days_past_due > 0;
CREATE INDEX tradelines_closed_negative ON tradelines (member_id, account_ref)
  WHERE closed_at IS NOT NULL AND (status IN ('DEFAULTED', 'WRITTEN_OFF') OR days_past_due > 0);

-- The daily pass looks up its last run here (one row per run and a row per batch that deleted).
CREATE INDEX maintenance_log_action ON maintenance_log (action, at DESC);

-- Give to get: when each member last had furnishing accepted (written by furnishing at most once an
-- hour per member and instance; read by reciprocity.Contributions). A separate table, so the write
-- never waits on, or holds, the members row that status changes lock.
CREATE TABLE member_contributions (
  member_id        text PRIMARY KEY REFERENCES members (id),
  last_accepted_at timestamptz NOT NULL
);
