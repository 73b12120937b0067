package io.openbureau.rights;

import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;

import java.time.Instant;
import java.time.OffsetDateTime;

/**
 * A person's protections of their file, as recorded in Postgres ({@code protections}) and cached in
 * Redis for the inquiry script: a freeze (refuses HARD inquiries a consent would allow) with an
 * optional temporary lift, and a fraud alert (FRAUD_ALERT in every granted answer while it lasts).
 *
 * <p>Time is judged by the reader against its own {@code now}, never by a job: a lift ends and an
 * alert expires by themselves, so neither needs a publication.
 */
public record Protections(Instant frozenSince, Instant liftedUntil, Instant fraudSince, Instant fraudUntil,
                          long version) {
  /** The cached entry of a person with no row (version 0). */
  static final String NONE = "NONE";
  public static final Protections NOTHING = new Protections(null, null, null, null, 0);

  /** Frozen at {@code now}: a freeze, and no lift running. */
  public boolean frozen(Instant now) {
    return frozenSince != null && (liftedUntil == null || !now.isBefore(liftedUntil));
  }

  /** The lift running at {@code now}, or null. */
  public Instant liftRunning(Instant now) {
    return frozenSince != null && liftedUntil != null && now.isBefore(liftedUntil) ? liftedUntil : null;
  }

  public boolean fraudAlert(Instant now) {
    return fraudUntil != null && now.isBefore(fraudUntil);
  }

  public JsonObject freezeJson(Instant now) {
    boolean frozen = frozen(now);
    Instant lift = liftRunning(now);
    return new JsonObject().put("frozen", frozen)
      .put("since", frozen || lift != null ? frozenSince.toString() : null)
      .put("liftedUntil", lift == null ? null : lift.toString());
  }

  public JsonObject fraudAlertJson(Instant now) {
    boolean active = fraudAlert(now);
    return new JsonObject().put("active", active)
      .put("since", active ? fraudSince.toString() : null)
      .put("until", active ? fraudUntil.toString() : null);
  }

  /**
   * The cache payload read by the inquiry script: {@code <frozenSinceMs>|<liftedUntilMs>|<fraudUntilMs>}
   * (0 for none), or {@link #NONE} for a person without protections. 40 bytes at most.
   */
  public String payload() {
    if (frozenSince == null && fraudUntil == null) {
      return NONE;
    }
    return ms(frozenSince) + "|" + ms(liftedUntil) + "|" + ms(fraudUntil);
  }

  /** The inverse of {@link #payload} (version from the cache entry). */
  public static Protections fromPayload(String payload, long version) {
    if (payload == null || NONE.equals(payload)) {
      return new Protections(null, null, null, null, version);
    }
    String[] p = payload.split("\\|");
    Instant fraudUntil = instant(p[2]);
    // the cache does not carry fraud_since: only the answers' flag reads the cache
    return new Protections(instant(p[0]), instant(p[1]), fraudUntil == null ? null : Instant.EPOCH, fraudUntil, version);
  }

  static Protections fromRow(Row r) {
    return new Protections(at(r.getOffsetDateTime("frozen_since")), at(r.getOffsetDateTime("lifted_until")),
      at(r.getOffsetDateTime("fraud_since")), at(r.getOffsetDateTime("fraud_until")), r.getLong("version"));
  }

  private static Instant at(OffsetDateTime t) {
    return t == null ? null : t.toInstant();
  }

  private static long ms(Instant t) {
    return t == null ? 0 : t.toEpochMilli();
  }

  private static Instant instant(String ms) {
    long v = Long.parseLong(ms);
    return v == 0 ? null : Instant.ofEpochMilli(v);
  }
}
