-- Notifications and webhooks (issue 14, API.md "Notifications (v1.1)"). Every notification is
-- derived from what is already recorded durably (the access log, consents, tradelines, repayments)
-- by followers (notifications.Followers): the hot paths write nothing more. The design, and what
-- a crash at each step does, is in notifications/package-info.java.

-- What a person is told. (source, source_id) is the event it was derived from: a follower that
-- replays after a crash inserts nothing twice.
CREATE TABLE notifications (
  id           bigserial PRIMARY KEY,
  borrower_key bytea NOT NULL CHECK (length(borrower_key) = 32),
  kind         text NOT NULL CHECK (kind IN ('INQUIRY', 'NEGATIVE_DATA', 'CONSENT', 'FREEZE', 'FRAUD_ALERT', 'DISPUTE')),
  at           timestamptz NOT NULL,
  message      text NOT NULL,
  lender_id    text,
  details      jsonb NOT NULL DEFAULT '{}',
  source       text NOT NULL,
  source_id    bigint NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (source, source_id)
);
CREATE INDEX notifications_inbox ON notifications (borrower_key, id DESC);

-- One durable position per followed source. safe_pos: every event at or below it is derived (a
-- sequence-followed source); safe_at: the access log is followed by time, re-read from
-- safe_at - notifications.accessLogOverlapMillis. mark_pos/mark_xmax: the horizon that lets
-- safe_pos move (see package-info).
CREATE TABLE notification_cursors (
  source     text PRIMARY KEY,
  safe_pos   bigint NOT NULL DEFAULT 0,
  safe_at    timestamptz,
  mark_pos   bigint,
  mark_xmax  bigint,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- consents: the version a consent was granted at, kept for ever (a revocation takes a new version,
-- so a grant revoked before the follower looked would otherwise be lost)
ALTER TABLE consents ADD COLUMN granted_seq bigint;
CREATE FUNCTION notifications_consent_granted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.granted_seq := NEW.version;
  RETURN NEW;
END $$;
CREATE TRIGGER consents_granted_seq BEFORE INSERT ON consents
  FOR EACH ROW EXECUTE FUNCTION notifications_consent_granted();
CREATE INDEX consents_granted_seq ON consents (granted_seq) WHERE granted_seq IS NOT NULL;
CREATE INDEX consents_revoked_version ON consents (version) WHERE status = 'REVOKED';
CREATE INDEX consents_active_expiry ON consents (expires_at) WHERE status = 'ACTIVE';

-- negative data: the moment a status turns DEFAULTED or WRITTEN_OFF, or a period turns late,
-- takes a fresh value of one sequence (furnishing code is unchanged: the triggers do it)
CREATE SEQUENCE negative_event_seq;
ALTER TABLE tradelines ADD COLUMN negative_seq bigint;
ALTER TABLE repayments ADD COLUMN late_seq bigint;
CREATE FUNCTION notifications_tradeline_turn() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status IN ('DEFAULTED', 'WRITTEN_OFF') AND (TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM NEW.status) THEN
    NEW.negative_seq := nextval('negative_event_seq');
  ELSIF TG_OP = 'UPDATE' THEN
    NEW.negative_seq := OLD.negative_seq;
  ELSE
    NEW.negative_seq := NULL;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER tradelines_negative_seq BEFORE INSERT OR UPDATE ON tradelines
  FOR EACH ROW EXECUTE FUNCTION notifications_tradeline_turn();
CREATE FUNCTION notifications_repayment_turn() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.days_past_due > 0 AND (TG_OP = 'INSERT' OR OLD.days_past_due = 0) THEN
    NEW.late_seq := nextval('negative_event_seq');
  ELSIF TG_OP = 'UPDATE' THEN
    NEW.late_seq := OLD.late_seq;
  ELSE
    NEW.late_seq := NULL;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER repayments_late_seq BEFORE INSERT OR UPDATE ON repayments
  FOR EACH ROW EXECUTE FUNCTION notifications_repayment_turn();
CREATE INDEX tradelines_negative_seq ON tradelines (negative_seq) WHERE negative_seq IS NOT NULL;
CREATE INDEX repayments_late_seq ON repayments (late_seq) WHERE late_seq IS NOT NULL;

-- history before this migration is not announced: every follower starts at the present
INSERT INTO notification_cursors (source, safe_pos, safe_at) VALUES
  ('access_log', 0, now()),
  ('consent_granted', (SELECT coalesce(max(version), 0) FROM consents), NULL),
  ('consent_revoked', (SELECT coalesce(max(version), 0) FROM consents), NULL),
  ('negative_tradeline', 0, NULL),
  ('late_repayment', 0, NULL);

-- A member's own webhook (role lender). The secret is kept to sign with (HMAC needs it); a
-- DELETE keeps the row (no DELETE anywhere) with the secret wiped and deleted_at set.
CREATE TABLE member_webhooks (
  member_id  text PRIMARY KEY REFERENCES members (id),
  url        text NOT NULL CHECK (length(url) <= 2048),
  secret     text NOT NULL,
  deleted_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK (deleted_at IS NOT NULL OR length(secret) BETWEEN 32 AND 512)
);

-- Outbound deliveries, derived in the same transaction as their notification. member_id null:
-- the bureau's own gateway (notifications.webhook.url); else that member's webhook. body is fixed
-- at creation: every retry sends the same bytes, the same id. A delivery is taken with a lease
-- (lease_until, lease_owner) under FOR UPDATE SKIP LOCKED: one sender at a time across instances.
CREATE TABLE webhook_deliveries (
  id              bigserial PRIMARY KEY,
  member_id       text,
  notification_id bigint NOT NULL REFERENCES notifications (id),
  ordering_key    text NOT NULL,
  body            text NOT NULL,
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  lease_until     timestamptz,
  lease_owner     uuid,
  delivered_at    timestamptz,
  dropped_at      timestamptz,
  last_error      text,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX webhook_deliveries_once ON webhook_deliveries (coalesce(member_id, ''), notification_id);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, id)
  WHERE delivered_at IS NULL AND dropped_at IS NULL;
CREATE INDEX webhook_deliveries_order ON webhook_deliveries (coalesce(member_id, ''), ordering_key, id)
  WHERE delivered_at IS NULL AND dropped_at IS NULL;
