package io.openbureau.notifications;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * One pass over every source (see package-info for why each step is safe to kill): one
 * transaction, each source's cursor row locked (SKIP LOCKED: a source another instance is
 * following is skipped this pass), its rows scanned, its notifications and their deliveries
 * inserted by one statement, its cursor moved. Answers whether some source had a full batch.
 */
final class Followers {
  private final Pool pool;
  private final NotificationSettings settings;

  /** A source followed by a sequence value: its scan ($1 = position, $2 = limit), its max, its mapping. */
  private record SeqSource(String name, String scan, String max, Function<Row, Derived> derive) {
  }

  private static final List<SeqSource> SEQ_SOURCES = List.of(
    new SeqSource(NotificationRepository.CONSENT_GRANTED, NotificationRepository.SCAN_CONSENT_GRANTED,
      NotificationRepository.MAX_CONSENT_GRANTED, Messages::consentGranted),
    new SeqSource(NotificationRepository.CONSENT_REVOKED, NotificationRepository.SCAN_CONSENT_REVOKED,
      NotificationRepository.MAX_CONSENT_REVOKED, Messages::consentRevoked),
    new SeqSource(NotificationRepository.NEGATIVE_TRADELINE, NotificationRepository.SCAN_NEGATIVE_TRADELINE,
      NotificationRepository.MAX_NEGATIVE_TRADELINE, Messages::negativeTradeline),
    new SeqSource(NotificationRepository.LATE_REPAYMENT, NotificationRepository.SCAN_LATE_REPAYMENT,
      NotificationRepository.MAX_LATE_REPAYMENT, Messages::lateRepayment));

  Followers(Pool pool, NotificationSettings settings) {
    this.pool = pool;
    this.settings = settings;
  }

  /**
   * Every source once, in one transaction (one commit per pass, whatever the number of sources);
   * true when one of them filled its batch (call again at once).
   */
  Future<Boolean> pass() {
    return pool.withTransaction(tx -> {
      Future<Boolean> chain = accessLog(tx);
      for (SeqSource s : SEQ_SOURCES) {
        chain = chain.compose(more -> sequence(tx, s).map(m -> more || m));
      }
      return chain;
    });
  }

  /**
   * The access log, by {@code (at, id)} up to the settled horizon, each row read once. Ids come in
   * blocks per writer, so a lower id may commit after a higher one, and a reserved id may never be
   * used: an id cursor would wait on gaps that never close. But every row commits within
   * audit.commitTimeoutMillis of its {@code at} (the writer's database-side commit check refuses
   * later), so once the database's clock is {@code notifications.accessLogSettleMillis} past a time,
   * no row at or before it can still appear: the scan reads only rows after the cursor and at or
   * before that horizon, and the cursor moves to the last row read (a full batch) or to the horizon.
   */
  private Future<Boolean> accessLog(SqlClient tx) {
    return NotificationRepository.lock(tx, NotificationRepository.ACCESS_LOG).compose(c -> {
      if (c == null) {
        return Future.succeededFuture(false);
      }
      Instant afterAt = c.safeAt() == null ? Instant.EPOCH : c.safeAt();
      long afterId = c.safePos();
      Instant horizon = c.now().minusMillis(settings.accessLogSettleMillis());
      if (!horizon.isAfter(afterAt)) {
        return Future.succeededFuture(false); // nothing settled since the cursor: no write at all
      }
      return NotificationRepository.scan(tx, NotificationRepository.SCAN_ACCESS_LOG,
          NotificationRepository.accessLogArgs(afterAt, afterId, horizon, settings.batchSize()))
        .compose(rows -> {
          List<Derived> derived = new ArrayList<>(rows.size());
          Instant lastAt = null;
          long lastId = 0;
          for (Row r : rows) {
            derived.add(Messages.fromAccessLog(r));
            lastAt = r.getOffsetDateTime("at").toInstant();
            lastId = r.getLong("id");
          }
          boolean full = rows.size() >= settings.batchSize();
          // a full batch: up to its last row; else everything up to the horizon is read
          Instant savedAt = full ? lastAt : horizon;
          long savedId = full ? lastId : Long.MAX_VALUE;
          return NotificationRepository.store(tx, derived, settings.gateway())
            .compose(n -> NotificationRepository.save(tx, NotificationRepository.ACCESS_LOG, savedId, savedAt, null, null))
            .map(v -> full);
        });
    });
  }

  /**
   * A source followed by a sequence value (consent versions, negative_event_seq). A value is
   * drawn before its transaction commits, so a lower value can commit after a higher one is seen.
   * Every row above {@code safe_pos} is scanned each pass (NOT EXISTS skips what is done); safe_pos
   * moves up to a mark only once every transaction that could still commit a value at or below the
   * mark has ended: the mark is the highest value visible at one pass, its horizon the snapshot's
   * xmax of the next pass, and it is reached when a later snapshot's xmin is past that horizon.
   */
  private Future<Boolean> sequence(SqlClient tx, SeqSource s) {
    return NotificationRepository.lock(tx, s.name()).compose(c -> {
      if (c == null) {
        return Future.succeededFuture(false);
      }
      return NotificationRepository.scan(tx, s.scan(), Tuple.of(c.safePos(), settings.batchSize())).compose(rows -> {
        List<Derived> derived = new ArrayList<>();
        for (Row r : rows) {
          derived.add(s.derive().apply(r));
        }
        boolean full = rows.size() >= settings.batchSize();
        return NotificationRepository.store(tx, derived, settings.gateway()).compose(n -> {
          long safe = c.safePos();
          Long markPos = c.markPos();
          Long markXmax = c.markXmax();
          if (markPos != null && markXmax != null && c.xmin() >= markXmax && !full) {
            safe = Math.max(safe, markPos); // every value <= markPos is committed (or never will be) and scanned
            markPos = null;
            markXmax = null;
          } else if (markPos != null && markXmax == null) {
            markXmax = c.xmax(); // the horizon, one pass after the mark (see package-info)
          }
          long newSafe = safe;
          if (markPos == null) {
            return NotificationRepository.max(tx, s.max()).compose(max -> max <= newSafe
              ? NotificationRepository.save(tx, s.name(), newSafe, null, null, null)
              : NotificationRepository.save(tx, s.name(), newSafe, null, max, null));
          }
          return NotificationRepository.save(tx, s.name(), newSafe, null, markPos, markXmax);
        }).map(full);
      });
    });
  }

  /** Consents ending within 7 days: one notification per ACTIVE consent version (no cursor). */
  Future<Boolean> expiring() {
    Instant now = Instant.now();
    return pool.withTransaction(tx -> NotificationRepository.scan(tx, NotificationRepository.SCAN_EXPIRING,
        Tuple.of(NotificationSettings.EXPIRY_DAYS, settings.batchSize()))
      .compose(rows -> {
        List<Derived> derived = new ArrayList<>();
        for (Row r : rows) {
          derived.add(Messages.consentExpiring(r, now));
        }
        return NotificationRepository.store(tx, derived, settings.gateway()).map(n -> rows.size() >= settings.batchSize());
      }));
  }
}
