-- Everything the server's role (openbureau_app, and any login role that is a member of it) may do,
-- in one place. A repeatable migration: Flyway re-applies it after the versioned ones whenever this
-- file changes, so it may name tables from any migration. It starts from nothing, so a privilege
-- not listed here is not held. A new table needs one line below (db.LeastPrivilegeTest fails,
-- naming the table, when a table or sequence in schema public has no privilege for the role).
-- Read the feature's SQL before granting: UPDATE only where rows are updated (upserts included),
-- never DELETE or TRUNCATE on anything, and nothing beyond INSERT and SELECT on the audit tables.
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM openbureau_app;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM openbureau_app;
REVOKE ALL ON ALL ROUTINES IN SCHEMA public FROM openbureau_app;
REVOKE ALL ON SCHEMA public FROM openbureau_app;
DO $$
BEGIN
  EXECUTE format('REVOKE CREATE, TEMPORARY ON DATABASE %I FROM openbureau_app', current_database());
END $$;
GRANT USAGE ON SCHEMA public TO openbureau_app;                       -- never CREATE: tables come from migrations

-- the audit tables: append and read, nothing else (retention runs as the owner)
GRANT SELECT, INSERT ON access_log TO openbureau_app;                 -- audit.AuditWriter, compliance, inquiry windows
GRANT SELECT, INSERT ON audit_checkpoints TO openbureau_app;          -- compliance.Checkpointer, verify
GRANT SELECT ON audit_anchors TO openbureau_app;                      -- verify (anchors are written by retention)
GRANT SELECT, INSERT ON audit_chain_ends TO openbureau_app;           -- compliance.ChainCloser (signed chain ends), verify
GRANT SELECT, INSERT ON maintenance_log TO openbureau_app;
GRANT EXECUTE ON FUNCTION audit_ensure_partitions(integer, integer) TO openbureau_app;  -- Bureau, periodic

-- the features' tables (no DELETE anywhere: history is kept)
GRANT SELECT, INSERT, UPDATE ON members TO openbureau_app;            -- members.MemberRepository (status changes, published_version)
GRANT SELECT, INSERT, UPDATE ON tradelines TO openbureau_app;         -- furnishing upserts
GRANT SELECT, INSERT, UPDATE ON repayments TO openbureau_app;         -- furnishing upserts
GRANT SELECT, INSERT, UPDATE ON scores TO openbureau_app;             -- scoring.ScoreStore upserts, publication marks (V9)
GRANT SELECT, INSERT, UPDATE ON consents TO openbureau_app;           -- consent grant, supersede, revoke, published (V8)
GRANT SELECT, INSERT, UPDATE ON protections TO openbureau_app;        -- rights.ProtectionRepository: freeze, fraud alert (V14)
GRANT SELECT, INSERT, UPDATE ON disputes TO openbureau_app;           -- disputes.DisputeRepository: open, resolve, overdue (V12)
GRANT SELECT, INSERT, UPDATE ON member_contributions TO openbureau_app;  -- reciprocity: last accepted furnishing (V13)
GRANT SELECT, INSERT ON notifications TO openbureau_app;              -- notifications.NotificationRepository: followers, inbox (V15)
GRANT SELECT, UPDATE ON notification_cursors TO openbureau_app;       -- notifications.NotificationRepository: follower positions (V15)
GRANT SELECT, INSERT, UPDATE ON member_webhooks TO openbureau_app;    -- notifications.WebhookRoutes: put, delete (a wiped row) (V15)
GRANT SELECT, INSERT, UPDATE ON webhook_deliveries TO openbureau_app; -- notifications.DeliveryVerticle: leases, outcomes (V15)
-- the one exception to "no DELETE": negative data is deleted after ageing.negativeDataYears (条例 Art 16)
GRANT DELETE ON repayments TO openbureau_app;                         -- ageing.AgeingRepository: aged late periods
GRANT DELETE ON tradelines TO openbureau_app;                         -- ageing.AgeingRepository: aged DEFAULTED/WRITTEN_OFF accounts

-- sequences: nextval only (USAGE); no setval (UPDATE), which could make ids or versions repeat
GRANT USAGE ON SEQUENCE access_log_id_seq TO openbureau_app;
GRANT USAGE ON SEQUENCE audit_checkpoints_id_seq TO openbureau_app;
GRANT USAGE ON SEQUENCE maintenance_log_id_seq TO openbureau_app;
GRANT USAGE ON SEQUENCE score_version_seq TO openbureau_app;
GRANT USAGE ON SEQUENCE consent_version_seq TO openbureau_app;
GRANT USAGE ON SEQUENCE protection_version_seq TO openbureau_app;
GRANT USAGE ON SEQUENCE negative_event_seq TO openbureau_app;         -- V15 triggers on tradelines, repayments (furnishing's transactions)
GRANT USAGE ON SEQUENCE notifications_id_seq TO openbureau_app;
GRANT USAGE ON SEQUENCE webhook_deliveries_id_seq TO openbureau_app;
