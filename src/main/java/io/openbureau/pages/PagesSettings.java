package io.openbureau.pages;

import io.openbureau.config.BureauConfig;
import io.openbureau.config.Reader;
import io.vertx.core.json.JsonObject;

import java.net.URI;

/**
 * The {@code pages} section (strict like every section: an unknown key, also in {@code oidc}, is refused
 * when the configuration is loaded, see config.ConfigSchema).
 *
 * @param enabled      false: no pages, no assets, no {@code /pages/*} (the API is unchanged)
 * @param oidcIssuer   the OpenID Connect provider the pages sign people in with; it must be one of
 *                     {@code auth.issuers} (the API trusts its tokens by their keys). Empty: no OIDC
 *                     (demo sign-in when {@code demo.seed} is on, else none)
 * @param oidcClientId the public client registered at the provider (authorization code + PKCE, no secret)
 * @param oidcScope    the scope asked for (at least {@code openid})
 * @param demo         the server runs {@code demo.seed} and no OIDC is configured: demo sign-in with dev tokens
 */
public record PagesSettings(boolean enabled, String oidcIssuer, String oidcClientId, String oidcScope, boolean demo) {
  /** Where the provider sends the browser back (one redirect URI to register for every page). */
  public static final String REDIRECT_PATH = "/pages/callback";

  public static PagesSettings from(BureauConfig config) {
    JsonObject section = config.section("pages");
    Reader r = new Reader(new JsonObject().put("pages", section));
    // unknown keys (here and under oidc) are refused by the configuration's schema, with suggestions
    Object oidc = section.getValue("oidc");
    if (oidc != null && !(oidc instanceof JsonObject)) {
      r.problem("pages.oidc must be a mapping with issuer, clientId and scope");
    }
    boolean enabled = r.bool("pages.enabled", true);
    String issuer = r.string("pages.oidc.issuer", "");
    String clientId = r.string("pages.oidc.clientId", "");
    String scope = r.string("pages.oidc.scope", "openid");
    if (!issuer.isEmpty()) {
      if (config.auth().issuers().stream().noneMatch(i -> i.issuer().equals(issuer))) {
        r.problem("pages.oidc.issuer '" + issuer + "' is not one of auth.issuers: the API would refuse its tokens");
      }
      try {
        URI u = new URI(issuer);
        boolean https = "https".equalsIgnoreCase(u.getScheme());
        boolean localHttp = "http".equalsIgnoreCase(u.getScheme()) && !config.production();
        if (!(https || localHttp) || u.getHost() == null) {
          r.problem("pages.oidc.issuer must be an https URL with a host (http only outside production)");
        }
      } catch (Exception e) {
        r.problem("pages.oidc.issuer is not a URL");
      }
      if (clientId.isBlank()) {
        r.problem("pages.oidc.clientId is required when pages.oidc.issuer is set");
      }
      if (!java.util.Arrays.asList(scope.trim().split("\\s+")).contains("openid")) {
        r.problem("pages.oidc.scope must include openid, got '" + scope + "'");
      }
    }
    r.throwIfProblems();
    return new PagesSettings(enabled, issuer, clientId, scope.trim(), config.demoSeed() && issuer.isEmpty());
  }

  public boolean oidc() {
    return !oidcIssuer.isEmpty();
  }

  /** "oidc", "demo" or "none" (no way to sign in: the pages say so). */
  public String mode() {
    return oidc() ? "oidc" : demo ? "demo" : "none";
  }

  /** The issuer's origin ({@code scheme://host[:port]}): the pages fetch its discovery document and token endpoint. */
  public String issuerOrigin() {
    if (!oidc()) {
      return null;
    }
    URI u = URI.create(oidcIssuer);
    return u.getScheme() + "://" + u.getHost() + (u.getPort() < 0 ? "" : ":" + u.getPort());
  }

}
