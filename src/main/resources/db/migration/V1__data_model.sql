-- OpenBureau data model. Postgres is the system of record; Redis only ever holds data derived
-- from these tables. A person is never stored by national id: everywhere a borrower appears it is
-- by borrower_key = HMAC-SHA-256(secret, normalized national id), with the secret's key id beside it.

CREATE TABLE members (
  id             text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9._-]{1,62}$'),
  name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  status         text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'SUSPENDED')),
  -- bumped on every status change; the Redis copy is only ever replaced by a higher version
  status_version bigint NOT NULL DEFAULT 1,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Loan accounts reported by a member. (member_id, account_ref) is the account: the same
-- account_ref from two members is two accounts.
CREATE TABLE tradelines (
  member_id      text NOT NULL REFERENCES members (id),
  account_ref    text NOT NULL CHECK (length(account_ref) BETWEEN 1 AND 64),
  borrower_key   bytea NOT NULL CHECK (length(borrower_key) = 32),
  key_id         text NOT NULL,
  product_type   text NOT NULL CHECK (product_type IN
                   ('CONSUMER_LOAN', 'CREDIT_CARD', 'MORTGAGE', 'AUTO_LOAN', 'MICRO_LOAN', 'BNPL')),
  opened_at      date NOT NULL,
  principal      numeric(18, 2) NOT NULL CHECK (principal >= 0),
  credit_limit   numeric(18, 2) CHECK (credit_limit >= 0),
  currency       char(3) NOT NULL DEFAULT 'CNY',
  term_months    integer CHECK (term_months BETWEEN 1 AND 600),
  status         text NOT NULL CHECK (status IN ('OPEN', 'CLOSED', 'DEFAULTED', 'WRITTEN_OFF')),
  balance        numeric(18, 2) NOT NULL CHECK (balance >= 0),
  days_past_due  integer NOT NULL CHECK (days_past_due BETWEEN 0 AND 3650),
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (member_id, account_ref)
);
CREATE INDEX tradelines_borrower ON tradelines (borrower_key);

-- Monthly repayment history of an account; the same period reported twice replaces it.
CREATE TABLE repayments (
  member_id      text NOT NULL,
  account_ref    text NOT NULL,
  period         char(7) NOT NULL CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
  amount_due     numeric(18, 2) NOT NULL CHECK (amount_due >= 0),
  amount_paid    numeric(18, 2) NOT NULL CHECK (amount_paid >= 0),
  days_past_due  integer NOT NULL CHECK (days_past_due BETWEEN 0 AND 3650),
  reported_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (member_id, account_ref, period),
  FOREIGN KEY (member_id, account_ref) REFERENCES tradelines (member_id, account_ref)
);

-- The current score and aggregates of each person, recomputed on every accepted change.
-- version only grows; the Redis copy is replaced only by a higher version.
CREATE TABLE scores (
  borrower_key        bytea PRIMARY KEY,
  value               integer CHECK (value BETWEEN 300 AND 850),
  band                text,
  reasons             jsonb NOT NULL DEFAULT '[]',
  model_version       text NOT NULL,
  as_of               timestamptz NOT NULL,
  active_loans        integer NOT NULL DEFAULT 0,
  outstanding_balance numeric(18, 2) NOT NULL DEFAULT 0,
  max_current_dpd     integer NOT NULL DEFAULT 0,
  version             bigint NOT NULL
);
CREATE SEQUENCE score_version_seq;

-- Consent of a person for one lender and one purpose. History is never deleted; EXPIRED is
-- derived from expires_at, so only ACTIVE and REVOKED are stored.
CREATE TABLE consents (
  id                uuid PRIMARY KEY,
  borrower_key      bytea NOT NULL,
  key_id            text NOT NULL,
  lender_id         text NOT NULL REFERENCES members (id),
  purpose           text NOT NULL CHECK (purpose IN ('LOAN_ORIGINATION', 'ACCOUNT_REVIEW')),
  scope             text NOT NULL CHECK (scope IN ('SCORE', 'REPORT')),
  status            text NOT NULL CHECK (status IN ('ACTIVE', 'REVOKED')),
  granted_at        timestamptz NOT NULL,
  expires_at        timestamptz NOT NULL,
  revoked_at        timestamptz,
  revoked_by        text,
  revocation_reason text,
  receipt           text,
  -- from consent_version_seq on every change; orders cache writes (see consent.ConsentCache)
  version           bigint NOT NULL,
  CHECK (expires_at > granted_at),
  CHECK ((status = 'REVOKED') = (revoked_at IS NOT NULL))
);
CREATE SEQUENCE consent_version_seq;
CREATE UNIQUE INDEX consents_one_active ON consents (borrower_key, lender_id, purpose) WHERE status = 'ACTIVE';
CREATE INDEX consents_by_person ON consents (borrower_key, granted_at DESC, id);

-- The access log: every inquiry (granted or denied), every read a person or a compliance officer
-- makes. Append-only (see V2), partitioned by month, tamper-evident: each row carries a hash
-- chained to the previous row of the same chain (one chain per writer, ordered by chain_seq).
CREATE TABLE access_log (
  id           bigint NOT NULL,
  at           timestamptz NOT NULL,
  chain_id     text NOT NULL,
  chain_seq    bigint NOT NULL,
  action       text NOT NULL,          -- INQUIRY, SELF_REPORT, SELF_INQUIRIES, COMPLIANCE_READ, ...
  actor_role   text NOT NULL,          -- lender, borrower, compliance, admin
  actor_id     text,                   -- member id or officer id; never a national id
  lender_id    text,
  borrower_key bytea,
  purpose      text,
  scope        text,
  decision     text NOT NULL,          -- GRANTED, DENIED, INVALID
  reason       text,
  consent_id   uuid,
  request_id   text,
  score_value  integer,
  details      jsonb,
  prev_hash    bytea NOT NULL,
  row_hash     bytea NOT NULL,
  PRIMARY KEY (id, at)
) PARTITION BY RANGE (at);
CREATE SEQUENCE access_log_id_seq CACHE 100;
CREATE INDEX access_log_borrower ON access_log (borrower_key, at DESC, id DESC);
CREATE INDEX access_log_lender ON access_log (lender_id, at DESC, id DESC);
CREATE INDEX access_log_at ON access_log (at DESC, id DESC);
CREATE INDEX access_log_chain ON access_log (chain_id, chain_seq);

-- Partitions: one a month. audit_ensure_partitions() creates the ones around now; start-up calls it.
CREATE FUNCTION audit_ensure_partitions(months_back integer, months_ahead integer) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  m date;
  name text;
BEGIN
  FOR i IN -months_back..months_ahead LOOP
    m := (date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => i))::date;
    name := 'access_log_' || to_char(m, 'YYYY_MM');
    IF to_regclass(name) IS NULL THEN
      EXECUTE format('CREATE TABLE %I PARTITION OF access_log FOR VALUES FROM (%L) TO (%L)',
        name, m::timestamp AT TIME ZONE 'UTC', (m + interval '1 month')::timestamp AT TIME ZONE 'UTC');
    END IF;
  END LOOP;
END $$;
SELECT audit_ensure_partitions(24, 3);

-- Signed checkpoints of each chain's head, so an outsider can hold the bureau to its history.
CREATE TABLE audit_checkpoints (
  id          bigserial PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT now(),
  chain_id    text NOT NULL,
  chain_seq   bigint NOT NULL,
  head_hash   bytea NOT NULL,
  signature   text NOT NULL,
  UNIQUE (chain_id, chain_seq)
);

-- Maintenance actions (partition drops for retention and the like) are themselves recorded.
CREATE TABLE maintenance_log (
  id      bigserial PRIMARY KEY,
  at      timestamptz NOT NULL DEFAULT now(),
  action  text NOT NULL,
  details jsonb NOT NULL
);
