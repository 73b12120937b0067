package io.openbureau.consent;

import io.openbureau.auth.Guards;
import io.openbureau.auth.Principal;
import io.openbureau.auth.Role;
import io.openbureau.cache.CacheRepair;
import io.openbureau.cache.PendingChanges;
import io.openbureau.compliance.TimeRange;
import io.openbureau.config.BureauConfig;
import io.openbureau.http.ApiError;
import io.openbureau.http.Cursors;
import io.openbureau.http.Requests;
import io.openbureau.http.RouteMounter;
import io.openbureau.identity.BorrowerKeys;
import io.openbureau.identity.NationalId;
import io.openbureau.members.Member;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Pool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.UUID;

/**
 * A person's consents (API.md, Consent), plus the bureau's public key for verifying receipts.
 *
 * <p>Decisions documented here:
 * <ul>
 *   <li>A borrower token whose {@code sub} is not a valid national id is 403 {@code forbidden}: the
 *   token is authentic, it just does not name a person.</li>
 *   <li>Granting for a lender that is not a member is 404 {@code unknown_lender}; for a SUSPENDED
 *   member it is 409 {@code lender_suspended} (it could not use the consent anyway).</li>
 *   <li>Granting again for the same lender and purpose supersedes: in one transaction the old
 *   ACTIVE consent becomes REVOKED with {@code revokedBy: "superseded"} and the new one is ACTIVE.</li>
 *   <li>At most {@code consent.maxActivePerPerson} ACTIVE unexpired consents (a superseded one
 *   does not count): beyond, 409 {@code too_many_consents}; counted in the granting transaction
 *   under the person's lock.</li>
 *   <li>Another person's consent, or an id that is not a UUID, is 404 {@code consent_not_found}.</li>
 * </ul>
 * Every change is published to the decision cache before the response (see {@link ConsentDecisions}).
 */
public final class ConsentRoutes {
  private static final Logger LOG = LoggerFactory.getLogger(ConsentRoutes.class);

  private final Vertx vertx;
  private final ConsentRepository repository;
  private final ConsentDecisions decisions;
  private final ReceiptSigner signer;
  private final BorrowerKeys keys;
  private final ConsentSettings settings;
  private final PendingChanges pending;

  public ConsentRoutes(Vertx vertx, BureauConfig config, Pool pool, io.openbureau.cache.RedisStore redis,
                       ReceiptSigner signer) {
    this(vertx, config, pool, redis, signer, PendingChanges.TRUST_REDIS);
  }

  public ConsentRoutes(Vertx vertx, BureauConfig config, Pool pool, io.openbureau.cache.RedisStore redis,
                       ReceiptSigner signer, PendingChanges pending) {
    this.vertx = vertx;
    this.repository = new ConsentRepository(pool);
    this.decisions = new ConsentDecisions(repository, redis, pending);
    this.pending = pending;
    this.signer = signer;
    this.keys = new BorrowerKeys(config.identity().hmacKeyId(), config.identity().hmacSecret());
    this.settings = ConsentSettings.from(config);
  }

  public void mount(RouteMounter routes, Guards guards) {
    var borrower = guards.require(Role.BORROWER);
    routes.secured("grantConsent", borrower, this::grant);
    routes.secured("listConsents", borrower, this::list);
    routes.secured("revokeConsent", borrower, this::revoke);
    JsonObject jwks = signer.jwks();
    routes.open("jwks", ctx -> ctx.response().putHeader("Content-Type", "application/json")
      .putHeader("Cache-Control", "public, max-age=300").end(jwks.toBuffer()));
  }

  /** The caller's borrower key; the raw national id goes no further than this method. */
  private byte[] person(RoutingContext ctx) {
    String sub = Principal.of(ctx).subject();
    if (!NationalId.valid(sub)) {
      throw ApiError.forbidden("the token's subject is not a valid national id");
    }
    return keys.key(sub);
  }

  private void grant(RoutingContext ctx) {
    byte[] key = person(ctx);
    JsonObject body = Requests.body(ctx);
    String lenderId = body.getString("lenderId");
    String purpose = body.getString("purpose");
    String scope = body.getString("scope", ConsentDecisions.SCORE);
    int days = body.getInteger("durationDays", settings.defaultDurationDays());
    if (days < 1 || days > 365) {
      throw ApiError.invalid("durationDays", "must be a whole number of days from 1 to 365");
    }
    UUID id = UUID.randomUUID();
    Instant grantedAt = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    Instant expiresAt = grantedAt.plus(Duration.ofDays(days));
    JsonObject claims = receiptClaims(id, key, lenderId, purpose, scope, grantedAt, expiresAt);

    vertx.executeBlocking(() -> signer.sign(claims), false)
      .compose(receipt -> repository.pool().withTransaction(conn -> ConsentRepository.lockPerson(conn, key)
        .compose(v -> ConsentRepository.lenderStatus(conn, lenderId))
        .compose(status -> {
          if (status == null) {
            return Future.failedFuture(ApiError.notFound("unknown_lender", "no member with id " + lenderId));
          }
          if (!Member.ACTIVE.equals(status)) {
            return Future.failedFuture(ApiError.conflict("lender_suspended",
              "member " + lenderId + " is suspended and cannot be given consent"));
          }
          return ConsentRepository.countActiveInOtherSlots(conn, key, lenderId, purpose, grantedAt);
        })
        .compose(n -> n >= settings.maxActivePerPerson()
          ? Future.failedFuture(ApiError.conflict("too_many_consents",
              "at most " + settings.maxActivePerPerson() + " consents can be active at once; revoke one first"))
          // supersede the slot's ACTIVE consent (if any) before the insert: one ACTIVE per slot
          : ConsentRepository.supersede(conn, key, lenderId, purpose, grantedAt, id))
        .compose(superseded -> ConsentRepository.insert(conn, id, key, keys.keyId(), lenderId, purpose, scope,
          grantedAt, expiresAt, receipt)
          .compose(consent -> ConsentRepository.slot(conn, key, lenderId, purpose)
            // a supersede takes the old consent's access away (scope, expiry): announced in this transaction
            .compose(slot -> announce(conn, key, lenderId, purpose, slot, superseded > 0)
              .map(new Changed(consent, slot, superseded > 0)))))))
      .compose(changed -> publish(key, lenderId, purpose, changed))
      .onSuccess(consent -> {
        ctx.response().putHeader("Location", "/v1/me/consents/" + consent.id());
        Requests.json(ctx, 201, consent.toJson());
      })
      .onFailure(ctx::fail);
  }

  /** A consent receipt in the spirit of the Kantara Consent Receipt, as JWT claims. */
  private JsonObject receiptClaims(UUID id, byte[] key, String lenderId, String purpose, String scope,
                                   Instant grantedAt, Instant expiresAt) {
    return new JsonObject()
      .put("iss", ReceiptSigner.ISSUER)
      .put("jti", id.toString())
      .put("sub", BorrowerKeys.hex(key))
      .put("keyId", keys.keyId())
      .put("controller", lenderId)
      .put("purpose", purpose)
      .put("scope", scope)
      .put("consentType", "EXPLICIT")
      .put("iat", grantedAt.getEpochSecond())
      .put("exp", expiresAt.getEpochSecond())
      .put("grantedAt", grantedAt.toString())
      .put("expiresAt", expiresAt.toString());
  }

  private void list(RoutingContext ctx) {
    byte[] key = person(ctx);
    int limit = Requests.limit(ctx);
    JsonObject cursor = Cursors.decode(Requests.query(ctx, "cursor"));
    Instant afterAt = null;
    UUID afterId = null;
    if (cursor != null) {
      try {
        afterAt = Instant.parse(cursor.getString("g"));
        afterId = UUID.fromString(cursor.getString("i"));
        if (afterAt.isBefore(TimeRange.EARLIEST) || afterAt.isAfter(TimeRange.LATEST)) {
          throw new IllegalArgumentException("instant out of bounds");
        }
      } catch (RuntimeException e) {
        throw ApiError.invalid("cursor", "is not a cursor this API returned");
      }
    }
    repository.list(key, afterAt, afterId, limit + 1).onSuccess(found -> {
      List<Consent> page = found.size() > limit ? found.subList(0, limit) : found;
      JsonArray items = new JsonArray();
      page.forEach(c -> items.add(c.toJson()));
      String next = null;
      if (found.size() > limit) {
        Consent last = page.get(page.size() - 1);
        next = Cursors.encode(new JsonObject().put("g", last.grantedAt().toString()).put("i", last.id().toString()));
      }
      Requests.json(ctx, 200, new JsonObject().put("items", items).put("nextCursor", next));
    }).onFailure(ctx::fail);
  }

  private void revoke(RoutingContext ctx) {
    byte[] key = person(ctx);
    UUID id;
    try {
      id = UUID.fromString(Requests.path(ctx, "consentId"));
    } catch (IllegalArgumentException e) {
      throw notFound();
    }
    repository.pool().withTransaction(conn -> ConsentRepository.lockPerson(conn, key)
        .compose(v -> ConsentRepository.revoke(conn, id, key, "borrower", "revoked by the person"))
        // nothing updated: not this person's (404), or already revoked (same answer again)
        .compose(revoked -> (revoked != null ? Future.succeededFuture(revoked)
          : ConsentRepository.findOwn(conn, id, key).compose(c -> c == null ? Future.<Consent>failedFuture(notFound())
            : Future.succeededFuture(c)))
          .compose(consent -> ConsentRepository.slot(conn, key, consent.lenderId(), consent.purpose())
            .compose(slot -> announce(conn, key, consent.lenderId(), consent.purpose(), slot, revoked != null)
              .map(new Changed(consent, slot, revoked != null))))))
      // published again on a repeated revoke too: a retry after a 503 must reach the cache
      .compose(changed -> publish(key, changed.consent().lenderId(), changed.consent().purpose(), changed))
      .onSuccess(consent -> Requests.json(ctx, 200, consent.revocationJson()))
      .onFailure(ctx::fail);
  }

  private record Changed(Consent consent, ConsentRepository.Slot slot, boolean takesAway) {
  }

  /**
   * A change that takes access away tells every instance, in its own transaction (NOTIFY is sent at
   * commit, and never for a rolled-back change), that the slot's cached entry is suspect until
   * published: see {@link ConsentDecisions}.
   */
  private static Future<Void> announce(io.vertx.sqlclient.SqlClient conn, byte[] key, String lenderId, String purpose,
                                       ConsentRepository.Slot slot, boolean takesAway) {
    return takesAway ? ConsentRepository.notify(conn, CacheRepair.PENDING,
      ConsentDecisions.notification(key, lenderId, purpose, slot.version())) : Future.succeededFuture();
  }

  /**
   * INVARIANT: the decision cache is written after the commit and before the response. If the
   * write fails the request answers 503 and must not report success: an answered revoke promises
   * that no later decision on any instance allows (API.md, Consent). The 503 needs no retry: the
   * change is recorded as unpublished in its own transaction and the repair loop publishes it.
   */
  private Future<Consent> publish(byte[] key, String lenderId, String purpose, Changed changed) {
    return decisions.publish(key, lenderId, purpose, changed.slot())
      .recover(e -> {
        io.openbureau.http.OutageLog.REDIS.failed("a committed consent's decision cache write", e); // once per outage
        // a take-away: not answered before this instance heard its NOTIFY (so every listener had it)
        Future<Void> heard = changed.takesAway()
          ? pending.awaitPending(vertx, ConsentDecisions.ref(key, lenderId, purpose), changed.slot().version(), 1000)
          : Future.succeededFuture();
        return heard.transform(ignored -> Future.failedFuture(ApiError.unavailable("unavailable",
          "the consent was saved but could not be published yet; the bureau publishes it by itself as soon as"
            + " its cache is reachable, and retrying the request is safe")));
      })
      .map(changed.consent());
  }

  private static ApiError notFound() {
    return ApiError.notFound("consent_not_found", "no such consent");
  }
}
