package io.openbureau.members;

import io.openbureau.auth.Guards;
import io.openbureau.auth.Role;
import io.openbureau.auth.Subjects;
import io.openbureau.http.ApiError;
import io.openbureau.http.Cursors;
import io.openbureau.http.Requests;
import io.openbureau.http.RouteMounter;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.util.List;

/** Admin routes for member institutions (API.md, Members). */
public final class MemberRoutes {
  private final MemberRepository repository;
  private final MemberStatus status;

  public MemberRoutes(MemberRepository repository, MemberStatus status) {
    this.repository = repository;
    this.status = status;
  }

  public void mount(RouteMounter routes, Guards guards) {
    var admin = guards.require(Role.ADMIN);
    routes.secured("createMember", admin, this::create);
    routes.secured("listMembers", admin, this::list);
    routes.secured("suspendMember", admin, ctx -> changeStatus(ctx, Member.SUSPENDED));
    routes.secured("reinstateMember", admin, ctx -> changeStatus(ctx, Member.ACTIVE));
    routes.secured("getOwnMember", guards.require(Role.LENDER), this::own);
    routes.secured("listLenders", guards.require(Role.BORROWER), this::lenders);
  }

  /** The directory of active lenders (id, name) for people choosing whom to consent to; suspended ones left out. */
  private void lenders(RoutingContext ctx) {
    page(ctx, Member::active, m -> new JsonObject().put("id", m.id()).put("name", m.name()));
  }

  private void create(RoutingContext ctx) {
    JsonObject body = Requests.body(ctx);
    String id = body.getString("id");
    if (Subjects.looksLikeNationalId(id)) {
      // a member id becomes a token's sub, a log column and a key: never one that could be a person's id
      throw ApiError.invalid("id", "must not have the form of a national id");
    }
    // the stored name is stripped: one that is only white space or invisible characters is refused here,
    // not by the table's CHECK (the contract's pattern lets some through)
    String name = body.getString("name").strip();
    if (name.codePoints().allMatch(cp -> Character.isWhitespace(cp) || Character.isSpaceChar(cp)
      || Character.getType(cp) == Character.FORMAT)) {
      throw ApiError.invalid("name", "must contain a visible character");
    }
    repository.insert(id, name)
      .compose(m -> m == null
        ? Future.failedFuture(ApiError.conflict("member_exists", "a member with id " + id + " already exists"))
        : published(ctx.vertx(), m))
      .onSuccess(m -> {
        ctx.response().putHeader("Location", "/v1/members/" + m.id());
        Requests.json(ctx, 201, m.toJson());
      })
      .onFailure(ctx::fail);
  }

  private void list(RoutingContext ctx) {
    page(ctx, m -> true, Member::toJson);
  }

  /** One keyset page of members in id order: those {@code shown}, as {@code json} makes them. */
  private void page(RoutingContext ctx, java.util.function.Predicate<Member> shown,
                    java.util.function.Function<Member, JsonObject> json) {
    int limit = Requests.limit(ctx);
    JsonObject cursor = Cursors.decode(Requests.query(ctx, "cursor"));
    String after = cursor != null && cursor.getValue("id") instanceof String s ? s : null;
    if (cursor != null && after == null) {
      throw ApiError.invalid("cursor", "is not a cursor this API returned");
    }
    repository.list(after, limit + 1).onSuccess(members -> {
      List<Member> page = members.size() > limit ? members.subList(0, limit) : members;
      JsonArray items = new JsonArray();
      page.stream().filter(shown).forEach(m -> items.add(json.apply(m)));
      String next = members.size() > limit ? Cursors.encode(new JsonObject().put("id", page.get(page.size() - 1).id())) : null;
      Requests.json(ctx, 200, new JsonObject().put("items", items).put("nextCursor", next));
    }).onFailure(ctx::fail);
  }

  private void own(RoutingContext ctx) {
    String id = io.openbureau.auth.Principal.of(ctx).subject();
    repository.find(id)
      .compose(m -> m == null ? Future.failedFuture(ApiError.notFound("unknown_member", "the calling member is not registered"))
        : Future.succeededFuture(m))
      .onSuccess(m -> Requests.json(ctx, 200, m.toJson()))
      .onFailure(ctx::fail);
  }

  /**
   * Postgres first (the record, and for a suspension a notification to every instance, in one
   * transaction), then the shared status every instance reads on each request (see {@link MemberStatus}).
   */
  private void changeStatus(RoutingContext ctx, String newStatus) {
    String id = Requests.path(ctx, "id");
    status.change(id, newStatus)
      .compose(m -> m == null
        ? Future.failedFuture(ApiError.notFound("unknown_member", "no member with id " + id))
        : published(ctx.vertx(), m))
      .onSuccess(m -> Requests.json(ctx, 200, m.toJson()))
      .onFailure(ctx::fail);
  }

  /** The member once its status is in the cache; 503 when it could not be written (it will be, by itself). */
  private Future<Member> published(io.vertx.core.Vertx vertx, Member m) {
    return status.publish(m).map(m).recover(e -> status.awaitAnnounced(vertx, m)
      .transform(ignored -> Future.failedFuture(ApiError.unavailable("unavailable",
        "the member's status was saved but could not be published yet; the bureau publishes it by itself as soon as"
          + " its cache is reachable, and retrying the request is safe"))));
  }
}
