package io.openbureau.compliance;

import io.openbureau.config.BureauConfig;
import io.openbureau.config.Reader;
import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.net.URISyntaxException;

/**
 * The witness part of {@code compliance:}: how many rows one checkpoint covers at most, and the
 * optional push of every new checkpoint to an outside witness ({@code compliance.witness.*}).
 *
 * @param checkpointMaxRows a chain is checkpointed as soon as it grew by this many rows, and no
 *                          checkpoint's Merkle tree covers more (bounds a proof's read and hashing)
 * @param url               where each new checkpoint JWS is POSTed; null: no push
 */
public record WitnessSettings(int checkpointMaxRows, String url, int queueSize, int maxAttempts, int timeoutMillis,
                              int maxBackoffMillis) {
  public static final int DEFAULT_MAX_ROWS = 16_384;

  public boolean pushEnabled() {
    return url != null;
  }

  public static WitnessSettings from(BureauConfig config) {
    Reader r = new Reader(new JsonObject().put("compliance", config.section("compliance")));
    String url = r.string("compliance.witness.url", null);
    if (url != null && url.isBlank()) {
      url = null;
    }
    if (url != null) {
      String problem = urlProblem(url);
      if (problem != null) {
        r.problem("compliance.witness.url " + problem + ", got '" + url + "'");
      }
    }
    WitnessSettings s = new WitnessSettings(
      r.intIn("compliance.checkpointMaxRows", DEFAULT_MAX_ROWS, 1, 1 << 20),
      url,
      r.intIn("compliance.witness.queueSize", 10_000, 1, 1_000_000),
      r.intIn("compliance.witness.maxAttempts", 20, 1, 1_000_000),
      r.intIn("compliance.witness.timeoutMillis", 5_000, 100, 120_000),
      r.intIn("compliance.witness.maxBackoffMillis", 60_000, 10, 3_600_000));
    r.throwIfProblems();
    return s;
  }

  static String urlProblem(String url) {
    try {
      URI u = new URI(url);
      if (!"http".equals(u.getScheme()) && !"https".equals(u.getScheme())) {
        return "must be an http:// or https:// URL";
      }
      if (u.getHost() == null || u.getUserInfo() != null || u.getFragment() != null) {
        return "must be an absolute URL with a host, without user info or fragment";
      }
      return null;
    } catch (URISyntaxException e) {
      return "is not a URL";
    }
  }
}
