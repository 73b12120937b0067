package io.openbureau.notifications;

import io.openbureau.http.ApiError;
import io.openbureau.identity.BorrowerKeys;
import io.openbureau.identity.NationalId;
import io.openbureau.support.Api;
import io.openbureau.support.TestBureau;
import io.openbureau.support.Tokens;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
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
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("Notifications: the person hears of every look and change, the gateway and the furnisher get signed events")
class NotificationTest {
  static final String GATEWAY_SECRET = "gateway-secret-for-tests-0123456789abcdef";
  static final String MEMBER_SECRET = "member-secret-of-lender-a-0123456789abcdef";
  private static final AtomicInteger PEOPLE = new AtomicInteger(400);
  private static Receiver receiver;
  private static TestBureau bureau;
  private static Api api;
  private static BorrowerKeys keys;
  /** The bureau's hosts file (notifications.hostsFile): test names pinned to addresses, changed under it. */
  private static java.nio.file.Path hosts;

  @BeforeAll
  static void start() {
    receiver = new Receiver();
    receiver.secrets.put("/gateway", GATEWAY_SECRET);
    receiver.secrets.put("/member/lender-a", MEMBER_SECRET);
    try {
      hosts = java.nio.file.Files.createTempFile("notify-hosts", ".txt");
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    bureau = TestBureau.start("notify", config(receiver).put("notifications", config(receiver)
      .getJsonObject("notifications").put("hostsFile", hosts.toString())));
    api = bureau.api;
    keys = new BorrowerKeys(bureau.config().identity().hmacKeyId(), bureau.config().identity().hmacSecret());
    for (String m : List.of("lender-a", "lender-b")) {
      assertEquals(201, api.post("/v1/members", Tokens.admin(), new JsonObject().put("id", m).put("name", m)).status());
    }
  }

  static JsonObject config(Receiver receiver) {
    return new JsonObject()
      .put("disputes", new JsonObject().put("overdueCheckSeconds", 1))
      .put("notifications", new JsonObject().put("pollMillis", 100).put("expiryScanMillis", 200)
        .put("allowPrivateTargets", true)
        .put("webhook", new JsonObject().put("url", receiver.url("/gateway")).put("secret", GATEWAY_SECRET))
        .put("delivery", new JsonObject().put("requestTimeoutMillis", 1000).put("leaseMillis", 2000)
          .put("backoffBaseMillis", 50).put("backoffCapMillis", 400)));
  }

  @AfterAll
  static void stop() {
    bureau.close();
    receiver.close();
    try {
      java.nio.file.Files.deleteIfExists(hosts);
    } catch (java.io.IOException e) {
      // a temp file
    }
  }

  static String person() {
    return NationalId.of("110106", LocalDate.of(1981, 1, 1).plusDays(PEOPLE.incrementAndGet()), 21);
  }

  static JsonArray inbox(String person) {
    Api.Res r = api.get("/v1/me/notifications?limit=1000", Tokens.borrower(person));
    assertEquals(200, r.status(), r.toString());
    return r.json().getJsonArray("items");
  }

  static List<JsonObject> list(JsonArray a) {
    List<JsonObject> out = new ArrayList<>();
    a.forEach(o -> out.add((JsonObject) o));
    return out;
  }

  static void ok(Api.Res r, int... statuses) {
    for (int s : statuses) {
      if (r.status() == s) {
        return;
      }
    }
    throw new AssertionError("unexpected answer " + r);
  }

  static JsonObject loan(String id, String status) {
    return new JsonObject().put("nationalId", id).put("productType", "CONSUMER_LOAN").put("openedAt", "2023-03-15")
      .put("principal", "20000.00").put("status", status).put("balance", "12000.00")
      .put("daysPastDue", "DEFAULTED".equals(status) ? 180 : 0);
  }

  @Test
  @DisplayName("every kind of event reaches the inbox within 5 s and the gateway signed, with the same id, and no national id anywhere")
  void everyKind() {
    String p = person();
    String token = Tokens.borrower(p);
    Api.Res g = api.post("/v1/me/consents", token, new JsonObject().put("lenderId", "lender-a")
      .put("purpose", "LOAN_ORIGINATION").put("scope", "REPORT"));
    ok(g, 201);
    String consentId = g.json().getString("consentId", g.json().getString("id"));
    ok(api.post("/v1/inquiries", Tokens.lender("lender-a"), new JsonObject().put("nationalId", p)
      .put("purpose", "LOAN_ORIGINATION").put("scope", "REPORT")), 200);
    ok(api.post("/v1/inquiries", Tokens.lender("lender-b"), new JsonObject().put("nationalId", p)
      .put("purpose", "LOAN_ORIGINATION")), 403);
    ok(api.put("/v1/tradelines/N-1", Tokens.lender("lender-a"), loan(p, "OPEN")), 200, 201);
    ok(api.post("/v1/inquiries", Tokens.lender("lender-a"), new JsonObject().put("nationalId", p)
      .put("purpose", "ACCOUNT_REVIEW")), 200);
    ok(api.post("/v1/tradelines/N-1/repayments", Tokens.lender("lender-a"), new JsonObject().put("period", "2026-09")
      .put("amountDue", "500.00").put("amountPaid", "0.00").put("daysPastDue", 30)), 201);
    ok(api.put("/v1/tradelines/N-1", Tokens.lender("lender-a"), loan(p, "DEFAULTED")), 200, 201);
    ok(api.delete("/v1/me/consents/" + consentId, token), 200);
    ok(api.raw("PUT", "/v1/me/freeze", token, null, null), 200);
    ok(api.delete("/v1/me/freeze", token), 200);
    ok(api.put("/v1/me/fraud-alert", token, new JsonObject().put("days", 30)), 200);
    ok(api.delete("/v1/me/fraud-alert", token), 200);
    Api.Res d = api.post("/v1/me/disputes", token, new JsonObject().put("lenderId", "lender-a").put("accountRef", "N-1")
      .put("reason", "WRONG_STATUS").put("statement", "I repaid it"));
    ok(d, 201);
    ok(api.post("/v1/furnishing/disputes/" + d.json().getString("disputeId") + "/resolution", Tokens.lender("lender-a"),
      new JsonObject().put("outcome", "VERIFIED").put("note", "checked")), 200);
    ok(api.post("/v1/me/consents", token, new JsonObject().put("lenderId", "lender-b").put("purpose", "ACCOUNT_REVIEW")
      .put("durationDays", 3)), 201);

    // 2 grants, 1 revoke, 1 expiring, 3 inquiries, 2 negative, 2 freeze, 2 fraud alert, 2 dispute
    long lastEvent = System.currentTimeMillis();
    try {
      Receiver.waitFor("15 notifications in the inbox", 15_000, () -> inbox(p).size() >= 15);
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + ": " + list(inbox(p)).stream()
        .map(i -> i.getString("kind") + " " + i.getString("message")).toList());
    }
    long took = System.currentTimeMillis() - lastEvent;
    List<JsonObject> items = list(inbox(p));
    Map<String, Integer> kinds = new HashMap<>();
    items.forEach(i -> kinds.merge(i.getString("kind"), 1, Integer::sum));
    assertEquals(Map.of("CONSENT", 4, "INQUIRY", 3, "NEGATIVE_DATA", 2, "FREEZE", 2, "FRAUD_ALERT", 2, "DISPUTE", 2),
      kinds, items.toString());
    assertTrue(took < 5_000, "within 5 s of the last event: " + took + " ms");
    Set<String> inquiryTypes = new HashSet<>();
    Set<String> decisions = new HashSet<>();
    for (JsonObject i : items) {
      assertFalse(i.encode().contains(p), "no national id in " + i);
      assertFalse(i.getString("message").isBlank());
      if ("INQUIRY".equals(i.getString("kind"))) {
        inquiryTypes.add(i.getJsonObject("details").getString("inquiryType"));
        decisions.add(i.getJsonObject("details").getString("decision"));
      }
    }
    assertEquals(Set.of("HARD", "SOFT"), inquiryTypes);
    assertEquals(Set.of("GRANTED", "DENIED"), decisions);
    for (int k = 1; k < items.size(); k++) {
      assertTrue(Long.parseLong(items.get(k - 1).getString("id")) > Long.parseLong(items.get(k).getString("id")),
        "newest first");
    }

    String hex = BorrowerKeys.hex(keys.key(p));
    Receiver.waitFor("every notification at the gateway", 15_000, () -> receiver.accepted("/gateway").stream()
      .filter(h -> hex.equals(h.json().getString("borrowerKey"))).count() >= items.size());
    Map<String, JsonObject> byId = new HashMap<>();
    for (Receiver.Hit h : receiver.accepted("/gateway")) {
      JsonObject b = h.json();
      if (!hex.equals(b.getString("borrowerKey"))) {
        continue;
      }
      assertTrue(h.signed(), "signed with the gateway's secret: " + h.body());
      assertFalse(h.body().contains(p), "no national id in " + h.body());
      byId.put(b.getString("id"), b);
    }
    for (JsonObject i : items) {
      JsonObject sent = byId.get(i.getString("id"));
      assertNotNull(sent, "delivered: " + i);
      assertEquals(i.getString("kind"), sent.getString("kind"));
      assertEquals(i.getString("message"), sent.getString("message"));
      assertEquals(i.getString("at"), sent.getString("at"));
    }
  }

  @Test
  @DisplayName("an access-log row committed as late as the writer allows, with a lower id and an earlier time than rows already followed, still reaches the inbox, once")
  void lateAccessLogRow() {
    String p = person();
    String token = Tokens.borrower(p);
    ok(api.raw("PUT", "/v1/me/freeze", token, null, null), 200);
    Receiver.waitFor("the freeze told", 10_000, () -> inbox(p).size() == 1);
    // another writer's batch: its ids were reserved long ago, its time 1.5 s old (within audit.commitTimeoutMillis), it commits only now
    String hex = BorrowerKeys.hex(keys.key(p));
    bureau.sql("INSERT INTO access_log (id, at, chain_id, chain_seq, action, actor_role, borrower_key, decision,"
      + " prev_hash, row_hash) VALUES ((SELECT min(id) - 1 FROM access_log), now() - interval '1500 milliseconds', 'late-writer', 1,"
      + " 'FRAUD_ALERT_SET', 'borrower', '\\x" + hex + "', 'GRANTED', '\\x00', '\\x00')");
    Receiver.waitFor("the late row told", 10_000, () -> inbox(p).size() == 2);
    assertEquals("FRAUD_ALERT", list(inbox(p)).get(0).getString("kind"));
    String mine = "SELECT count(*) FROM notifications WHERE source = 'access_log' AND borrower_key = '\\x" + hex + "'";
    assertEquals(2, bureau.count(mine));
    ok(api.delete("/v1/me/freeze", token), 200); // a few more passes
    Receiver.waitFor("the lift told", 10_000, () -> inbox(p).size() == 3);
    assertEquals(3, bureau.count(mine), "nothing is derived twice");
  }

  @Test
  @DisplayName("a consent whose version was drawn before a higher one but committed after it is still told: the cursor waits for open transactions")
  void consentCommittedOutOfOrder() throws Exception {
    String slow = person();
    String fast = person();
    String slowHex = BorrowerKeys.hex(keys.key(slow));
    long fastVersion;
    try (java.sql.Connection c = bureau.superuserConnection()) {
      c.setAutoCommit(false);
      try (java.sql.Statement st = c.createStatement()) {
        // draws its version now, commits only at the end of the test
        st.execute("INSERT INTO consents (id, borrower_key, key_id, lender_id, purpose, scope, status, granted_at, expires_at,"
          + " version) VALUES (gen_random_uuid(), '\\x" + slowHex + "', '" + keys.keyId() + "', 'lender-a',"
          + " 'ACCOUNT_REVIEW', 'SCORE', 'ACTIVE', now(), now() + interval '30 days', nextval('consent_version_seq'))");
      }
      ok(api.post("/v1/me/consents", Tokens.borrower(fast), new JsonObject().put("lenderId", "lender-a")
        .put("purpose", "LOAN_ORIGINATION")), 201);
      Receiver.waitFor("the later grant told", 10_000, () -> inbox(fast).size() == 1);
      fastVersion = bureau.count("SELECT max(version) FROM consents");
      // the horizon is stored, and passes go on over it: a cursor that moved past the open
      // transaction's version by now would skip it for good
      String horizon = "SELECT count(*) FROM notification_cursors WHERE source = 'consent_granted' AND mark_pos >= "
        + fastVersion + " AND mark_xmax IS NOT NULL";
      Receiver.waitFor("the horizon stored", 10_000, () -> bureau.count(horizon) > 0);
      String stamp = bureau.sqlString("SELECT updated_at::text FROM notification_cursors WHERE source = 'consent_granted'");
      Receiver.waitFor("three more passes", 10_000, () -> bureau.count("SELECT count(*) FROM notification_cursors"
        + " WHERE source = 'consent_granted' AND updated_at > '" + stamp + "'::timestamptz + interval '250 milliseconds'") > 0);
      assertTrue(bureau.count("SELECT safe_pos FROM notification_cursors WHERE source = 'consent_granted'") < fastVersion,
        "the cursor stays below the open transaction's version");
      c.commit();
    }
    Receiver.waitFor("the earlier-drawn grant told", 10_000, () -> inbox(slow).size() == 1);
    assertEquals("CONSENT", list(inbox(slow)).get(0).getString("kind"));
    Receiver.waitFor("the cursor past both", 10_000, () -> bureau.count(
      "SELECT safe_pos FROM notification_cursors WHERE source = 'consent_granted'") >= fastVersion);
  }

  @Test
  @DisplayName("the inbox pages newest first with an opaque cursor, and a forged cursor is 400 naming cursor")
  void pages() {
    String p = person();
    String token = Tokens.borrower(p);
    for (int i = 0; i < 3; i++) {
      ok(api.raw("PUT", "/v1/me/freeze", token, null, null), 200);
      ok(api.delete("/v1/me/freeze", token), 200);
    }
    Receiver.waitFor("6 notifications", 10_000, () -> inbox(p).size() >= 6);
    List<String> seen = new ArrayList<>();
    String cursor = null;
    do {
      Api.Res r = api.get("/v1/me/notifications?limit=4" + (cursor == null ? "" : "&cursor=" + cursor), token);
      assertEquals(200, r.status(), r.toString());
      list(r.json().getJsonArray("items")).forEach(i -> seen.add(i.getString("id")));
      cursor = r.json().getString("nextCursor");
    } while (cursor != null);
    assertEquals(list(inbox(p)).stream().map(i -> i.getString("id")).toList(), seen);
    Api.Res bad = api.get("/v1/me/notifications?cursor=eyJpIjoieCJ9", token);
    assertEquals(400, bad.status(), bad.toString());
    assertTrue(bad.body().contains("cursor"));
    assertEquals(0, inbox(person()).size(), "another person sees nothing of it");
  }

  @Test
  @DisplayName("a member's webhook gets DISPUTE_OPENED, DISPUTE_OVERDUE and CONSENT_REVOKED signed with its own secret, without the person")
  void memberEvents() {
    Api.Res put = api.put("/v1/members/me/webhook", Tokens.lender("lender-a"),
      new JsonObject().put("url", receiver.url("/member/lender-a")).put("secret", MEMBER_SECRET));
    assertEquals(200, put.status(), put.toString());
    assertFalse(put.body().contains(MEMBER_SECRET), "the secret is never answered back");
    Api.Res get = api.get("/v1/members/me/webhook", Tokens.lender("lender-a"));
    assertEquals(receiver.url("/member/lender-a"), get.json().getString("url"));
    assertNull(get.json().getValue("secret"));

    String p = person();
    String token = Tokens.borrower(p);
    ok(api.put("/v1/tradelines/M-1", Tokens.lender("lender-a"), loan(p, "OPEN")), 200, 201);
    Api.Res g = api.post("/v1/me/consents", token, new JsonObject().put("lenderId", "lender-a").put("purpose", "LOAN_ORIGINATION"));
    ok(g, 201);
    String consentId = g.json().getString("consentId", g.json().getString("id"));
    ok(api.delete("/v1/me/consents/" + consentId, token), 200);
    Api.Res d = api.post("/v1/me/disputes", token, new JsonObject().put("lenderId", "lender-a").put("accountRef", "M-1")
      .put("reason", "NOT_MINE").put("statement", "not mine"));
    ok(d, 201);
    String disputeId = d.json().getString("disputeId");
    bureau.sql("UPDATE disputes SET opened_at = now() - interval '21 days', due_by = now() - interval '1 day'"
      + " WHERE id = '" + disputeId + "'");

    Receiver.waitFor("three member events", 20_000, () -> receiver.accepted("/member/lender-a").stream()
      .map(Receiver.Hit::json).filter(b -> disputeId.equals(b.getString("disputeId")) || consentId.equals(b.getString("consentId")))
      .map(b -> b.getString("event")).distinct().count() >= 3);
    String hex = BorrowerKeys.hex(keys.key(p));
    for (Receiver.Hit h : receiver.accepted("/member/lender-a")) {
      assertTrue(h.signed(), "signed with the member's secret: " + h.body());
      assertFalse(h.body().contains(p) || h.body().contains(hex), "no person in " + h.body());
      JsonObject b = h.json();
      assertNotNull(b.getString("id"));
      assertNotNull(b.getString("at"));
      if (disputeId.equals(b.getString("disputeId"))) {
        assertEquals("M-1", b.getString("accountRef"));
        assertTrue(Set.of("DISPUTE_OPENED", "DISPUTE_OVERDUE").contains(b.getString("event")), b.encode());
      }
    }
    // lender-b has no webhook: nothing is kept for it
    assertEquals(0, bureau.count("SELECT count(*) FROM webhook_deliveries WHERE member_id = 'lender-b'"));

    assertEquals(204, api.delete("/v1/members/me/webhook", Tokens.lender("lender-a")).status());
    assertEquals(404, api.get("/v1/members/me/webhook", Tokens.lender("lender-a")).status());
  }

  @Test
  @DisplayName("a webhook URL that is not http(s) or points at link-local, metadata or unspecified addresses is 400 naming url; a short secret 400 naming secret")
  void badWebhooks() {
    String lender = Tokens.lender("lender-b");
    String secret = "s".repeat(32);
    for (String url : List.of("ftp://example.com/x", "not a url", "javascript:alert(1)", "http://169.254.169.254/latest/meta-data",
      "http://[fe80::1]/x", "http://0.0.0.0:8080/x", "http://metadata.google.internal/computeMetadata/v1/",
      "http://100.100.100.200/latest/meta-data", "http://[::ffff:169.254.169.254]/x", "http://user:pw@127.0.0.1/x")) {
      Api.Res r = api.put("/v1/members/me/webhook", lender, new JsonObject().put("url", url).put("secret", secret));
      assertEquals(400, r.status(), url + " -> " + r);
      assertTrue(r.body().contains("\"url\""), "names url: " + r.body());
    }
    Api.Res shortSecret = api.put("/v1/members/me/webhook", lender,
      new JsonObject().put("url", receiver.url("/member/lender-b")).put("secret", "s".repeat(31)));
    assertEquals(400, shortSecret.status(), shortSecret.toString());
    assertTrue(shortSecret.body().contains("\"secret\""), shortSecret.body());
    assertEquals(404, api.get("/v1/members/me/webhook", lender).status(), "nothing was stored");
  }

  @Test
  @DisplayName("without allowPrivateTargets, loopback and private addresses are refused too")
  void privateTargets() {
    Vertx vertx = Vertx.vertx();
    try {
      TargetGuard guard = new TargetGuard(vertx, false);
      for (String url : List.of("http://127.0.0.1/x", "http://localhost:8080/x", "http://[::1]/x", "http://10.1.2.3/x",
        "http://192.168.1.1/x", "http://172.16.0.1/x")) {
        Throwable e = TestBureau.await(guard.check(url).map(u -> (Throwable) null).recover(io.vertx.core.Future::succeededFuture)
          .toCompletionStage().toCompletableFuture());
        assertTrue(e instanceof ApiError a && a.status() == 400 && a.errors().get(0).field().equals("url"), url + " -> " + e);
      }
      assertEquals("https://93.184.216.34/hook", TestBureau.await(guard.check("https://93.184.216.34/hook")
        .toCompletionStage().toCompletableFuture()));
    } finally {
      vertx.close();
    }
  }

  @Test
  @DisplayName("a member webhook whose host is re-pointed at a metadata address after its PUT is refused at delivery, never called, and retried; another member's pinned host is called at the checked address with its own Host header")
  void rebindingRefusedAtDelivery() throws Exception {
    for (String m : List.of("lender-rebind", "lender-pinned")) {
      ok(api.post("/v1/members", Tokens.admin(), new JsonObject().put("id", m).put("name", m)), 201, 409);
      receiver.secrets.put("/member/" + m, MEMBER_SECRET);
    }
    // neither name is in any DNS: only the hosts file resolves them
    java.nio.file.Files.writeString(hosts, "127.0.0.1 hook.rebind.test\n127.0.0.1 hook.pinned.test # the receiver\n");
    for (String m : List.of("rebind", "pinned")) {
      Api.Res put = api.put("/v1/members/me/webhook", Tokens.lender("lender-" + m), new JsonObject()
        .put("url", "http://hook." + m + ".test:" + receiver.port + "/member/lender-" + m).put("secret", MEMBER_SECRET));
      assertEquals(200, put.status(), put.toString());
    }
    // the rebinding: the name now points at the clouds' metadata service
    java.nio.file.Files.writeString(hosts, "169.254.169.254 hook.rebind.test\n127.0.0.1 hook.pinned.test\n");
    String p = person();
    String token = Tokens.borrower(p);
    for (String m : List.of("lender-rebind", "lender-pinned")) {
      Api.Res g = api.post("/v1/me/consents", token, new JsonObject().put("lenderId", m).put("purpose", "LOAN_ORIGINATION"));
      ok(g, 201);
      ok(api.delete("/v1/me/consents/" + g.json().getString("consentId", g.json().getString("id")), token), 200);
    }
    Receiver.waitFor("the pinned member's CONSENT_REVOKED", 20_000, () -> receiver.accepted("/member/lender-pinned").stream()
      .anyMatch(h -> "CONSENT_REVOKED".equals(h.json().getString("event"))));
    for (Receiver.Hit h : receiver.accepted("/member/lender-pinned")) {
      assertTrue(h.signed(), h.body());
      assertEquals("hook.pinned.test:" + receiver.port, h.hostHeader(), "the URL's host, not the address connected to");
    }
    String refused = "SELECT count(*) FROM webhook_deliveries WHERE member_id = 'lender-rebind' AND delivered_at IS NULL"
      + " AND attempts >= 2 AND last_error LIKE 'refused at delivery: the webhook''s host points at a link-local%'";
    Receiver.waitFor("the re-pointed member's delivery refused twice", 20_000, () -> bureau.count(refused) >= 1);
    assertEquals(List.of(), receiver.at("/member/lender-rebind"), "a refused target is never called");
    // pointed back at an allowed address, the same delivery goes out (same id, once)
    java.nio.file.Files.writeString(hosts, "127.0.0.1 hook.rebind.test\n127.0.0.1 hook.pinned.test\n");
    Receiver.waitFor("the re-pointed member's events once allowed again", 20_000, () -> receiver.accepted("/member/lender-rebind")
      .stream().anyMatch(h -> "CONSENT_REVOKED".equals(h.json().getString("event"))));
  }

  @Test
  @DisplayName("at delivery time, without allowPrivateTargets, a host pinned to a private or loopback address is refused; a public one is resolved to the address checked")
  void deliveryTimeTargets() throws Exception {
    Vertx vertx = Vertx.vertx();
    java.nio.file.Path file = java.nio.file.Files.createTempFile("guard-hosts", ".txt");
    try {
      java.nio.file.Files.writeString(file, "10.0.0.7 intranet.test\n::1 loop6.test\n93.184.216.34 public.test\n");
      TargetGuard guard = new TargetGuard(vertx, false, file.toString());
      for (String url : List.of("http://intranet.test/x", "https://loop6.test/x")) {
        Throwable e = TestBureau.await(guard.target(url).map(u -> (Throwable) null).recover(io.vertx.core.Future::succeededFuture)
          .toCompletionStage().toCompletableFuture());
        assertTrue(e instanceof TargetGuard.Refused, url + " -> " + e);
      }
      TargetGuard.Target t = TestBureau.await(guard.target("https://Public.test:8443/hook?a=1").toCompletionStage()
        .toCompletableFuture());
      assertEquals("public.test", t.host());
      assertEquals(8443, t.port());
      assertTrue(t.ssl());
      assertEquals("/hook?a=1", t.requestUri());
      assertEquals("93.184.216.34", t.address().getHostAddress());
    } finally {
      java.nio.file.Files.deleteIfExists(file);
      vertx.close();
    }
  }
}
