package io.openbureau.inquiry;

import io.openbureau.cache.LuaScript;
import io.openbureau.cache.RedisStore;
import io.openbureau.identity.BorrowerKeys;
import io.vertx.core.Future;
import io.vertx.redis.client.Response;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The Redis side of an inquiry: the member gate (status and rate limit, on the member's hash tag)
 * and the decision (consent or existing account, score, inquiry window, on the person's hash tag),
 * one script each.
 *
 * <p><b>The window</b> of a person is one hash, {@code {b:<hex>}:inq}, whose size depends on the
 * number of distinct lenders and days, never on the number of inquiries:
 * <ul>
 *   <li>{@code l:<lender>} = the time (epoch ms) of that lender's last GRANTED HARD inquiry, kept 90
 *   days (distinctLenders7d/30d/90d compare it with now);</li>
 *   <li>{@code d:<epochDay>} = the number of GRANTED HARD inquiries that UTC day, kept 30 days
 *   (inquiries30d is the sum of today's bucket and the 29 before it).</li>
 * </ul>
 * Only GRANTED HARD inquiries touch it (denials, SOFT, INVALID and refused requests never do), stale
 * fields are pruned by every call that reads it, and it expires 91 days after its last write. The
 * rebuild from the access log ({@link #fillWindow}) uses exactly the same fields and buckets, so the
 * live counts equal the rebuilt ones; it merges with a maximum per field, so an inquiry recorded
 * meanwhile is not lost. An inquiry recorded and then not served is taken back ({@link #forget}).
 *
 * <p><b>Memory per person</b>, measured with {@code MEMORY USAGE} on Redis 7 (listpack encoding,
 * as long as the hash holds fewer pairs than {@code hash-max-listpack-entries}/2): about 32 bytes per
 * {@code l:<lender>} field (a 17-character lender id), about 11 bytes per {@code d:<day>} field, and
 * about 80 bytes of key overhead: 568 bytes for a person asked about by 5 lenders on 30 days, 3.6 KB
 * for 100 lenders; the marker key {@code inq:ready} 72 bytes. Past the listpack limit (a person with
 * more than ~100 distinct lenders in 90 days) Redis switches to a hashtable, ~80 bytes per field. The
 * bound is the number of members, never the number of inquiries: a lender flooding one person with
 * denials adds nothing, one flooding with GRANTED HARD inquiries adds one field.
 */
final class InquiryCache {
  static final LuaScript INQUIRY = LuaScript.load("inquiry.lua");
  static final LuaScript WINDOW_FILL = LuaScript.load("window_fill.lua");
  static final LuaScript WINDOW_FORGET = LuaScript.load("window_forget.lua");
  static final LuaScript MEMBER_GATE = LuaScript.load("member_gate.lua");
  static final long DAY_MS = 86_400_000L;
  static final long WINDOW_MS = 90 * DAY_MS;
  static final long WINDOW_TTL_MS = 91 * DAY_MS;
  static final int DAY_BUCKETS = 30;
  private static final String WINDOWS_SHORT = Long.toString(7 * DAY_MS);
  private static final String WINDOWS_MEDIUM = Long.toString(30 * DAY_MS);
  private static final String WINDOWS_LONG = Long.toString(WINDOW_MS);
  private static final String TTL = Long.toString(WINDOW_TTL_MS);
  private static final String BUCKETS = Integer.toString(DAY_BUCKETS);

  /** The member's status entry (null on a cache miss) and the rate limiter's verdict. */
  record Gate(String statusEntry, boolean allowed, long waitMicros) {
  }

  /** What to take back from the window when a recorded inquiry is not served. */
  record TakeBack(String lenderId, long atMillis, String previous, long day) {
  }

  /** The person's side: either what must be filled first, or the decision, score and counts. */
  record Person(boolean miss, boolean consentMissing, boolean scoreMissing, boolean windowMissing,
                boolean protectionsMissing, String decision, String reason, String consentId, String basis,
                String scoreEntry, int lenders7d, int lenders30d, int lenders90d, int inquiries30d, TakeBack takeBack,
                boolean fraudAlert) {
    boolean granted() {
      return "GRANTED".equals(decision);
    }
  }

  /** The mode of the person's script. */
  enum Mode { RECORD, JUDGE, PEEK }

  private final RedisStore redis;
  private final InquirySettings settings;

  InquiryCache(RedisStore redis, InquirySettings settings) {
    this.redis = redis;
    this.settings = settings;
  }

  String windowKey(byte[] borrowerKey) {
    return redis.key("b:" + BorrowerKeys.hex(borrowerKey), "inq");
  }

  String markerKey(byte[] borrowerKey) {
    return redis.key("b:" + BorrowerKeys.hex(borrowerKey), "inq:ready");
  }

  String bucketKey(String memberId) {
    return redis.key("m:" + memberId, "rl");
  }

  Future<Gate> gate(String statusKey, String memberId) {
    return redis.eval(MEMBER_GATE, List.of(statusKey, bucketKey(memberId)),
        List.of(Double.toString(settings.ratePerSecond()), Integer.toString(settings.rateBurst())))
      .map(r -> new Gate(r.get(0) == null ? null : r.get(0).toString(), r.get(1).toInteger() == 1,
        r.get(2).toLong()));
  }

  /** {@code consentKey}/{@code scoreKey}/{@code protectionsKey} are ignored (may be null) in {@link Mode#PEEK}. */
  Future<Person> person(Mode mode, byte[] borrowerKey, String consentKey, String scoreKey, String protectionsKey,
                        String lenderId, String purpose, String scope, long nowMs) {
    String window = windowKey(borrowerKey);
    List<String> keys = List.of(consentKey == null ? window : consentKey, scoreKey == null ? window : scoreKey,
      window, markerKey(borrowerKey), protectionsKey == null ? window : protectionsKey);
    String type = Purposes.type(purpose);
    List<String> args = List.of(Long.toString(nowMs), scope == null ? "" : scope, lenderId == null ? "" : lenderId,
      mode.name().toLowerCase(java.util.Locale.ROOT), type == null ? "" : type,
      Purposes.mayRestOnAccount(purpose) ? "1" : "0", TTL, WINDOWS_SHORT, WINDOWS_MEDIUM, WINDOWS_LONG, BUCKETS);
    return redis.eval(INQUIRY, keys, args).map(r -> parse(r, lenderId, nowMs));
  }

  private static Person parse(Response r, String lenderId, long nowMs) {
    if ("MISS".equals(r.get(0).toString())) {
      return new Person(true, r.get(1).toInteger() == 1, r.get(2).toInteger() == 1, r.get(3).toInteger() == 1,
        r.get(4).toInteger() == 1, null, null, null, null, null, 0, 0, 0, 0, null, false);
    }
    String score = r.get(5).toString();
    String consentId = r.get(3).toString();
    String basis = r.get(4).toString();
    String back = r.get(10).toString();
    TakeBack takeBack = null;
    if (!back.isEmpty()) {
      int bar = back.lastIndexOf('|');
      takeBack = new TakeBack(lenderId, nowMs, back.substring(0, bar), Long.parseLong(back.substring(bar + 1)));
    }
    return new Person(false, false, false, false, false, r.get(1).toString(), r.get(2).toString(),
      consentId.isEmpty() ? null : consentId, basis.isEmpty() ? null : basis, score.isEmpty() ? null : score,
      r.get(6).toInteger(), r.get(7).toInteger(), r.get(8).toInteger(), r.get(9).toInteger(), takeBack,
      r.get(11).toInteger() == 1);
  }

  /** Merges the window rebuilt from the access log (its fields and values) and marks it ready. */
  Future<Void> fillWindow(byte[] borrowerKey, Map<String, Long> fields) {
    List<String> args = new ArrayList<>(2 + fields.size() * 2);
    args.add(Long.toString(settings.windowRebuildSeconds() * 1000L));
    args.add(TTL);
    fields.forEach((f, v) -> {
      args.add(f);
      args.add(Long.toString(v));
    });
    return redis.eval(WINDOW_FILL, List.of(windowKey(borrowerKey), markerKey(borrowerKey)), args).mapEmpty();
  }

  /** Takes back an inquiry recorded in the window that was then not served (refused or not logged). */
  Future<Void> forget(byte[] borrowerKey, TakeBack t) {
    if (t == null) {
      return Future.succeededFuture();
    }
    return redis.eval(WINDOW_FORGET, List.of(windowKey(borrowerKey)),
      List.of(t.lenderId(), Long.toString(t.atMillis()), t.previous(), Long.toString(t.day()))).mapEmpty();
  }
}
