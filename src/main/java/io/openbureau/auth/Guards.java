package io.openbureau.auth;

import io.openbureau.http.ApiError;
import io.openbureau.members.MemberStatus;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;

import java.util.List;
import java.util.Set;

/** The first steps of every protected route: authenticate, then authorize the role. */
public final class Guards {
  private final TokenVerifier verifier;
  private final MemberStatus members;

  public Guards(TokenVerifier verifier, MemberStatus members) {
    this.verifier = verifier;
    this.members = members;
  }

  /**
   * 401 unless a valid bearer token is present; attaches the {@link Principal}. Authorization is a
   * singleton field (RFC 9110 11.6.2): a request with two is refused whatever they hold, so a
   * proxy and the bureau can never disagree about which one counts.
   */
  public void authenticate(RoutingContext ctx) {
    List<String> all = ctx.request().headers().getAll("Authorization");
    if (all.size() > 1) {
      ctx.fail(ApiError.invalid("Authorization", "must be sent once"));
      return;
    }
    String header = all.isEmpty() ? null : all.get(0);
    if (header == null || header.length() < 8 || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      ctx.fail(ApiError.unauthenticated("an Authorization: Bearer token is required"));
      return;
    }
    verifier.verify(header.substring(7).trim()).onComplete(ar -> {
      if (ar.succeeded()) {
        ar.result().attach(ctx);
        ctx.next();
      } else {
        ctx.fail(ar.cause());
      }
    });
  }

  /**
   * 403 unless the token carries one of the roles with a {@code sub} valid for it ({@link Subjects}).
   * A lender must also be an active member. Details never echo the {@code sub}.
   */
  public Handler<RoutingContext> require(String... roles) {
    Set<String> allowed = Set.of(roles);
    return ctx -> {
      Principal p = Principal.of(ctx);
      String held = allowed.stream().filter(p::has).findFirst().orElse(null);
      String role = allowed.stream().filter(p::has).filter(r -> Subjects.validFor(r, p.subject())).findFirst()
        .orElse(null);
      if (held == null) {
        ctx.fail(ApiError.forbidden("this operation needs the role " + String.join(" or ", roles)));
      } else if (role == null) {
        ctx.fail(ApiError.forbidden("the token's subject is not valid for the role " + held));
      } else if (Role.LENDER.equals(role)) {
        members.isActive(p.subject()).onComplete(ar -> {
          if (ar.failed()) {
            // 503 naming the dependency that failed (FailureHandler reads it off the cause: the
            // re-read from Postgres, or Redis), logged once per outage
            ctx.fail(ar.cause() instanceof ApiError api ? api : new HttpException(503, ar.cause()));
          } else if (!ar.result()) {
            ctx.fail(ApiError.forbidden("the calling member is not an active member of the bureau"));
          } else {
            ctx.next();
          }
        });
      } else {
        ctx.next();
      }
    };
  }
}
