package io.openbureau.notifications;

import io.openbureau.identity.BorrowerKeys;
import io.openbureau.identity.NationalId;
import io.openbureau.support.Api;
import io.openbureau.support.TestBureau;
import io.openbureau.support.Tokens;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("Notification delivery: at least once, the same id on every retry, one sender at a time, across restarts")
class NotificationDeliveryTest {
  private static final AtomicInteger PEOPLE = new AtomicInteger(700);
  private static Receiver receiver;
  private static BorrowerKeys keys;

  @BeforeAll
  static void start() {
    receiver = new Receiver();
    receiver.secrets.put("/gateway", NotificationTest.GATEWAY_SECRET);
  }

  @AfterAll
  static void stop() {
    receiver.close();
  }

  static TestBureau bureau(String name) {
    TestBureau b = TestBureau.start(name, NotificationTest.config(receiver));
    keys = new BorrowerKeys(b.config().identity().hmacKeyId(), b.config().identity().hmacSecret());
    return b;
  }

  static String person() {
    return NationalId.of("110107", LocalDate.of(1982, 1, 1).plusDays(PEOPLE.incrementAndGet()), 23);
  }

  /** {@code n} freeze changes of one person: n notifications, in this order. */
  static void changes(Api api, String p, int n) {
    String token = Tokens.borrower(p);
    for (int i = 0; i < n; i++) {
      Api.Res r = i % 2 == 0 ? api.raw("PUT", "/v1/me/freeze", token, null, null) : api.delete("/v1/me/freeze", token);
      assertEquals(200, r.status(), r.toString());
    }
  }

  static List<Receiver.Hit> hitsOf(String p) {
    String hex = BorrowerKeys.hex(keys.key(p));
    List<Receiver.Hit> out = new ArrayList<>();
    for (Receiver.Hit h : receiver.at("/gateway")) {
      if (hex.equals(h.json().getString("borrowerKey"))) {
        out.add(h);
      }
    }
    return out;
  }

  static List<String> acceptedIds(String p) {
    return hitsOf(p).stream().filter(h -> h.status() == 200).map(h -> h.json().getString("id")).toList();
  }

  @Test
  @DisplayName("a receiver that answers 500, closes the connection, is too slow or redirects is retried with the same id, never followed, then gets each once in order")
  void faultsThenRecovery() {
    try (TestBureau b = bureau("notify_faults")) {
      String p = person();
      receiver.mode = Receiver.Mode.FAIL_500;
      changes(b.api, p, 3);
      for (Receiver.Mode m : List.of(Receiver.Mode.FAIL_500, Receiver.Mode.CLOSE, Receiver.Mode.SLOW, Receiver.Mode.REDIRECT)) {
        receiver.mode = m;
        int before = hitsOf(p).size();
        Receiver.waitFor("two attempts while " + m, 20_000, () -> hitsOf(p).size() >= before + 2);
      }
      receiver.mode = Receiver.Mode.OK;
      Receiver.waitFor("three accepted", 20_000, () -> acceptedIds(p).size() >= 3);
      List<Receiver.Hit> hits = hitsOf(p);
      String first = hits.get(0).json().getString("id");
      String firstBody = hits.get(0).body();
      int firstAccepted = -1;
      for (int i = 0; i < hits.size(); i++) {
        if (hits.get(i).status() == 200) {
          firstAccepted = i;
          break;
        }
      }
      for (int i = 0; i <= firstAccepted; i++) {
        assertEquals(first, hits.get(i).json().getString("id"), "only the oldest is tried while it fails");
        assertEquals(firstBody, hits.get(i).body(), "the same bytes on every retry");
        assertTrue(hits.get(i).signed());
      }
      assertTrue(firstAccepted >= 8, "retried through every fault: " + firstAccepted);
      assertEquals(0, receiver.redirectsFollowed.get(), "a redirect is never followed");
      List<String> accepted = acceptedIds(p);
      assertEquals(3, new HashSet<>(accepted).size());
      List<Long> order = accepted.stream().map(Long::parseLong).toList();
      assertEquals(order.stream().sorted().toList(), order, "in order of creation");
      Receiver.waitFor("nothing pending", 10_000, () -> b.count(
        "SELECT count(*) FROM webhook_deliveries WHERE delivered_at IS NULL") == 0);
      String metrics = b.api.get("/metrics", null).body();
      assertTrue(metrics.contains("bureau_notifications_failed_attempts_total"), "metrics name the failed attempts");
      assertTrue(metrics.contains("bureau_notifications_pending"));
      assertTrue(!metrics.contains(p));
    }
  }

  @Test
  @DisplayName("a bureau stopped mid-delivery loses nothing: a new one over the same database delivers every notification, under its one id")
  void restartResumes() {
    TestBureau first = bureau("notify_restart");
    TestBureau second = null;
    try {
      String p = person();
      receiver.mode = Receiver.Mode.SLOW;
      receiver.slowMillis = 3000;
      changes(first.api, p, 4);
      Receiver.waitFor("an attempt in flight", 10_000, () -> !hitsOf(p).isEmpty());
      first.stop(); // its lease is left behind in Postgres, the outcome never written
      long delivered = first.count("SELECT count(*) FROM webhook_deliveries WHERE delivered_at IS NOT NULL");
      assertEquals(0, delivered);
      receiver.mode = Receiver.Mode.OK;
      second = first.sibling();
      Receiver.waitFor("four accepted", 30_000, () -> new HashSet<>(acceptedIds(p)).size() >= 4);
      Set<String> ids = new HashSet<>(acceptedIds(p));
      Set<String> notified = new HashSet<>();
      Api.Res inbox = second.api.get("/v1/me/notifications", Tokens.borrower(p));
      inbox.json().getJsonArray("items").forEach(o -> notified.add(((JsonObject) o).getString("id")));
      assertEquals(notified, ids, "every notification delivered, under its own id");
      assertEquals(4, first.count("SELECT count(*) FROM notifications WHERE source = 'access_log'"),
        "no notification derived twice");
      Map<String, Set<String>> bodies = new HashMap<>();
      for (Receiver.Hit h : hitsOf(p)) {
        bodies.computeIfAbsent(h.json().getString("id"), k -> new HashSet<>()).add(h.body());
      }
      bodies.forEach((id, set) -> assertEquals(1, set.size(), "one body per id: " + id));
    } finally {
      receiver.mode = Receiver.Mode.OK;
      if (second != null) {
        second.close();
      } else {
        first.dropDatabase();
      }
    }
  }

  @Test
  @DisplayName("two instances never deliver the same notification at the same time, and each is accepted once")
  void twoInstances() {
    TestBureau one = bureau("notify_two");
    TestBureau two = one.sibling();
    try {
      receiver.mode = Receiver.Mode.OK;
      receiver.okDelayMillis = 200;
      receiver.maxConcurrentPerId.set(0);
      List<String> people = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        String p = person();
        people.add(p);
        changes(i % 2 == 0 ? one.api : two.api, p, 3);
      }
      Receiver.waitFor("18 accepted", 30_000, () -> people.stream().mapToInt(p -> acceptedIds(p).size()).sum() >= 18);
      for (String p : people) {
        List<String> ids = acceptedIds(p);
        assertEquals(3, ids.size(), "each accepted once: " + ids);
        assertEquals(3, new HashSet<>(ids).size());
      }
      assertEquals(1, receiver.maxConcurrentPerId.get(), "never two senders of one notification at once");
      for (String p : people) {
        Map<String, Integer> perId = new HashMap<>();
        hitsOf(p).forEach(h -> perId.merge(h.json().getString("id"), 1, Integer::sum));
        assertEquals(3, perId.size());
        perId.forEach((id, n) -> assertEquals(1, n, "received once: " + id));
      }
    } finally {
      receiver.okDelayMillis = 0;
      two.stop();
      one.close();
    }
  }
}
