-- Disputes (issue 13, API.md "Disputes (v1.1)"): a person contests one tradeline (period IS NULL)
-- or one repayment period of it, with their own statement; the furnisher answers by dueBy.
-- No foreign key to tradelines: a dispute is history and outlives the data it was about (ageing
-- may delete periods). The person appears only as borrower_key, never a national id.
--
-- What a dispute does to the data, read by report.ReportReader and scoring.ScoreStore:
--   status OVERDUE          the tradeline (or period) is left out of the score and figures, still shown, marked;
--   outcome DELETED         the tradeline (or period) is left out of every report and of the score, for good
--                           (a later re-furnishing does not bring it back: the furnisher said it was wrong).
CREATE TABLE disputes (
  id             uuid PRIMARY KEY,
  borrower_key   bytea NOT NULL CHECK (length(borrower_key) = 32),
  key_id         text NOT NULL,
  member_id      text NOT NULL REFERENCES members (id),
  account_ref    text NOT NULL CHECK (length(account_ref) BETWEEN 1 AND 64),
  period         text CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
  reason         text NOT NULL CHECK (reason IN
                   ('NOT_MINE', 'WRONG_BALANCE', 'WRONG_STATUS', 'WRONG_DELINQUENCY', 'ALREADY_PAID', 'OTHER')),
  statement      text NOT NULL CHECK (length(statement) BETWEEN 1 AND 1000),
  status         text NOT NULL CHECK (status IN ('OPEN', 'OVERDUE', 'RESOLVED')),
  opened_at      timestamptz NOT NULL,
  due_by         timestamptz NOT NULL,
  overdue_at     timestamptz,
  -- false from the moment it turns overdue until its access-log row is written (a crash in between
  -- leaves it false, and the next overdue pass writes the row)
  overdue_logged boolean NOT NULL DEFAULT true,
  outcome        text CHECK (outcome IN ('VERIFIED', 'CORRECTED', 'DELETED')),
  note           text CHECK (length(note) BETWEEN 1 AND 1000),
  resolved_at    timestamptz,
  CHECK (due_by > opened_at),
  CHECK ((status = 'RESOLVED') = (resolved_at IS NOT NULL)),
  CHECK ((status = 'RESOLVED') = (outcome IS NOT NULL)),
  CHECK ((status = 'RESOLVED') = (note IS NOT NULL)),
  CHECK ((status = 'OVERDUE') <= (overdue_at IS NOT NULL))
);
-- one unresolved dispute per account and period (a second is 409 dispute_open)
CREATE UNIQUE INDEX disputes_one_unresolved ON disputes (member_id, account_ref, coalesce(period, ''))
  WHERE status IN ('OPEN', 'OVERDUE');
CREATE INDEX disputes_by_person ON disputes (borrower_key, opened_at DESC, id DESC);
CREATE INDEX disputes_by_account ON disputes (member_id, account_ref, period);
CREATE INDEX disputes_by_member_due ON disputes (member_id, due_by, id);
CREATE INDEX disputes_by_due ON disputes (due_by, id);
-- the overdue pass's work: normally small
CREATE INDEX disputes_open_due ON disputes (due_by) WHERE status = 'OPEN';
CREATE INDEX disputes_overdue_unlogged ON disputes (overdue_at) WHERE NOT overdue_logged;
-- what the score leaves out: normally empty or nearly, so the reads' NOT EXISTS costs nothing
CREATE INDEX disputes_hiding ON disputes (member_id, account_ref, period) WHERE status = 'OVERDUE' OR outcome = 'DELETED';
