package io.openbureau.auth;

import io.openbureau.http.ApiError;
import io.openbureau.members.MemberStatus;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

import java.util.Set;

/** The first steps of every protected route: authenticate, then authorize the role. */
public final class Guards {
  private final TokenVerifier verifier;
  private final MemberStatus members;

  public Guards(TokenVerifier verifier, MemberStatus members) {
    this.verifier = verifier;
    this.members = members;
  }

  /** 401 unless a valid bearer token is present; attaches the {@link Principal}. */
  public void authenticate(RoutingContext ctx) {
    String header = ctx.request().getHeader("Authorization");
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

  /** 403 unless the token carries one of the roles. A lender must also be an active member. */
  public Handler<RoutingContext> require(String... roles) {
    Set<String> allowed = Set.of(roles);
    return ctx -> {
      Principal p = Principal.of(ctx);
      String role = allowed.stream().filter(p::has).findFirst().orElse(null);
      if (role == null) {
        ctx.fail(ApiError.forbidden("this operation needs the role " + String.join(" or ", roles)));
      } else if (Role.LENDER.equals(role)) {
        members.isActive(p.subject()).onComplete(ar -> {
          if (ar.failed()) {
            ctx.fail(ApiError.unavailable("unavailable", "member status cannot be checked; retry later"));
          } else if (!ar.result()) {
            ctx.fail(ApiError.forbidden("member " + p.subject() + " is not an active member of the bureau"));
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
