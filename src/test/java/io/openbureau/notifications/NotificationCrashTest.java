package io.openbureau.notifications;

import io.openbureau.config.BureauConfig;
import io.openbureau.identity.BorrowerKeys;
import io.openbureau.identity.NationalId;
import io.openbureau.support.Api;
import io.openbureau.support.TestBureau;
import io.openbureau.support.Tokens;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("Notification delivery survives kill -9: nothing lost, nothing under a second id")
class NotificationCrashTest {

  @Test
  @DisplayName("a bureau process killed with deliveries in flight: a new one over the same database delivers each notification under its one id, in order")
  void killNine() throws Exception {
    Receiver receiver = new Receiver();
    receiver.secrets.put("/gateway", NotificationTest.GATEWAY_SECRET);
    // this instance only owns the database: it derives and delivers nothing
    TestBureau owner = TestBureau.start("notify_crash", new JsonObject().put("notifications",
      new JsonObject().put("enabled", false)));
    TestBureau after = null;
    Process server = null;
    try {
      BureauConfig cfg = owner.config();
      int port = TestBureau.freePort();
      ProcessBuilder pb = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"),
        "-Xmx256m", "-cp", System.getProperty("java.class.path"), "io.openbureau.Main", "serve");
      pb.environment().put("PORT", Integer.toString(port));
      pb.environment().put("BUREAU_ENV", "test");
      pb.environment().put("BUREAU_HTTP_INSTANCES", "1");
      pb.environment().put("BUREAU_POSTGRES_DATABASE", cfg.postgres().database());
      pb.environment().put("BUREAU_REDIS_KEY_PREFIX", cfg.redis().keyPrefix());
      pb.environment().put("BUREAU_NOTIFICATIONS_POLL_MILLIS", "100");
      pb.environment().put("BUREAU_NOTIFICATIONS_WEBHOOK_URL", receiver.url("/gateway"));
      pb.environment().put("BUREAU_NOTIFICATIONS_WEBHOOK_SECRET", NotificationTest.GATEWAY_SECRET);
      pb.environment().put("BUREAU_NOTIFICATIONS_DELIVERY_REQUEST_TIMEOUT_MILLIS", "3000");
      pb.environment().put("BUREAU_NOTIFICATIONS_DELIVERY_LEASE_MILLIS", "6000");
      File log = new File("target/notification-crash-server.log");
      pb.redirectErrorStream(true).redirectOutput(log);
      receiver.mode = Receiver.Mode.SLOW;
      receiver.slowMillis = 20_000; // the first attempt is still waiting for its answer when the process dies
      server = pb.start();
      Api api = new Api("http://127.0.0.1:" + port);
      boolean ready = false;
      for (int i = 0; i < 300 && !ready; i++) {
        try {
          ready = api.get("/health/ready", null).status() == 200;
        } catch (RuntimeException e) {
          // not listening yet
        }
        if (!ready) {
          Thread.sleep(100);
        }
      }
      assertTrue(ready, "the server process did not become ready; see " + log);

      String p = NationalId.of("110108", LocalDate.of(1983, 3, 3), 29);
      String token = Tokens.borrower(p);
      for (int i = 0; i < 3; i++) {
        Api.Res r = i % 2 == 0 ? api.raw("PUT", "/v1/me/freeze", token, null, null) : api.delete("/v1/me/freeze", token);
        assertEquals(200, r.status(), r.toString());
      }
      String hex = BorrowerKeys.hex(new BorrowerKeys(cfg.identity().hmacKeyId(), cfg.identity().hmacSecret()).key(p));
      Receiver.waitFor("an attempt in flight", 15_000, () -> receiver.at("/gateway").stream()
        .anyMatch(h -> hex.equals(h.json().getString("borrowerKey"))));
      // the follower derives up to a settled horizon (notifications.accessLogSettleMillis): the three may take two
      // passes, and the first delivery may already be in flight before the last is derived
      Receiver.waitFor("all three derived", 15_000, () -> owner.count("SELECT count(*) FROM notifications") == 3);
      server.destroyForcibly(); // SIGKILL on Linux
      assertTrue(server.waitFor(10, TimeUnit.SECONDS));
      assertEquals(3, owner.count("SELECT count(*) FROM notifications"), "derived before the kill");
      assertEquals(3, owner.count("SELECT count(*) FROM webhook_deliveries"), "with their deliveries");
      assertEquals(0, owner.count("SELECT count(*) FROM webhook_deliveries WHERE delivered_at IS NOT NULL"));
      assertEquals(1, owner.count("SELECT count(*) FROM webhook_deliveries WHERE lease_until > now()"),
        "the killed process' lease is still held");

      receiver.mode = Receiver.Mode.OK;
      JsonObject raw = cfg.raw().copy();
      raw.getJsonObject("http").put("port", TestBureau.freePort());
      raw.mergeIn(NotificationTest.config(receiver), true);
      raw.getJsonObject("notifications").put("enabled", true);
      after = TestBureau.startWith(BureauConfig.from(raw));
      Receiver.waitFor("three accepted", 30_000, () -> receiver.accepted("/gateway").stream()
        .filter(h -> hex.equals(h.json().getString("borrowerKey"))).map(h -> h.json().getString("id")).distinct().count() >= 3);

      List<String> accepted = new ArrayList<>();
      Map<String, Set<String>> bodies = new HashMap<>();
      for (Receiver.Hit h : receiver.at("/gateway")) {
        if (hex.equals(h.json().getString("borrowerKey"))) {
          bodies.computeIfAbsent(h.json().getString("id"), k -> new HashSet<>()).add(h.body());
          if (h.status() == 200) {
            accepted.add(h.json().getString("id"));
          }
        }
      }
      assertEquals(3, bodies.size(), "three ids, no other: " + bodies.keySet());
      bodies.forEach((id, set) -> assertEquals(1, set.size(), "one body per id"));
      assertEquals(3, accepted.size(), "each accepted once: " + accepted);
      List<Long> order = accepted.stream().map(Long::parseLong).toList();
      assertEquals(order.stream().sorted().toList(), order, "in order of creation");
      Set<String> inbox = new HashSet<>();
      after.api.get("/v1/me/notifications", token).json().getJsonArray("items")
        .forEach(o -> inbox.add(((JsonObject) o).getString("id")));
      assertEquals(inbox, bodies.keySet());
    } finally {
      if (server != null && server.isAlive()) {
        server.destroyForcibly();
      }
      if (after != null) {
        after.stop();
      }
      owner.close();
      receiver.close();
    }
  }
}
