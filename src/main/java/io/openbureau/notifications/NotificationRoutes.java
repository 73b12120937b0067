package io.openbureau.notifications;

import io.openbureau.auth.Guards;
import io.openbureau.auth.Principal;
import io.openbureau.auth.Role;
import io.openbureau.http.ApiError;
import io.openbureau.http.Cursors;
import io.openbureau.http.Requests;
import io.openbureau.http.RouteMounter;
import io.openbureau.identity.BorrowerKeys;
import io.openbureau.identity.NationalId;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Pool;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * {@code GET /v1/me/notifications} (role borrower: the person's inbox, newest first, keyset pages)
 * and {@code PUT/GET/DELETE /v1/members/me/webhook} (role lender: where the member hears of
 * disputes about its accounts and of consents revoked; its secret signs every event).
 */
public final class NotificationRoutes {
  static final int MIN_SECRET_BYTES = 32;
  static final int MAX_SECRET_BYTES = 512;
  static final int MAX_URL = 2048;

  private final Pool pool;
  private final BorrowerKeys keys;
  private final TargetGuard targets;

  public NotificationRoutes(Vertx vertx, Pool pool, BorrowerKeys keys, NotificationSettings settings) {
    this.pool = pool;
    this.keys = keys;
    this.targets = new TargetGuard(vertx, settings.allowPrivateTargets(), settings.hostsFile());
  }

  public void mount(RouteMounter routes, Guards guards) {
    routes.secured("myNotifications", guards.require(Role.BORROWER), this::inbox);
    var lender = guards.require(Role.LENDER);
    routes.secured("putMemberWebhook", lender, this::put);
    routes.secured("getMemberWebhook", lender, this::get);
    routes.secured("deleteMemberWebhook", lender, this::delete);
  }

  /** The caller's borrower key; the raw national id goes no further than this method. */
  private byte[] person(RoutingContext ctx) {
    String sub = Principal.of(ctx).subject();
    if (!NationalId.valid(sub)) {
      throw ApiError.forbidden("the token's subject is not a valid national id");
    }
    return keys.key(sub);
  }

  private void inbox(RoutingContext ctx) {
    byte[] key = person(ctx);
    int limit = Requests.limit(ctx);
    JsonObject position = Cursors.decode(Requests.query(ctx, "cursor"));
    Long before = null;
    if (position != null) {
      if (!(position.getValue("i") instanceof Number n) || n.longValue() < 1) {
        throw ApiError.invalid("cursor", "is not a cursor this API returned");
      }
      before = n.longValue();
    }
    NotificationRepository.inbox(pool, key, before, limit + 1)
      .map(found -> page(found, limit))
      .onSuccess(page -> Requests.json(ctx, 200, page))
      .onFailure(ctx::fail);
  }

  private static JsonObject page(List<JsonObject> found, int limit) {
    List<JsonObject> items = found.size() > limit ? found.subList(0, limit) : found;
    String next = null;
    if (found.size() > limit) {
      next = Cursors.encode(new JsonObject().put("i", Long.parseLong(items.get(items.size() - 1).getString("id"))));
    }
    return new JsonObject().put("items", new JsonArray(List.copyOf(items))).put("nextCursor", next);
  }

  private void put(RoutingContext ctx) {
    String member = Principal.of(ctx).subject();
    JsonObject body = Requests.body(ctx);
    Object url = body.getValue("url");
    Object secret = body.getValue("secret");
    if (!(url instanceof String u) || u.isEmpty() || u.length() > MAX_URL) {
      throw ApiError.invalid("url", "must be an http or https URL of at most " + MAX_URL + " characters");
    }
    if (!(secret instanceof String s) || s.getBytes(StandardCharsets.UTF_8).length < MIN_SECRET_BYTES
      || s.getBytes(StandardCharsets.UTF_8).length > MAX_SECRET_BYTES) {
      throw ApiError.invalid("secret", "must be " + MIN_SECRET_BYTES + " to " + MAX_SECRET_BYTES + " bytes");
    }
    targets.check(u)
      .compose(ok -> NotificationRepository.putWebhook(pool, member, u, s))
      .onSuccess(w -> Requests.json(ctx, 200, w))
      .onFailure(ctx::fail);
  }

  private void get(RoutingContext ctx) {
    NotificationRepository.getWebhook(pool, Principal.of(ctx).subject())
      .compose(w -> w == null ? Future.failedFuture(ApiError.notFound("no_webhook", "this member has no webhook"))
        : Future.succeededFuture(w))
      .onSuccess(w -> Requests.json(ctx, 200, w))
      .onFailure(ctx::fail);
  }

  private void delete(RoutingContext ctx) {
    NotificationRepository.deleteWebhook(pool, Principal.of(ctx).subject())
      .onSuccess(gone -> ctx.response().setStatusCode(204).end())
      .onFailure(ctx::fail);
  }
}
