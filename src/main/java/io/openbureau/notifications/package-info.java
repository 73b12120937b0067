/**
 * Notifications and webhooks (issue 14, API.md "Notifications (v1.1)").
 *
 * <h2>One source of events</h2>
 * Nothing on the inquiry path (or any other request path) writes anything more: every
 * notification is derived from rows the bureau already records durably, by {@link
 * io.openbureau.notifications.Followers} ({@link io.openbureau.notifications.FollowerVerticle}, one
 * per process, its own pool of 1 connection, one transaction per pass over every source):
 * <ul>
 *   <li>the access log: INQUIRY rows GRANTED or DENIED (HARD or SOFT, from the purpose) → INQUIRY;
 *   FREEZE / FREEZE_LIFTED → FREEZE; FRAUD_ALERT_SET / FRAUD_ALERT_ENDED → FRAUD_ALERT;
 *   DISPUTE_OPENED / DISPUTE_RESOLVED / DISPUTE_OVERDUE → DISPUTE (and, for the member,
 *   DISPUTE_OPENED / DISPUTE_OVERDUE). INVALID inquiries (no person) and reads by the person or by
 *   compliance are not told;</li>
 *   <li>consents: a grant (by {@code granted_seq}, the version the row was inserted with, set by a
 *   V15 trigger and never changed, so a grant revoked before the follower looked is still told), a
 *   revocation (by {@code version} of REVOKED rows; a consent superseded by a new grant is told as
 *   that grant) → CONSENT (and CONSENT_REVOKED for the member); a consent ending within 7 days,
 *   by a periodic scan, once per ACTIVE consent version;</li>
 *   <li>negative data: V15 triggers give a tradeline a fresh {@code negative_seq} when its status
 *   turns DEFAULTED or WRITTEN_OFF, and a repayment period a fresh {@code late_seq} when it turns
 *   late (days past due from 0, or new, to more than 0) → NEGATIVE_DATA. Furnishing code is
 *   unchanged. One row keeps only its latest turn: a tradeline that turns DEFAULTED and then
 *   WRITTEN_OFF within one poll is told once, as WRITTEN_OFF.</li>
 * </ul>
 * Every notification has a UNIQUE {@code (source, source_id)}: the access-log id, the consent
 * version, the negative_event_seq value; the insert is {@code ON CONFLICT DO NOTHING}. A
 * notification and its deliveries are written by one statement (a data-modifying CTE over arrays:
 * the deliveries join the notifications it inserted, and a body gets its notification's id there),
 * so a pass costs the database one scan, one insert and one cursor update per source, whatever the
 * number of events, and batches are large ({@code notifications.batchSize}, 2000): under load the
 * passes run back to back with full batches, idle one pass per {@code notifications.pollMillis}.
 *
 * <h2>The access log: each row read once, up to a settled horizon</h2>
 * Access-log ids come in blocks per writer (audit.idBlockSize), so id 5 may commit after id 1005
 * and a reserved id may never be used (its writer died): a cursor strictly by id would wait on gaps
 * that never close, or pass them and lose a late row. Time bounds the gap instead: a writer's row
 * carries the {@code at} of its batch, and the database itself refuses the batch's COMMIT once its
 * clock is past the batch's deadline (AuditWriter's commit check, at most
 * {@code audit.commitTimeoutMillis} after {@code at}). So once the database's clock is
 * {@code notifications.accessLogSettleMillis} (validated to exceed the commit timeout; default it
 * plus 1 s, the rest covers clock skew between an instance and the database) past a time, no row at
 * or before it can still appear. The cursor is a position {@code (safe_at, safe_pos)} in
 * {@code (at, id)} order; each pass reads the rows after it and at or before the horizon
 * {@code clock_timestamp() - settle}, in that order, up to a batch, and moves the cursor to the last
 * row read (a full batch) or to the horizon. Every row is read exactly once: no overlap re-read, no
 * {@code NOT EXISTS} probe of what is done (issue 14's first cut re-read a 10 s overlap every pass,
 * 60,000 rows a second at 6,000 inquiries/s, and that is what slowed inquiries). The price is
 * latency: an access-log event reaches the inbox about settle + one poll after it (3 to 4 s with the
 * defaults; the contract says 5 s). When the horizon has not moved past the cursor, the pass writes
 * nothing.
 *
 * <h2>The other sources: a sequence value and a snapshot horizon</h2>
 * The other sources follow a sequence value drawn inside the writing transaction, which may
 * commit after a transaction that drew a higher value. Each pass reads everything above the
 * durable {@code safe_pos} (cheap: NOT EXISTS skips what is done), and {@code safe_pos} only moves
 * up to a mark once no transaction can still commit a value at or below it: the mark is the
 * highest value visible at one pass; the next pass stores as its horizon that pass' snapshot
 * {@code xmax}; once a later pass' snapshot {@code xmin} is at or past the horizon, every
 * transaction that drew a value at or below the mark has ended (it drew it before the mark's row
 * committed, and had its transaction id by the horizon, one poll later), and the pass that sees
 * this has scanned everything above {@code safe_pos} with that snapshot or a later one. A long
 * transaction anywhere in the cluster only holds {@code safe_pos} back (more is re-read), it never
 * delays a notification. The honest residue: a transaction that drew its value and then got no
 * transaction id for a whole poll (the trigger runs inside the very row write, so this takes a
 * stalled backend between two steps of one statement) could commit below a safe_pos that moved.
 *
 * <h2>kill -9, step by step</h2>
 * A follower pass is one transaction over every source: per source, lock the cursor row ({@code FOR
 * UPDATE SKIP LOCKED}: two instances never follow one source at once, the second skips it this
 * pass), scan, insert the notifications and their deliveries (one statement), move the cursor; then
 * commit. Killed before the commit: nothing of it happened; the next pass (any instance) reads the
 * same rows again from the same cursor, nothing is lost. Killed after: everything happened
 * together, cursor included, so nothing is read again (and the unique key would make a re-read
 * insert nothing). A notification and its deliveries are therefore never apart, and no event is
 * told twice or under two ids. The follower's commits are ordinary synchronous commits: a commit
 * or two a second under load costs the access-log group commits nothing measurable, and an
 * asynchronous one would let a Postgres crash lose a notification that the inbox had already shown
 * and re-derive it under a new id (deliveries would be safe: the claim that precedes a POST commits
 * synchronously later in the WAL, which flushes the follower's commit first).

 * <p>Delivery ({@link io.openbureau.notifications.DeliveryVerticle}): a delivery row is taken by an
 * UPDATE over {@code SELECT ... FOR UPDATE SKIP LOCKED} that sets {@code lease_until} (longer than
 * two request timeouts) and a fresh {@code lease_owner}, and counts the attempt; the POST follows;
 * the outcome (delivered, or the next attempt's time with backoff) is written only where
 * {@code lease_owner} is still ours. Killed before the claim commits: untaken. Killed during the
 * POST or before the outcome is written: the lease runs out and a later claim (this instance
 * restarted, or another) sends it again, with the same body and the same {@code id}: at least
 * once, never twice under two ids, and never by two senders at once (a second claim waits for the
 * lease). The receiver deduplicates by {@code id}. Per person (for the gateway) and per member,
 * a delivery is taken only when every earlier one is delivered or dropped, so a receiver failing
 * for a while and recovering gets them in order of creation. A freed slot takes the next due
 * delivery at once (not at the next poll); the backlog gauges are counted every 10 s. Outcomes
 * (delivered, failed, dropped) commit asynchronously ({@code synchronous_commit = off} on their own
 * connection: no fsync next to the access log's): a Postgres crash may lose the last few, which
 * leaves those deliveries leased as claimed (claims commit synchronously, before the POST), so they
 * are sent again once the lease runs out, same id, one sender; and since the WAL is replayed as a
 * prefix, a later delivery's surviving claim means every earlier outcome survived (order holds).
 *
 * <p>Member webhooks are checked at PUT and again at every delivery ({@link
 * io.openbureau.notifications.TargetGuard#target}): the host is resolved anew, every address must
 * pass the PUT's rules, and the request connects to the checked address (the HTTP client resolves
 * nothing) with the URL's host as Host header and TLS SNI (certificates are verified against it). A
 * name re-pointed at a loopback, link-local, private or metadata address after the PUT (DNS
 * rebinding) makes a failed attempt ({@code last_error} says why), retried with backoff and checked
 * again; it is never called.
 *
 * <h2>Never in the way, privacy</h2>
 * Followers and delivery run on their own verticles and pools; an inquiry never waits for them and
 * a failing receiver only grows {@code bureau.notifications.pending}. What they still share with the
 * inquiry path is the database: per inquiry one notification row and (with a gateway) one delivery
 * row go into the same WAL as the access log's commits, in a few large transactions a second
 * (bench/RESULTS.md has what that costs). Payloads, messages, log
 * lines and metrics carry the borrower key (hex, to the gateway) or nothing about the person; the
 * rows they are derived from hold no national id.
 */
package io.openbureau.notifications;
