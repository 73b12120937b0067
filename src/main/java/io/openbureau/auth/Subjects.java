package io.openbureau.auth;

import io.openbureau.identity.NationalId;

import java.util.regex.Pattern;

/**
 * What a token's {@code sub} must look like for the role it is used under (API.md, Authentication
 * and roles): a lender's or an admin's is a member id, a compliance officer's an officer id, a
 * borrower's a valid national id. A token holding several roles has one {@code sub}, so it is
 * checked when a role is used, not when the token is verified: a borrower-and-lender token whose
 * {@code sub} is a national id works as a borrower and is refused as a lender, so a raw national
 * id never becomes a lender id in the access log, a Redis key or a response.
 */
public final class Subjects {
  /** The member-id pattern of {@code createMember} in openapi.yaml. */
  public static final Pattern MEMBER_ID = Pattern.compile("[a-z0-9][a-z0-9._-]{1,62}");
  /** An officer id of the compliance team's identity provider (a login name or an e-mail address). */
  public static final Pattern OFFICER_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._@:-]{0,63}");
  /** The shape of a national id (17 digits and a check character): never a member's or officer's id. */
  private static final Pattern ID_SHAPED = Pattern.compile("[0-9]{17}[0-9Xx]");

  private Subjects() {
  }

  /** Whether {@code sub} is a valid subject for {@code role}. */
  public static boolean validFor(String role, String sub) {
    if (sub == null) {
      return false;
    }
    return switch (role) {
      case Role.BORROWER -> NationalId.valid(sub) && sub.equals(sub.trim());
      case Role.LENDER, Role.ADMIN -> MEMBER_ID.matcher(sub).matches() && !looksLikeNationalId(sub);
      case Role.COMPLIANCE -> OFFICER_ID.matcher(sub).matches() && !looksLikeNationalId(sub);
      default -> false;
    };
  }

  /** Something that could be a person's national id, valid or not: never used as any other id. */
  public static boolean looksLikeNationalId(String s) {
    return s != null && ID_SHAPED.matcher(s).matches();
  }
}
