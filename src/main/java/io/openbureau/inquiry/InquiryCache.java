package io.openbureau.inquiry;

import io.openbureau.cache.LuaScript;
import io.openbureau.cache.RedisStore;
import io.openbureau.identity.BorrowerKeys;
import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.util.ArrayList;
import java.util.List;

/**
 * The Redis side of an inquiry: two scripts sent together (one round trip), one on the member's
 * hash tag (status and rate limit), one on the person's (consent, score, inquiry window). Keys of
 * one person share one Redis Cluster slot, as do keys of one member.
 *
 * <p>The inquiry window is a sorted set of the person's inquiries of the last 90 days
 * ({@code <G|D>|<lender>|<inquiry id>} scored by time), derived from the access log: when its
 * marker is missing (a flush, a restart, or the marker's periodic expiry) it is rebuilt from the
 * log by a union, which can only add committed rows.
 */
final class InquiryCache {
  static final LuaScript INQUIRY = LuaScript.load("inquiry.lua");
  static final LuaScript WINDOW_FILL = LuaScript.load("window_fill.lua");
  static final LuaScript MEMBER_GATE = LuaScript.load("member_gate.lua");
  static final long DAY_MS = 86_400_000L;
  static final long WINDOW_MS = 90 * DAY_MS;
  static final long WINDOW_TTL_MS = 91 * DAY_MS;

  /** The member's status entry (null on a cache miss) and the rate limiter's verdict. */
  record Gate(String statusEntry, boolean allowed, long waitMicros) {
  }

  /** The person's side: either what must be filled first, or the decision, score and counts. */
  record Person(boolean miss, boolean consentMissing, boolean scoreMissing, boolean windowMissing,
                String decision, String reason, String consentId, String scoreEntry,
                int lenders7d, int lenders30d, int lenders90d, int inquiries30d, String member) {
  }

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

  /** {@code consentKey}/{@code scoreKey} null with {@code record == false} (counts only). */
  Future<Person> person(byte[] borrowerKey, String consentKey, String scoreKey, String lenderId, String scope,
                        long inquiryId, boolean record, long nowMs) {
    List<String> keys = List.of(consentKey == null ? windowKey(borrowerKey) : consentKey,
      scoreKey == null ? windowKey(borrowerKey) : scoreKey, windowKey(borrowerKey), markerKey(borrowerKey));
    List<String> args = List.of(Long.toString(nowMs), scope == null ? "" : scope, lenderId == null ? "" : lenderId,
      Long.toString(inquiryId), record ? "record" : "peek", Long.toString(WINDOW_TTL_MS),
      Long.toString(7 * DAY_MS), Long.toString(30 * DAY_MS), Long.toString(WINDOW_MS), Long.toString(30 * DAY_MS));
    return redis.eval(INQUIRY, keys, args).map(InquiryCache::parse);
  }

  private static Person parse(Response r) {
    if ("MISS".equals(r.get(0).toString())) {
      return new Person(true, r.get(1).toInteger() == 1, r.get(2).toInteger() == 1, r.get(3).toInteger() == 1,
        null, null, null, null, 0, 0, 0, 0, null);
    }
    String score = r.get(4).toString();
    return new Person(false, false, false, false, r.get(1).toString(), r.get(2).toString(), r.get(3).toString(),
      score.isEmpty() ? null : score, r.get(5).toInteger(), r.get(6).toInteger(), r.get(7).toInteger(),
      r.get(8).toInteger(), r.get(9).toString());
  }

  /** Rebuild the window from access-log rows ({@code (time ms, member)} pairs) and mark it ready. */
  Future<Void> fillWindow(byte[] borrowerKey, List<InquiryRepository.WindowRow> rows) {
    List<String> args = new ArrayList<>(2 + rows.size() * 2);
    args.add(Long.toString(settings.windowRebuildSeconds() * 1000L));
    args.add(Long.toString(WINDOW_TTL_MS));
    for (InquiryRepository.WindowRow row : rows) {
      args.add(Long.toString(row.atMillis()));
      args.add(member(row.decision(), row.lenderId(), row.id()));
    }
    return redis.eval(WINDOW_FILL, List.of(windowKey(borrowerKey), markerKey(borrowerKey)), args).mapEmpty();
  }

  /** Takes back an inquiry recorded in the window that was then not served (refused or not logged). */
  Future<Void> forget(byte[] borrowerKey, String member) {
    if (member == null || member.isEmpty()) {
      return Future.succeededFuture();
    }
    return redis.send(Request.cmd(Command.ZREM).arg(windowKey(borrowerKey)).arg(member)).mapEmpty();
  }

  static String member(String decision, String lenderId, long id) {
    return decision.charAt(0) + "|" + lenderId + "|" + id;
  }
}
