package io.openbureau.notifications;

import io.openbureau.config.BureauConfig;
import io.openbureau.config.Reader;
import io.vertx.core.json.JsonObject;

import java.net.URI;

/**
 * The {@code notifications} section (strict like every section: an unknown key, also in
 * {@code webhook} and {@code delivery}, is refused at load, see config.ConfigSchema).
 *
 * @param enabled                 false: no followers and no deliveries in this process (the inbox still answers)
 * @param pollMillis              how often each follower looks for new events (an event is in the inbox within
 *                                about one poll, an access-log event one poll after it settles; the contract
 *                                says 5 s)
 * @param batchSize               events per follower transaction
 * @param accessLogSettleMillis   an access-log row is read once the database's clock is this far past its
 *                                {@code at}: more than any row's time from {@code at} to its commit
 *                                (audit.commitTimeoutMillis), plus clock skew between the instances and the
 *                                database; default audit.commitTimeoutMillis + 1000 (an inbox entry then takes
 *                                about this plus one poll)
 * @param expiryScanMillis        how often consents expiring within 7 days are looked for
 * @param hostsFile               a hosts-style file ({@code address name...} per line, {@code #} comments) consulted
 *                                before DNS whenever a member's webhook host is resolved, at PUT and at each
 *                                delivery; empty: DNS only (tests pin names with it)
 * @param webhookUrl              the bureau's gateway (SMS / e-mail); empty: no gateway deliveries
 * @param webhookSecret           HMAC key of the gateway's signature (at least 32 bytes when the url is set)
 * @param allowPrivateTargets     member webhooks may point at loopback / link-local addresses (tests, dev only)
 * @param concurrency             deliveries in flight per process (a slow receiver holds at most this many)
 * @param requestTimeoutMillis    one POST, connect to answer; beyond, a failed attempt
 * @param leaseMillis             how long a taken delivery is this process' own (more than a request)
 * @param backoffBaseMillis       first retry delay; doubled per attempt, with jitter
 * @param backoffCapMillis        the longest retry delay
 */
public record NotificationSettings(boolean enabled, int pollMillis, int batchSize, int accessLogSettleMillis,
                                   int expiryScanMillis, String hostsFile, String webhookUrl, String webhookSecret,
                                   boolean allowPrivateTargets, int concurrency, int requestTimeoutMillis,
                                   int leaseMillis, int backoffBaseMillis, int backoffCapMillis) {
  public static final int EXPIRY_DAYS = 7;

  public static NotificationSettings from(BureauConfig config) {
    JsonObject section = config.section("notifications");
    Reader r = new Reader(new JsonObject().put("notifications", section));
    // read (and range-checked) by AuditSettings; here only compared with
    int commitTimeout = config.section("audit").getValue("commitTimeoutMillis") instanceof Number n ? n.intValue() : 2000;
    NotificationSettings s = new NotificationSettings(
      r.bool("notifications.enabled", true),
      r.intIn("notifications.pollMillis", 1000, 50, 5000),
      r.intIn("notifications.batchSize", 2000, 1, 10_000),
      r.intIn("notifications.accessLogSettleMillis", Math.min(600_000, commitTimeout + 1000), 100, 600_000),
      r.intIn("notifications.expiryScanMillis", 3_600_000, 100, 86_400_000),
      r.string("notifications.hostsFile", ""),
      r.string("notifications.webhook.url", ""),
      r.string("notifications.webhook.secret", ""),
      r.bool("notifications.allowPrivateTargets", false),
      r.intIn("notifications.delivery.concurrency", 8, 1, 256),
      r.intIn("notifications.delivery.requestTimeoutMillis", 5000, 100, 60_000),
      r.intIn("notifications.delivery.leaseMillis", 30_000, 1000, 600_000),
      r.intIn("notifications.delivery.backoffBaseMillis", 1000, 10, 60_000),
      r.intIn("notifications.delivery.backoffCapMillis", 300_000, 10, 86_400_000));
    if (s.accessLogSettleMillis() <= commitTimeout) {
      r.problem("notifications.accessLogSettleMillis must be more than audit.commitTimeoutMillis (" + commitTimeout
        + "): a row commits at most that long after its time");
    }
    if (s.leaseMillis() < 2 * s.requestTimeoutMillis()) {
      r.problem("notifications.delivery.leaseMillis must be at least twice notifications.delivery.requestTimeoutMillis:"
        + " a lease outlives the request it covers");
    }
    if (s.backoffCapMillis() < s.backoffBaseMillis()) {
      r.problem("notifications.delivery.backoffCapMillis must be at least notifications.delivery.backoffBaseMillis");
    }
    if (!s.webhookUrl().isEmpty()) {
      try {
        URI u = new URI(s.webhookUrl());
        if (!"http".equalsIgnoreCase(u.getScheme()) && !"https".equalsIgnoreCase(u.getScheme()) || u.getHost() == null) {
          r.problem("notifications.webhook.url must be an http(s) URL with a host");
        }
      } catch (Exception e) {
        r.problem("notifications.webhook.url is not a URL");
      }
      if (s.webhookSecret().getBytes(java.nio.charset.StandardCharsets.UTF_8).length < 32) {
        r.problem("notifications.webhook.secret must be at least 32 bytes when notifications.webhook.url is set");
      }
    }
    r.throwIfProblems();
    return s;
  }


  public boolean gateway() {
    return !webhookUrl.isEmpty();
  }

  /** Delay before attempt {@code attempts + 1}: base * 2^(attempts-1), capped, times a jitter in [0.5, 1). */
  public long backoffMillis(int attempts, double random) {
    double raw = backoffBaseMillis * Math.pow(2, Math.min(30, Math.max(0, attempts - 1)));
    double capped = Math.min(backoffCapMillis, raw);
    return Math.max(1, (long) (capped * (0.5 + random / 2)));
  }
}
