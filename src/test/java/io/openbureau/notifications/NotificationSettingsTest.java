package io.openbureau.notifications;

import io.openbureau.config.BureauConfig;
import io.openbureau.config.ConfigException;
import io.openbureau.support.TestBureau;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("Notification settings, backoff, signatures and target rules (no server)")
class NotificationSettingsTest {

  static BureauConfig with(JsonObject notifications) {
    return BureauConfig.from(TestBureau.baseConfig().put("notifications", notifications));
  }

  @Test
  @DisplayName("the shipped configuration is valid and sends nothing to a gateway")
  void defaults() {
    NotificationSettings s = NotificationSettings.from(BureauConfig.from(TestBureau.baseConfig()));
    assertTrue(s.enabled());
    assertFalse(s.gateway());
    assertFalse(s.allowPrivateTargets());
    assertEquals(1000, s.pollMillis());
  }

  @Test
  @DisplayName("an unknown key, a short gateway secret, a lease shorter than two requests or a settle time under the commit timeout is refused at start-up, named")
  void refused() {
    String[][] cases = {
      {"{\"pollMilis\": 100}", "notifications.pollMilis"},
      {"{\"webhook\": {\"url\": \"https://gw.example/n\", \"secret\": \"short\"}}", "notifications.webhook.secret"},
      {"{\"webhook\": {\"url\": \"ftp://gw.example/n\", \"secret\": \"" + "s".repeat(40) + "\"}}", "notifications.webhook.url"},
      {"{\"webhook\": {\"urls\": \"x\"}}", "notifications.webhook.urls"},
      {"{\"delivery\": {\"requestTimeoutMillis\": 5000, \"leaseMillis\": 6000}}", "notifications.delivery.leaseMillis"},
      {"{\"accessLogSettleMillis\": 1500}", "notifications.accessLogSettleMillis"},
    };
    for (String[] c : cases) {
      // refused when the configuration is built (BureauConfig.from validates every section), as at start-up
      Exception e = assertThrows(ConfigException.class, () -> NotificationSettings.from(with(new JsonObject(c[0]))), c[0]);
      assertTrue(e.getMessage().contains(c[1]), c[0] + " -> " + e.getMessage());
    }
  }

  @Test
  @DisplayName("the retry delay doubles from the base, never passes the cap, and is jittered between half and all of it")
  void backoff() {
    NotificationSettings s = NotificationSettings.from(with(new JsonObject(
      "{\"delivery\": {\"backoffBaseMillis\": 100, \"backoffCapMillis\": 1000}}")));
    assertEquals(100, s.backoffMillis(1, 0.9999999), 1);
    assertEquals(50, s.backoffMillis(1, 0));
    assertEquals(200, s.backoffMillis(2, 0.9999999), 1);
    assertEquals(400, s.backoffMillis(3, 0.9999999), 1);
    for (int attempts = 1; attempts < 100; attempts++) {
      long d = s.backoffMillis(attempts, 0.9999999);
      assertTrue(d <= 1000, "capped: " + d);
      assertTrue(s.backoffMillis(attempts, 0) >= Math.min(1000, 100L << Math.min(20, attempts - 1)) / 2 - 1);
    }
  }

  @Test
  @DisplayName("the signature is sha256= and the hex HMAC-SHA-256 of the raw body (RFC 4231 test case 2)")
  void signature() {
    assertEquals("sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
      Signatures.sign("Jefe", "what do ya want for nothing?".getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  @DisplayName("link-local, unspecified and the clouds' metadata addresses are refused even when private targets are allowed")
  void addresses() throws Exception {
    for (String a : new String[] {"169.254.169.254", "fe80::1", "0.0.0.0", "::", "100.100.100.200", "::ffff:169.254.169.254"}) {
      assertTrue(TargetGuard.never(InetAddress.getByName(a)), a);
    }
    for (String a : new String[] {"127.0.0.1", "::1", "10.0.0.1", "172.20.1.1", "192.168.0.1", "fd00:ec2::254", "100.64.0.1"}) {
      assertTrue(TargetGuard.internal(InetAddress.getByName(a)), a);
      assertFalse(TargetGuard.never(InetAddress.getByName(a)), a + " is allowed for tests with allowPrivateTargets");
    }
    for (String a : new String[] {"93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "8.8.8.8"}) {
      assertFalse(TargetGuard.internal(InetAddress.getByName(a)), a);
      assertFalse(TargetGuard.never(InetAddress.getByName(a)), a);
    }
  }
}
