/**
 * Notifications and webhooks (issue 14, API.md "Notifications (v1.1)").
 *
 * <h2>One source of events</h2>
 * Nothing on the inquiry path (or any other request path) writes anything more: every
 * notification is derived from rows the bureau already records durably, by {@link
 * io.openbureau.notifications.Followers} ({@link io.openbureau.notifications.FollowerVerticle}, one
 * per process, its own pool of 2 connections):
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
 * version, the negative_event_seq value. Each scan selects only rows that make a notification and
 * have none yet ({@code NOT EXISTS} on that key), so a re-read costs an index probe and a LIMIT
 * always makes progress; the insert is {@code ON CONFLICT DO NOTHING} besides.
 *
 * <h2>Rows committed out of order</h2>
 * Access-log ids come in blocks per writer (audit.idBlockSize), so id 5 may commit after id 1005:
 * the access log is followed by {@code at}, not by id. The writer refuses a commit later than the
 * batch's deadline, at most {@code audit.commitTimeoutMillis} after the batch's {@code at}, so a
 * row is visible at most that long after its time. The cursor keeps the newest {@code at} seen
 * ({@code safe_at}) and each pass reads {@code at > safe_at - notifications.accessLogOverlapMillis}
 * (validated to exceed the commit timeout; the rest of it covers clock skew between instances).
 *
 * <p>The other sources follow a sequence value drawn inside the writing transaction, which may
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
 * A follower pass is, per source, one transaction: lock the cursor row ({@code FOR UPDATE SKIP
 * LOCKED}: two instances never follow one source at once, the second skips the pass), scan, insert
 * the notifications, insert their deliveries, move the cursor, commit. Killed before the commit:
 * nothing of it happened; the next pass (any instance) scans the same rows again, nothing is lost.
 * Killed after: everything happened together; the unique key makes any re-read insert nothing.
 * A notification and its deliveries are therefore never apart.
 *
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
 * for a while and recovering gets them in order of creation.
 *
 * <h2>Never in the way, privacy</h2>
 * Followers and delivery run on their own verticles and pools; an inquiry never waits for them and
 * a failing receiver only grows {@code bureau.notifications.pending}. Payloads, messages, log
 * lines and metrics carry the borrower key (hex, to the gateway) or nothing about the person; the
 * rows they are derived from hold no national id.
 */
package io.openbureau.notifications;
