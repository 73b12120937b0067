package io.openbureau.support.fuzz;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * What exists on the server before the fuzzing starts, so that valid requests reach the deep
 * paths: credentials for every role (and ones that must be refused), members, people with data,
 * accounts and consents. Filled in by the test that seeds the server.
 */
public final class Fixtures {
  /**
   * A credential: the Authorization header values to send (none, one or several), a name for the
   * failure report, and the roles whose operations it may legitimately use.
   */
  public record Cred(String name, List<String> authorization, Set<String> entitled) {
    public static Cred bearer(String name, String token, String... entitled) {
      return new Cred(name, List.of("Bearer " + token), Set.of(entitled));
    }

    public boolean entitledTo(String role) {
      return role == null || entitled.contains(role);
    }
  }

  public String host = "127.0.0.1";
  public int port;
  /**
   * Tokens signed by a trusted issuer, each with the roles it is honoured for: none for a suspended
   * member, a non-member or a subject that is not valid for its role.
   */
  public final List<Cred> valid = new ArrayList<>();
  /** Credentials no operation may honour (forged, malformed, crit, duplicated, refused subjects). */
  public final List<Cred> refused = new ArrayList<>();
  public final List<String> activeMembers = new ArrayList<>();
  public String suspendedMember;
  /** Members the fuzzer may suspend and reinstate (never those whose tokens it uses). */
  public final List<String> victimMembers = new ArrayList<>();
  /** Valid national ids of people with tradelines and consents. */
  public final List<String> people = new ArrayList<>();
  /** Account refs that exist for every active member. */
  public final List<String> accountRefs = new ArrayList<>();
  /** Consent ids that may be revoked. */
  public final List<String> consentIds = new ArrayList<>();
  /** Signed checkpoints as {@code /v1/audit/checkpoints} publishes them (compact JWS), oldest first. */
  public final List<String> checkpoints = new ArrayList<>();
  /** The ETag of the witness feed's first page holding just those checkpoints ({@code after=0&limit=<their count>}). */
  public String feedEtag;
  /** The ids of those checkpoints (for the witness feed's {@code after}). */
  public final List<String> checkpointIds = new ArrayList<>();
  /** The chain ids those checkpoints name. */
  public final List<String> chainIds = new ArrayList<>();
  /** Checkpoints' claims signed correctly, but with keys that are not the bureau's. */
  public final List<String> foreignCheckpoints = new ArrayList<>();
  /** JWS the bureau signed that are not checkpoints (consent receipts). */
  public final List<String> receipts = new ArrayList<>();
  /** Access-log entry ids about the subject of a borrower credential (by credential name), all checkpointed. */
  public final java.util.Map<String, List<String>> rowsByCred = new java.util.LinkedHashMap<>();
  /** Every access-log entry id in {@link #rowsByCred}. */
  public final List<String> rows = new ArrayList<>();

  public List<Cred> validFor(String role) {
    return valid.stream().filter(c -> c.entitledTo(role)).toList();
  }

  /** Every credential whose token gives some role but not this one (wrong role, suspended, non-member). */
  public List<Cred> notEntitled(String role) {
    return valid.stream().filter(c -> !c.entitledTo(role)).toList();
  }
}
