INSERT INTO al (id, at, chain_id, chain_seq, action, actor_role, actor_id, lender_id, borrower_key, purpose,
  scope, decision, reason, consent_id, request_id, score_value, details_json, details, prev_hash, row_hash, hash_version)
SELECT nextval('al_id_seq'), clock_timestamp(), 'bench-chain-' || :client_id, nextval('al_seq'), 'INQUIRY', 'lender',
  'lender-' || (random() * 50)::int, 'lender-' || (random() * 50)::int, sha256(random()::text::bytea),
  'LOAN_ORIGINATION', 'SCORE', 'GRANTED', NULL, gen_random_uuid(), md5(random()::text), 650,
  '{"fields":["nationalId","purpose"]}'::json, '{"fields":["nationalId","purpose"]}'::jsonb,
  sha256(random()::text::bytea), sha256(random()::text::bytea), 3
FROM generate_series(1, 32);
