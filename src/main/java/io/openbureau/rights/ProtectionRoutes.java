package io.openbureau.rights;

import io.openbureau.audit.AccessLogEntry;
import io.openbureau.audit.AuditWriter;
import io.openbureau.auth.Guards;
import io.openbureau.auth.Principal;
import io.openbureau.auth.Role;
import io.openbureau.http.ApiError;
import io.openbureau.http.OutageLog;
import io.openbureau.http.RequestIds;
import io.openbureau.http.Requests;
import io.openbureau.http.RouteMounter;
import io.openbureau.identity.BorrowerKeys;
import io.openbureau.identity.NationalId;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.SqlClient;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * {@code /v1/me/freeze} and {@code /v1/me/fraud-alert} (role borrower, {@code sub} is the person).
 *
 * <p>Every change: one transaction (the row's new version, and a NOTIFY for a change that takes
 * access away), then the cache entry written ({@link ProtectionCache#publish}), then the access-log
 * row, then the answer. So once a freeze is answered, no instance serves a HARD inquiry a consent
 * would allow; when the cache cannot be written the answer is 503 and the bureau publishes it by
 * itself (see {@link ProtectionCache}). A change that finds nothing to change (lifting a file that
 * is not frozen, ending no alert) answers the current state and writes nothing.
 */
public final class ProtectionRoutes {
  static final String FREEZE = "FREEZE";
  static final String FREEZE_LIFTED = "FREEZE_LIFTED";
  static final String FRAUD_ALERT_SET = "FRAUD_ALERT_SET";
  static final String FRAUD_ALERT_ENDED = "FRAUD_ALERT_ENDED";
  static final int DEFAULT_ALERT_DAYS = 365;

  private final Vertx vertx;
  private final ProtectionRepository repository;
  private final ProtectionCache cache;
  private final AuditWriter audit;
  private final BorrowerKeys keys;

  public ProtectionRoutes(Vertx vertx, ProtectionCache cache, AuditWriter audit, BorrowerKeys keys) {
    this.vertx = vertx;
    this.cache = cache;
    this.repository = cache.repository();
    this.audit = audit;
    this.keys = keys;
  }

  public void mount(RouteMounter routes, Guards guards) {
    var borrower = guards.require(Role.BORROWER);
    routes.secured("getFreeze", borrower, ctx -> read(ctx, p -> p.freezeJson(Instant.now())));
    routes.secured("getFraudAlert", borrower, ctx -> read(ctx, p -> p.fraudAlertJson(Instant.now())));
    routes.secured("putFreeze", borrower, ctx -> change(ctx, FREEZE, true,
      (tx, now) -> ProtectionRepository.freeze(tx, person(ctx), keys.keyId(), now), Protections::freezeJson));
    routes.secured("deleteFreeze", borrower, this::lift);
    routes.secured("putFraudAlert", borrower, this::setFraudAlert);
    routes.secured("deleteFraudAlert", borrower, ctx -> change(ctx, FRAUD_ALERT_ENDED, false,
      (tx, now) -> ProtectionRepository.endFraudAlert(tx, person(ctx), now), Protections::fraudAlertJson));
  }

  /** The caller's borrower key; the raw national id goes no further than this method. */
  private byte[] person(RoutingContext ctx) {
    String sub = Principal.of(ctx).subject();
    if (!NationalId.valid(sub)) {
      throw ApiError.forbidden("the token's subject is not a valid national id");
    }
    return keys.key(sub);
  }

  private void read(RoutingContext ctx, Function<Protections, JsonObject> answer) {
    byte[] key = person(ctx);
    repository.find(key)
      .onSuccess(p -> Requests.json(ctx, 200, answer.apply(p == null ? Protections.NOTHING : p)))
      .onFailure(ctx::fail);
  }

  private void lift(RoutingContext ctx) {
    String raw = Requests.query(ctx, "minutes");
    Integer minutes = null;
    if (raw != null) {
      try {
        double d = Double.parseDouble(raw);
        if (d != Math.rint(d) || d < 1 || d > 10_080) {
          throw new NumberFormatException();
        }
        minutes = (int) d;
      } catch (NumberFormatException e) {
        throw ApiError.invalid("minutes", "must be a whole number of minutes from 1 to 10080");
      }
    }
    Integer lift = minutes;
    change(ctx, FREEZE_LIFTED, false, (tx, now) -> ProtectionRepository.lift(tx, person(ctx), now,
      lift == null ? null : now.plus(Duration.ofMinutes(lift))), Protections::freezeJson);
  }

  private void setFraudAlert(RoutingContext ctx) {
    Object body = Requests.validated(ctx) == null || Requests.validated(ctx).getBody() == null
      || Requests.validated(ctx).getBody().isNull() ? null : Requests.validated(ctx).getBody().get();
    int days = DEFAULT_ALERT_DAYS;
    if (body instanceof JsonObject json && json.containsKey("days")) {
      Object d = json.getValue("days");
      if (!(d instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue()) || n.doubleValue() < 1
        || n.doubleValue() > 2555) {
        throw ApiError.invalid("days", "must be a whole number of days from 1 to 2555");
      }
      days = n.intValue();
    }
    int length = days;
    change(ctx, FRAUD_ALERT_SET, true, (tx, now) -> ProtectionRepository.fraudAlert(tx, person(ctx), keys.keyId(),
      now, now.plus(Duration.ofDays(length))), Protections::fraudAlertJson);
  }

  /**
   * One change: commit (announcing a take-away to every instance), publish, log, answer.
   * {@code apply} answers null when there was nothing to change.
   */
  private void change(RoutingContext ctx, String action, boolean takesAway,
                      BiFunction<SqlClient, Instant, Future<Protections>> apply,
                      BiFunction<Protections, Instant, JsonObject> answer) {
    byte[] key = person(ctx);
    Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    repository.pool().withTransaction(tx -> apply.apply(tx, now).compose(changed -> changed == null || !takesAway
        ? Future.succeededFuture(changed)
        : ProtectionRepository.notify(tx, io.openbureau.cache.CacheRepair.PENDING,
          ProtectionCache.notification(key, changed.version())).map(changed)))
      .compose(changed -> changed == null
        ? repository.find(key).map(p -> Result.unchanged(p == null ? Protections.NOTHING : p))
        : publish(key, changed, takesAway).compose(v -> audit.append(row(ctx, action, key, changed, now)))
          .map(Result.changed(changed)))
      .onSuccess(r -> Requests.json(ctx, 200, answer.apply(r.protections(), now)))
      .onFailure(ctx::fail);
  }

  private record Result(Protections protections, boolean changed) {
    static Result unchanged(Protections p) {
      return new Result(p, false);
    }

    static Result changed(Protections p) {
      return new Result(p, true);
    }
  }

  private Future<Void> publish(byte[] key, Protections changed, boolean takesAway) {
    return cache.publish(key, changed).recover(e -> {
      OutageLog.REDIS.failed("a committed freeze or fraud alert's cache write", e); // once per outage
      Future<Void> heard = takesAway ? cache.awaitAnnounced(vertx, key, changed.version()) : Future.succeededFuture();
      return heard.transform(ignored -> Future.failedFuture(ApiError.unavailable("unavailable",
        "the change was saved but could not be published yet; the bureau publishes it by itself as soon as"
          + " its cache is reachable, and retrying the request is safe")));
    });
  }

  private static AccessLogEntry.Draft row(RoutingContext ctx, String action, byte[] key, Protections p, Instant now) {
    JsonObject details = new JsonObject();
    switch (action) {
      case FREEZE, FREEZE_LIFTED -> details.mergeIn(p.freezeJson(now));
      default -> details.mergeIn(p.fraudAlertJson(now));
    }
    return new AccessLogEntry.Draft(action, Role.BORROWER, null, null, key, null, null, AccessLogEntry.GRANTED, null,
      null, RequestIds.get(ctx), null, details);
  }
}
