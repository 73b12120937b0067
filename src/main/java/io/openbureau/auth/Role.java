package io.openbureau.auth;

import java.util.Set;

/** The roles a token may carry (API.md, Authentication and roles). */
public final class Role {
  public static final String LENDER = "lender";
  public static final String BORROWER = "borrower";
  public static final String COMPLIANCE = "compliance";
  public static final String ADMIN = "admin";
  public static final Set<String> NAMES = Set.of(LENDER, BORROWER, COMPLIANCE, ADMIN);

  private Role() {
  }
}
