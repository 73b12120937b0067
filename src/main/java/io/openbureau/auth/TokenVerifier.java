package io.openbureau.auth;

import io.openbureau.http.ApiError;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.User;
import io.vertx.ext.auth.authentication.TokenCredentials;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Verifies bearer tokens exactly as API.md says, and remembers verified tokens until they expire.
 *
 * <p>Signature checks run on a worker thread (ES256 costs ~0.9 ms), once per token: a verified
 * token is kept in a bounded LRU keyed by the SHA-256 of the token, so the hot path pays one hash.
 * One verifier per event loop (not shared), so the cache needs no locks.
 */
public final class TokenVerifier {
  private static final int MAX_TOKEN_LENGTH = 8192;
  /** A compact JWS: three base64url segments (RFC 7515 7.1); anything else is not looked at further. */
  private static final java.util.regex.Pattern COMPACT = java.util.regex.Pattern.compile(
    "[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+");

  private final Vertx vertx;
  private final TrustedIssuers issuers;
  private final int skewSeconds;
  private final Map<String, Principal> cache;

  public TokenVerifier(Vertx vertx, TrustedIssuers issuers, int skewSeconds, int cacheSize) {
    this.vertx = vertx;
    this.issuers = issuers;
    this.skewSeconds = skewSeconds;
    this.cache = new LinkedHashMap<>(Math.max(16, Math.min(cacheSize, 1024)), 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Principal> eldest) {
        return size() > cacheSize;
      }
    };
  }

  /** The principal of a valid token, or a failed future with a 401 {@link ApiError}. */
  public Future<Principal> verify(String token) {
    if (token == null || token.isEmpty() || token.length() > MAX_TOKEN_LENGTH) {
      return Future.failedFuture(ApiError.unauthenticated("a bearer token is required"));
    }
    String cacheKey = sha256(token);
    long now = System.currentTimeMillis() / 1000;
    Principal cached = cache.get(cacheKey);
    if (cached != null) {
      if (now - skewSeconds < cached.expiresAtEpochSeconds()) {
        return Future.succeededFuture(cached);
      }
      cache.remove(cacheKey);
      return Future.failedFuture(ApiError.unauthenticated("the token has expired"));
    }
    TrustedIssuers.Trusted trusted;
    try {
      trusted = precheck(token);
    } catch (ApiError e) {
      return Future.failedFuture(e);
    }
    return vertx.executeBlocking(() -> trusted.provider().authenticate(new TokenCredentials(token)), false)
      .compose(Function.identity())
      .recover(e -> Future.failedFuture(e instanceof ApiError ? e : ApiError.unauthenticated("the token is invalid: "
        + reason(e))))
      .map(user -> toPrincipal(user, trusted))
      .onSuccess(p -> cache.put(cacheKey, p));
  }

  /** Shape, algorithm and issuer, before any crypto; also picks the issuer's own keys. */
  private TrustedIssuers.Trusted precheck(String token) {
    if (!COMPACT.matcher(token).matches()) {
      throw ApiError.unauthenticated("the token is malformed");
    }
    String[] parts = token.split("\\.", -1);
    JsonObject header = decodeSegment(parts[0]);
    JsonObject payload = decodeSegment(parts[1]);
    // alg may be missing or not a string in a hostile header (Set.of().contains(null) throws)
    if (!(header.getValue("alg") instanceof String alg) || !TrustedIssuers.ALGORITHMS.contains(alg)) {
      throw ApiError.unauthenticated("token algorithm must be RS256 or ES256");
    }
    // RFC 7515 4.1.11: extensions named in crit must be understood, and the bureau understands
    // none; an empty crit list is not allowed either, so any crit is refused
    if (header.containsKey("crit")) {
      throw ApiError.unauthenticated("tokens with critical header extensions are not accepted");
    }
    if (header.containsKey("x5c") || header.containsKey("jwk") || header.containsKey("jku") || header.containsKey("x5u")) {
      throw ApiError.unauthenticated("tokens with embedded or remote keys are not accepted");
    }
    Object iss = payload.getValue("iss");
    TrustedIssuers.Trusted trusted = iss instanceof String s ? issuers.get(s) : null;
    if (trusted == null) {
      throw ApiError.unauthenticated("the token issuer is not trusted");
    }
    return trusted;
  }

  private Principal toPrincipal(User user, TrustedIssuers.Trusted trusted) {
    JsonObject claims = user.attributes().getJsonObject("accessToken");
    if (!(claims.getValue("exp") instanceof Number exp)) {
      throw ApiError.unauthenticated("the token has no exp claim");
    }
    if (!claims.containsKey("aud")) {
      throw ApiError.unauthenticated("the token has no aud claim");
    }
    if (!(claims.getValue("sub") instanceof String sub) || sub.isBlank() || sub.length() > 256) {
      throw ApiError.unauthenticated("the token has no sub claim");
    }
    if (!(claims.getValue("roles") instanceof JsonArray rolesClaim) || rolesClaim.isEmpty()) {
      throw ApiError.unauthenticated("the token has no roles claim");
    }
    Set<String> roles = new HashSet<>();
    for (Object r : rolesClaim) {
      if (!(r instanceof String role) || !Role.NAMES.contains(role)) {
        throw ApiError.unauthenticated("the token has an unknown role");
      }
      if (!trusted.allowedRoles().contains(role)) {
        throw ApiError.unauthenticated("issuer " + trusted.issuer() + " may not grant the role " + role);
      }
      roles.add(role);
    }
    return new Principal(trusted.issuer(), sub, Set.copyOf(roles), exp.longValue());
  }

  private static JsonObject decodeSegment(String segment) {
    try {
      return new JsonObject(new String(Base64.getUrlDecoder().decode(segment), StandardCharsets.UTF_8));
    } catch (RuntimeException e) {
      throw ApiError.unauthenticated("the token is malformed");
    }
  }

  private static String reason(Throwable e) {
    String m = e.getMessage() == null ? "" : e.getMessage().toLowerCase();
    if (m.contains("expired")) {
      return "expired or not yet valid";
    }
    if (m.contains("audience")) {
      return "wrong audience";
    }
    if (m.contains("issuer")) {
      return "wrong issuer";
    }
    return "signature or claims rejected";
  }

  static String sha256(String token) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.US_ASCII));
      return Base64.getEncoder().encodeToString(d);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
