package io.openbureau.auth;

import io.vertx.ext.web.RoutingContext;

import java.util.Set;

/**
 * Who is calling, from a verified token. For a lender {@code subject} is its member id; for a
 * borrower it is the national id: use it only to derive the borrower key, never log it.
 */
public record Principal(String issuer, String subject, Set<String> roles, long expiresAtEpochSeconds) {
  private static final String KEY = "principal";

  public boolean has(String role) {
    return roles.contains(role);
  }

  public void attach(RoutingContext ctx) {
    ctx.put(KEY, this);
  }

  public static Principal of(RoutingContext ctx) {
    return ctx.get(KEY);
  }

  @Override
  public String toString() {
    // never print the subject: for a borrower it is a national id
    return "Principal[issuer=" + issuer + ", roles=" + roles + "]";
  }
}
