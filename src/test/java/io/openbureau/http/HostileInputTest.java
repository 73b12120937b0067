package io.openbureau.http;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.openbureau.audit.AccessLogEntry;
import io.openbureau.audit.AuditSettings;
import io.openbureau.audit.AuditWriter;
import io.openbureau.db.Database;
import io.openbureau.identity.NationalId;
import io.openbureau.support.Api;
import io.openbureau.support.TestBureau;
import io.openbureau.support.Tokens;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.sqlclient.Pool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 10, items 6 to 12: hostile input gets a 4xx problem+json with a request id (or the
 * documented answer), never a 5xx, and never reaches Postgres, Redis, the access log or a metric
 * label in a form they cannot hold. Requests an HTTP client would normalise are sent as raw bytes.
 */
@DisplayName("Hostile input: every case is a 4xx problem+json with a request id, never a 5xx")
class HostileInputTest {
  private static final String LO = "LOAN_ORIGINATION";
  private static final AtomicInteger PEOPLE = new AtomicInteger();
  private static TestBureau bureau;
  private static Api api;
  private static String admin;

  @BeforeAll
  static void start() {
    bureau = TestBureau.start("hostile");
    api = bureau.api;
    admin = Tokens.admin();
    for (String id : List.of("lender-a", "lender-b", "lender-c")) {
      Api.Res r = api.post("/v1/members", admin, new JsonObject().put("id", id).put("name", id));
      assertEquals(201, r.status(), r.toString());
    }
  }

  @AfterAll
  static void stop() {
    bureau.close();
  }

  static String newPerson() {
    return NationalId.of("310101", LocalDate.of(1980, 1, 1).plusDays(PEOPLE.incrementAndGet()), 41);
  }

  // ---- raw HTTP

  /** A response read off a socket: status, headers (lower-case names), body. */
  record Raw(int status, String statusLine, Map<String, String> headers, String body) {
    String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }

    JsonObject json() {
      return new JsonObject(body);
    }

    @Override
    public String toString() {
      return statusLine + " " + headers + " " + body;
    }
  }

  /** Sends the bytes as they are and reads one response (the server closes or Content-Length ends it). */
  static Raw raw(String request) {
    try (Socket s = new Socket("127.0.0.1", bureau.config().http().port())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(request.getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      InputStream in = s.getInputStream();
      ByteArrayOutputStream got = new ByteArrayOutputStream();
      byte[] buf = new byte[8192];
      try {
        int n;
        while ((n = in.read(buf)) > 0) {
          got.write(buf, 0, n);
          Raw r = parse(got.toString(StandardCharsets.UTF_8), false);
          if (r != null) {
            return r;
          }
        }
      } catch (SocketTimeoutException | java.net.SocketException e) {
        // parse what arrived
      }
      Raw r = parse(got.toString(StandardCharsets.UTF_8), true);
      if (r == null) {
        throw new AssertionError("no response to " + request.substring(0, Math.min(80, request.length())));
      }
      return r;
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Sends bytes and reads the answer until the server closes the connection (an error if it keeps it open). */
  static Raw rawUntilClosed(String request) {
    try (Socket s = new Socket("127.0.0.1", bureau.config().http().port())) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      s.getOutputStream().flush();
      byte[] all;
      try {
        all = s.getInputStream().readAllBytes();
      } catch (SocketTimeoutException e) {
        throw new AssertionError("the connection was kept open after " + request.substring(0, Math.min(80, request.length())));
      }
      Raw r = parse(new String(all, StandardCharsets.UTF_8), true);
      if (r == null) {
        throw new AssertionError("no response to " + request.substring(0, Math.min(80, request.length())));
      }
      return r;
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Raw parse(String text, boolean atEnd) {
    int end = text.indexOf("\r\n\r\n");
    if (end < 0) {
      return null;
    }
    String[] lines = text.substring(0, end).split("\r\n");
    Map<String, String> headers = new LinkedHashMap<>();
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
    }
    String body = text.substring(end + 4);
    String length = headers.get("content-length");
    if (length != null) {
      int n = Integer.parseInt(length);
      if (body.getBytes(StandardCharsets.UTF_8).length < n) {
        return null;
      }
    } else if (!atEnd) {
      return null;
    }
    String[] statusParts = lines[0].split(" ", 3);
    return new Raw(Integer.parseInt(statusParts[1]), lines[0], headers, body);
  }

  static String request(String method, String target, String token, String contentType, String body,
                        String... extraHeaders) {
    StringBuilder sb = new StringBuilder(method).append(' ').append(target).append(" HTTP/1.1\r\nHost: localhost\r\n");
    if (token != null) {
      sb.append("Authorization: Bearer ").append(token).append("\r\n");
    }
    for (String h : extraHeaders) {
      sb.append(h).append("\r\n");
    }
    byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
    if (contentType != null) {
      sb.append("Content-Type: ").append(contentType).append("\r\n");
    }
    sb.append("Content-Length: ").append(bytes.length).append("\r\nConnection: close\r\n\r\n");
    return sb + (body == null ? "" : new String(bytes, StandardCharsets.ISO_8859_1));
  }

  // ---- assertions

  static void assertProblem(Raw r, int status) {
    assertEquals(status, r.status(), r.toString());
    assertProblemBody(r.status(), r.header("Content-Type"), r.header("X-Request-Id"), r.body());
  }

  static void assertProblem(Api.Res r, int status) {
    assertEquals(status, r.status(), r.toString());
    assertProblemBody(r.status(), r.header("Content-Type"), r.header("X-Request-Id"), r.body());
  }

  private static void assertProblemBody(int status, String type, String requestId, String body) {
    assertEquals("application/problem+json", type, body);
    assertNotNull(requestId, "X-Request-Id: " + body);
    JsonObject p = new JsonObject(body);
    assertEquals(status, p.getInteger("status"), body);
    assertNotNull(p.getString("code"), body);
    assertNotNull(p.getString("title"), body);
    assertEquals(requestId, p.getString("requestId"), body);
    assertFalse(body.contains("Exception"), body);
  }

  static void assertInvalid(Api.Res r, String field) {
    assertProblem(r, 400);
    assertEquals("invalid_request", r.code(), r.toString());
    assertEquals(field, r.json().getJsonArray("errors").getJsonObject(0).getString("field"), r.toString());
  }

  static void assertInvalid(Raw r, String field) {
    assertProblem(r, 400);
    assertEquals(field, r.json().getJsonArray("errors").getJsonObject(0).getString("field"), r.toString());
  }

  // ---- tokens with hand-made headers

  static String b64(String s) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  /** ES256 with the development key, whatever the header says. */
  static String signedWithHeader(JsonObject header, JsonObject claims) {
    try {
      String pem = Files.readString(Path.of("config/dev/dev-issuer.key.pem"));
      byte[] der = Base64.getDecoder().decode(pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", ""));
      PrivateKey key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(der));
      Signature sig = Signature.getInstance("SHA256withECDSAinP1363Format");
      String input = b64(header.encode()) + "." + b64(claims.encode());
      sig.initSign(key);
      sig.update(input.getBytes(StandardCharsets.US_ASCII));
      return input + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(sig.sign());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  // ---- 6

  @Test
  @DisplayName("6. a token header without alg (or with a non-string alg) is 401 on every protected route, not a 500")
  void tokenWithoutAlg() {
    String signature = Base64.getUrlEncoder().withoutPadding().encodeToString(new byte[64]);
    List<String> tokens = List.of("e30.e30.x",
      b64("{\"typ\":\"JWT\"}") + "." + b64(Tokens.claims(Tokens.DEV_ISSUER, "lender-a", "lender").encode()) + "." + signature,
      b64("{\"alg\":5}") + "." + b64(Tokens.claims(Tokens.DEV_ISSUER, "lender-a", "lender").encode()) + "." + signature,
      b64("{\"alg\":null}") + ".e30." + signature,
      b64("{\"alg\":[\"ES256\"]}") + ".e30." + signature,
      "e30.W10.x", "W10.e30.x", "e30.e30.x.y", "e30..x", "..", "e30.e30.!!");
    for (String token : tokens) {
      for (String[] route : List.of(new String[] {"GET", "/v1/members"}, new String[] {"GET", "/v1/me/consents"},
        new String[] {"GET", "/v1/compliance/access-log"})) {
        Api.Res r = api.raw(route[0], route[1], token, null, null);
        assertProblem(r, 401);
        assertEquals("unauthenticated", r.code(), token + " " + r);
      }
      Api.Res inquiry = api.post("/v1/inquiries", token, new JsonObject().put("nationalId", newPerson()).put("purpose", LO));
      assertProblem(inquiry, 401);
    }
  }

  // ---- 7

  @Test
  @DisplayName("7. NUL and other control characters in any JSON string, key, cursor or query parameter are 400 naming the field")
  void controlCharacters() {
    assertInvalid(api.post("/v1/members", admin, "{\"id\":\"nul-name\",\"name\":\"\\u0000\"}"), "name");
    assertInvalid(api.post("/v1/members", admin, "{\"id\":\"nul-name\",\"name\":\"Bank\\u0000 of NUL\"}"), "name");
    // passes the contract's pattern, would be emptied by trim() and violate the CHECK
    assertInvalid(api.post("/v1/members", admin, "{\"id\":\"ctl-name\",\"name\":\"\\u0001\\u0002\\u001f\"}"), "name");
    assertInvalid(api.post("/v1/members", admin, "{\"id\":\"ctl-name\",\"name\":\"\\u007f\\u0085\"}"), "name");
    assertInvalid(api.post("/v1/members", admin, "{\"id\":\"sur-name\",\"name\":\"\\ud800\"}"), "name");
    assertInvalid(api.post("/v1/members", admin, "{\"id\":\"key-nul\",\"name\":\"ok\",\"\\u0000\":1}"), "body");
    assertEquals(0, bureau.count("SELECT count(*) FROM members WHERE id IN ('nul-name', 'ctl-name', 'sur-name', 'key-nul')"));
    // free text may hold white space controls; a visible name is still stored stripped
    Api.Res tabbed = api.post("/v1/members", admin, "{\"id\":\"tab-name\",\"name\":\"\\tTab Bank\\n\"}");
    assertEquals(201, tabbed.status(), tabbed.toString());
    assertEquals("Tab Bank", tabbed.json().getString("name"));

    String person = newPerson();
    String borrower = Tokens.borrower(person);
    assertInvalid(api.post("/v1/me/consents", borrower, "{\"lenderId\":\"\\u0000\",\"purpose\":\"LOAN_ORIGINATION\"}"),
      "lenderId");
    assertInvalid(api.post("/v1/me/consents", borrower,
      "{\"lenderId\":\"lender-a\",\"purpose\":\"LOAN_ORIGINATION\",\"x\":{\"y\":[\"ok\",\"\\u0000\"]}}"), "x.y.1");

    String nulCursor = Cursors.encode(new JsonObject().put("id", "\u0000"));
    assertInvalid(api.get("/v1/members?cursor=" + nulCursor, admin), "cursor");
    assertInvalid(api.get("/v1/members?cursor=" + Cursors.encode(new JsonObject().put("id", "a\u0001")), admin), "cursor");

    assertInvalid(raw(request("GET", "/v1/audit/checkpoints?chainId=%00", null, null, null)), "chainId");
    assertInvalid(raw(request("GET", "/v1/audit/checkpoints?chainId=a%01b", null, null, null)), "chainId");
    assertInvalid(raw(request("GET", "/v1/compliance/access-log?action=%00", Tokens.compliance(), null, null)), "action");
    assertInvalid(raw(request("POST", "/v1/members/a%00b/suspend", admin, null, null)), "path");
    assertInvalid(raw(request("DELETE", "/v1/me/consents/a%00b", borrower, null, null)), "path");

    // a NUL-bearing inquiry is an invalid request like any other: 400, and logged as INVALID
    String token = Tokens.lender("lender-a");
    Api.Res key = api.post("/v1/inquiries", token, "{\"\\u0000\":1}");
    assertInvalid(key, "body");
    Api.Res value = api.post("/v1/inquiries", token, "{\"nationalId\":\"\\u0000\",\"purpose\":\"LOAN_ORIGINATION\"}");
    assertInvalid(value, "nationalId");
    for (Api.Res r : List.of(key, value)) {
      String id = r.header("X-Request-Id");
      assertEquals(1, bureau.count("SELECT count(*) FROM access_log WHERE request_id = '" + id
        + "' AND decision = 'INVALID' AND lender_id = 'lender-a'"), r.toString());
    }
  }

  @Test
  @DisplayName("7. NUL-bearing inquiries sent alongside honest ones never fail the group commit: every honest one is answered")
  void nulNeverPoisonsTheGroupCommit() throws Exception {
    String person = newPerson();
    Api.Res consent = api.post("/v1/me/consents", Tokens.borrower(person),
      new JsonObject().put("lenderId", "lender-b").put("purpose", LO));
    assertEquals(201, consent.status(), consent.toString());
    String honest = Tokens.lender("lender-b");
    String hostile = Tokens.lender("lender-c");
    List<String> bad = List.of("{\"\\u0000\":1}", "{\"nationalId\":\"\\u0000\",\"purpose\":\"LOAN_ORIGINATION\"}",
      "{\"purpose\":\"LOAN\\u0000\",\"nationalId\":\"" + person + "\"}", "{\"a\\u0000b\":[\"\\u0000\"]}");
    ExecutorService pool = Executors.newFixedThreadPool(8);
    Map<Integer, AtomicInteger> honestAnswers = new ConcurrentHashMap<>();
    Map<Integer, AtomicInteger> hostileAnswers = new ConcurrentHashMap<>();
    try {
      List<Future<?>> all = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        boolean evil = t < 3;
        all.add(pool.submit(() -> {
          for (int i = 0; i < 40; i++) {
            Api.Res r = evil ? api.post("/v1/inquiries", hostile, bad.get(i % bad.size()))
              : api.post("/v1/inquiries", honest, new JsonObject().put("nationalId", person).put("purpose", LO));
            (evil ? hostileAnswers : honestAnswers).computeIfAbsent(r.status(), s -> new AtomicInteger()).incrementAndGet();
          }
        }));
      }
      for (Future<?> f : all) {
        f.get(120, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertEquals(Map.of(200, 200), counts(honestAnswers), "honest answers by status");
    assertEquals(Map.of(400, 120), counts(hostileAnswers), "hostile answers by status");
    assertEquals(120, bureau.count("SELECT count(*) FROM access_log WHERE lender_id = 'lender-c' AND decision = 'INVALID'"));
  }

  @Test
  @DisplayName("7. the audit writer scrubs a row holding NUL or an unpaired surrogate and commits it with the honest rows of its batch")
  void writerScrubsRows() {
    Vertx vertx = bureau.bureau().vertx();
    Pool pool = Database.pool(vertx, bureau.config().postgres(), 2);
    String tag = "scrub-" + System.nanoTime();
    try {
      CompletableFuture<Void> done = new CompletableFuture<>();
      vertx.runOnContext(v -> {
        AuditWriter writer = new AuditWriter(vertx, pool, AuditSettings.from(bureau.config()), new SimpleMeterRegistry());
        List<io.vertx.core.Future<AccessLogEntry>> rows = new ArrayList<>();
        // the first append commits alone; the next four share one batch (one INSERT, one commit)
        for (int i = 0; i < 4; i++) {
          rows.add(writer.append(draft(tag + "-ok-" + i, "lender-a", "no_consent", new JsonObject().put("n", i))));
          if (i == 1) {
            rows.add(writer.append(draft(tag + "-bad", "lender\u0000a", "x\u0000y\ud800",
              new JsonObject().put("k\u0000", "v\u0000").put("list", new JsonArray().add("\u0001").add("\udc00")))));
          }
        }
        io.vertx.core.Future.all(rows).onComplete(ar -> {
          if (ar.succeeded()) {
            done.complete(null);
          } else {
            done.completeExceptionally(ar.cause());
          }
        });
      });
      TestBureau.await(done);
    } finally {
      pool.close();
    }
    assertEquals(5, bureau.count("SELECT count(*) FROM access_log WHERE request_id LIKE '" + tag + "%'"));
    assertEquals("x\uFFFDy\uFFFD", bureau.sqlString("SELECT reason FROM access_log WHERE request_id = '" + tag + "-bad'"));
    assertEquals("lender\uFFFDa", bureau.sqlString("SELECT lender_id FROM access_log WHERE request_id = '" + tag + "-bad'"));
    assertEquals(new JsonObject().put("k\uFFFD", "v\uFFFD").put("list", new JsonArray().add("\uFFFD").add("\uFFFD")),
      new JsonObject(bureau.sqlString("SELECT details::text FROM access_log WHERE request_id = '" + tag + "-bad'")));
  }

  private static AccessLogEntry.Draft draft(String requestId, String lender, String reason, JsonObject details) {
    return new AccessLogEntry.Draft(AccessLogEntry.INQUIRY, "lender", lender, lender, null, LO, "SCORE",
      AccessLogEntry.DENIED, reason, null, requestId, null, details);
  }

  private static Map<Integer, Integer> counts(Map<Integer, AtomicInteger> m) {
    Map<Integer, Integer> out = new java.util.TreeMap<>();
    m.forEach((k, v) -> out.put(k, v.get()));
    return out;
  }

  // ---- 8

  @Test
  @DisplayName("8. bad percent-encoding, trailing slashes, out-of-range timestamps and cursors, Expect and HTTP/2.0 get 4xx problems (the version a 400, connection closed)")
  void malformedTargetsAndBounds() {
    String lender = Tokens.lender("lender-a");
    String borrower = Tokens.borrower(newPerson());
    String repayment = new JsonObject().put("period", "2026-01").put("amountDue", "1.00").put("amountPaid", "1.00")
      .put("daysPastDue", 0).encode();
    for (String bad : List.of("%", "%zz", "%u002e", "%e2%82", "%c0%ae", "a%")) {
      assertInvalid(raw(request("POST", "/v1/members/" + bad + "/suspend", admin, null, null)), "path");
      assertInvalid(raw(request("POST", "/v1/members/" + bad + "/reinstate", admin, null, null)), "path");
      assertInvalid(raw(request("PUT", "/v1/tradelines/" + bad, lender, "application/json", "{}")), "path");
      assertInvalid(raw(request("POST", "/v1/tradelines/" + bad + "/repayments", lender, "application/json", repayment)),
        "path");
      assertInvalid(raw(request("DELETE", "/v1/me/consents/" + bad, borrower, null, null)), "path");
      assertInvalid(raw(request("GET", "/v1/audit/checkpoints?chainId=" + bad, null, null, null)), "chainId");
    }

    // a bad query on a POST whose body is a form: answered 4xx problem+json (the fuzzer once got no
    // answer at all to POST /v1/tradelines/acct-2/repayments?% with a form Content-Type)
    for (String q : List.of("?%", "?%zz", "?a=%", "?a=%u002e", "?%00=1", "")) {
      for (String type : List.of("application/x-www-form-urlencoded", "multipart/form-data; boundary=x")) {
        for (String body : List.of(repayment, "a=%zz", "%", "a=%u002e&b=%00", "")) {
          for (String[] route : List.of(new String[] {"POST", "/v1/tradelines/acct-2/repayments", lender},
            new String[] {"POST", "/v1/members", admin}, new String[] {"POST", "/v1/inquiries", lender},
            new String[] {"POST", "/v1/me/consents", borrower}, new String[] {"PUT", "/v1/tradelines/acct-2", lender})) {
            Raw form = raw(request(route[0], route[1] + q, route[2], type, body));
            assertTrue(form.status() >= 400 && form.status() < 500, route[1] + q + " " + type + ": " + form);
            assertProblem(form, form.status());
          }
        }
      }
    }

    String inquiry = new JsonObject().put("nationalId", newPerson()).put("purpose", LO).encode();
    Raw slash = raw(request("POST", "/v1/inquiries/", lender, "application/json", inquiry));
    assertProblem(slash, 404);
    Raw batchSlash = raw(request("POST", "/v1/furnishing/batches/", lender, "application/x-ndjson", "{}\n"));
    assertProblem(batchSlash, 404);
    assertProblem(raw(request("GET", "/v1/members/", admin, null, null)), 404);

    String officer = Tokens.compliance();
    for (String route : List.of("/v1/compliance/access-log/verify", "/v1/compliance/access-log",
      "/v1/compliance/alerts", "/v1/compliance/access-log/export")) {
      assertInvalid(api.get(route + "?to=0000-01-01T00:00:00Z", officer), "to");
      assertInvalid(api.get(route + "?from=0000-01-01T00:00:00Z", officer), "from");
      assertInvalid(api.get(route + "?to=%2B10000-01-01T00:00:00Z", officer), "to");
      assertInvalid(api.get(route + "?from=1969-12-31T23:59:59Z", officer), "from");
      assertInvalid(api.get(route + "?to=2300-01-01T00:00:00Z", officer), "to");
    }
    Api.Res edge = api.get("/v1/compliance/access-log/verify?to=1970-01-01T00:00:00Z", officer);
    assertEquals(200, edge.status(), edge.toString());

    for (JsonObject c : List.of(
      new JsonObject().put("a", Long.MAX_VALUE).put("i", 1).put("f", 0).put("t", 1).put("c", false),
      new JsonObject().put("a", 1).put("i", 1).put("f", Long.MIN_VALUE).put("t", Long.MAX_VALUE).put("c", false),
      new JsonObject().put("a", -1).put("i", 1).put("f", 0).put("t", 10).put("c", false),
      new JsonObject().put("a", 5).put("i", 1).put("f", 10).put("t", 0).put("c", false),
      new JsonObject().put("a", 1e300).put("i", 1).put("f", 0).put("t", 10).put("c", false))) {
      assertInvalid(api.get("/v1/compliance/access-log?cursor=" + Cursors.encode(c), officer), "cursor");
    }
    assertInvalid(api.get("/v1/me/inquiries?cursor=" + Cursors.encode(new JsonObject().put("a", Long.MAX_VALUE)
      .put("i", Long.MAX_VALUE)), borrower), "cursor");
    assertInvalid(api.get("/v1/me/inquiries?cursor=" + Cursors.encode(new JsonObject().put("a", Long.MIN_VALUE)
      .put("i", 1)), borrower), "cursor");

    Raw expectGet = raw(request("GET", "/health/live", null, null, null, "Expect: fz-weird"));
    assertProblem(expectGet, 417);
    Raw expectPost = raw(request("POST", "/v1/members", admin, "application/json",
      new JsonObject().put("id", "expect-me").put("name", "E").encode(), "Expect: fz-weird"));
    assertProblem(expectPost, 417);
    Raw expectInquiry = raw(request("POST", "/v1/inquiries", lender, "application/json", inquiry, "Expect: fz-weird"));
    assertProblem(expectInquiry, 417);
    assertEquals(0, bureau.count("SELECT count(*) FROM members WHERE id = 'expect-me'"));

    // an HTTP version this server does not speak is the client's error: 400 (never a 5xx), connection closed
    for (String version : List.of("HTTP/2.0", "HTTP/3.0", "HTTP/1.2", "HTTP/0.9", "HTTPS/1.1", "http/1.1", "HTTP/9.9")) {
      Raw odd = rawUntilClosed("GET /health/live " + version + "\r\nHost: localhost\r\n\r\n");
      assertProblem(odd, 400);
      assertEquals("http_version_not_supported", odd.json().getString("code"), version + ": " + odd);
      assertEquals("close", odd.header("Connection"), version + ": " + odd);
    }
    Raw h3 = rawUntilClosed("POST /v1/members HTTP/3.0\r\nHost: localhost\r\nAuthorization: Bearer " + admin
      + "\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
    assertProblem(h3, 400);
    assertEquals("http_version_not_supported", h3.json().getString("code"), h3.toString());
    // and the server still answers normally
    assertEquals(200, api.get("/health/live", null).status());
  }

  // ---- 9

  @Test
  @DisplayName("9. a correctly signed token with any crit header is 401, and two Authorization headers are refused")
  void critAndDuplicateAuthorization() {
    JsonObject claims = Tokens.claims(Tokens.DEV_ISSUER, "test-admin", "admin");
    JsonObject base = new JsonObject().put("alg", "ES256").put("typ", "JWT");
    // the same header without crit is accepted: the signature is right
    assertEquals(200, api.get("/v1/members", signedWithHeader(base, claims)).status());
    for (JsonObject header : List.of(base.copy().put("crit", new JsonArray()),
      base.copy().put("crit", new JsonArray().add("x-unknown")).put("x-unknown", true),
      base.copy().put("crit", new JsonArray().add("exp")), base.copy().put("crit", "b64"))) {
      Api.Res r = api.get("/v1/members", signedWithHeader(header, claims));
      assertProblem(r, 401);
      assertEquals("unauthenticated", r.code());
    }

    String valid = Tokens.admin();
    String forged = Tokens.hs256WithPublicKey(claims);
    for (String[] pair : List.of(new String[] {valid, forged}, new String[] {valid, valid}, new String[] {forged, valid})) {
      Raw r = raw("GET /v1/members HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + pair[0]
        + "\r\nAuthorization: Bearer " + pair[1] + "\r\nConnection: close\r\n\r\n");
      assertTrue(r.status() == 400 || r.status() == 401, r.toString());
      assertProblem(r, r.status());
    }
    Raw lower = raw("GET /v1/members HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + valid
      + "\r\nauthorization: Bearer " + forged + "\r\nConnection: close\r\n\r\n");
    assertTrue(lower.status() == 400 || lower.status() == 401, lower.toString());
  }

  // ---- 10

  @Test
  @DisplayName("10. low-level HTTP errors (400, 414, 431, OPTIONS *, a target without a leading slash, a WebSocket upgrade) are problem+json with a request id")
  void lowLevelErrors() {
    Raw tooLarge = raw("GET /health/live HTTP/1.1\r\nHost: localhost\r\nX-Big: " + "a".repeat(20_000) + "\r\n\r\n");
    assertProblem(tooLarge, 431);
    Raw tooLong = raw("GET /health/live?" + "a".repeat(9_000) + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assertProblem(tooLong, 414);
    Raw badHeader = raw("GET /health/live HTTP/1.1\r\nHost: localhost\r\nBad Header\r\n\r\n");
    assertProblem(badHeader, 400);
    Raw badLine = raw("GET\r\n\r\n");
    assertTrue(badLine.status() >= 400 && badLine.status() < 500, badLine.toString());
    assertProblem(badLine, badLine.status());
    Raw star = raw("OPTIONS * HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    assertTrue(star.status() >= 400 && star.status() < 500, star.toString());
    assertProblem(star, star.status());
    for (String odd : List.of("CONNECT localhost:443 HTTP/1.1\r\nHost: localhost:443\r\n\r\n",
      "GET /health/live HTTP/1.1\r\nHost: localhost\r\nX-Nul: a\u0000b\r\n\r\n",
      "GET /health/live HTTP/1.1\r\nHost: localhost\r\nX-Request-Id: a\u0000b\r\n\r\n",
      "GET /health/\u0000live HTTP/1.1\r\nHost: localhost\r\n\r\n",
      "GET /health/live HTTP/1.1\r\nHost: localhost\r\nContent-Length: -1\r\n\r\n",
      "POST /v1/members HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n{}{}{}{",
      "GET /health/live HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n")) {
      Raw r = raw(odd);
      assertTrue(r.status() < 500, r.toString());
      if (r.status() >= 400) {
        assertProblem(r, r.status());
      }
    }
    Raw relative = raw("GET health/live HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    assertTrue(relative.status() >= 400 && relative.status() < 500, relative.toString());
    assertProblem(relative, relative.status());
    for (String upgrade : List.of("Upgrade: websocket\r\n", "Upgrade: websocket\r\nConnection: Upgrade\r\n"
      + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n")) {
      // the API has no WebSocket endpoint: the Upgrade is ignored (RFC 9110 7.8) and the request
      // answered as plain HTTP, problem+json like any other (before: a bare 404 or 405 from Vert.x)
      Raw ws = raw("GET /health/live HTTP/1.1\r\nHost: localhost\r\n" + upgrade + "\r\n");
      assertEquals(200, ws.status(), ws.toString());
      assertNotNull(ws.header("X-Request-Id"), ws.toString());
      assertProblem(raw("GET /v1/nowhere HTTP/1.1\r\nHost: localhost\r\n" + upgrade + "\r\n"), 404);
      assertProblem(raw("POST /v1/members HTTP/1.1\r\nHost: localhost\r\n" + upgrade + "Content-Length: 0\r\n\r\n"), 401);
      assertProblem(raw("POST /health/live HTTP/1.1\r\nHost: localhost\r\n" + upgrade + "Content-Length: 0\r\n\r\n"), 405);
    }
    // a body the HTTP decoder fails on half-way is the client's error: Vert.x closes the connection,
    // and the server records no 5xx (before, a buffered route logged and counted a 500)
    for (String path : List.of("/v1/members", "/v1/inquiries", "/v1/furnishing/batches")) {
      String token = path.equals("/v1/members") ? admin : Tokens.lender("lender-a");
      String type = path.endsWith("batches") ? "application/x-ndjson" : "application/json";
      rawNoAnswerNeeded("POST " + path + " HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + token
        + "\r\nContent-Type: " + type + "\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\nZZ\r\nxx\r\n0\r\n\r\n");
    }
    assertEquals(200, api.get("/health/ready", null).status());
    String metrics = api.get("/metrics", null).body();
    assertFalse(metrics.lines().anyMatch(l -> l.startsWith("vertx_http_server_requests_total") && l.contains("code=\"5")),
      "a 5xx was answered: " + metrics.lines().filter(l -> l.startsWith("vertx_http_server_requests_total")).toList());
  }

  /** Sends bytes and reads until the server closes (whatever it answers, if anything). */
  static void rawNoAnswerNeeded(String request) {
    try (Socket s = new Socket("127.0.0.1", bureau.config().http().port())) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      s.getInputStream().readAllBytes();
    } catch (java.io.IOException e) {
      // closed: fine
    }
  }

  // ---- 11

  @Test
  @DisplayName("11. made-up HTTP methods and raw paths never become metric label values")
  void boundedMetricLabels() {
    for (int i = 0; i < 20; i++) {
      Raw r = raw(request("FUZZ" + i, i % 2 == 0 ? "/v1/members" : "/health/live", null, null, null));
      assertTrue(r.status() >= 400 && r.status() < 500, r.toString());
    }
    raw(request("POST", "/v1/members/unique-raw-path-7f3a/suspend", null, null, null));
    raw(request("GET", "/v1/nowhere-raw-path-9c1b", null, null, null));
    String metrics = api.get("/metrics", null).body();
    assertFalse(metrics.contains("FUZZ"), "a made-up method is a label value");
    assertTrue(metrics.contains("method=\"OTHER\""), "made-up methods are counted as OTHER");
    assertTrue(metrics.contains("method=\"GET\""));
    assertFalse(metrics.contains("unique-raw-path-7f3a"), "a raw path is a label value");
    assertFalse(metrics.contains("nowhere-raw-path-9c1b"), "a raw path is a label value");
    long series = metrics.lines().filter(l -> !l.startsWith("#") && !l.isBlank()).count();
    for (int i = 20; i < 60; i++) {
      raw(request("FUZZ" + i, "/health/live", null, null, null));
    }
    long after = api.get("/metrics", null).body().lines().filter(l -> !l.startsWith("#") && !l.isBlank()).count();
    assertTrue(after - series < 20, "series grew from " + series + " to " + after);
  }

  // ---- 12

  @Test
  @DisplayName("12. a sub is valid only for the role it is used under, never echoed; unsafe request ids are replaced")
  void subjectPerRoleAndRequestIds() {
    String nid = newPerson();
    String both = Tokens.es256(Tokens.claims(Tokens.DEV_ISSUER, nid, "borrower", "lender"));
    // as a borrower it is the person
    assertEquals(200, api.get("/v1/me/consents", both).status());
    // as a lender it is refused: no log row, no Redis key, no echo
    List<Api.Res> refused = new ArrayList<>();
    refused.add(api.post("/v1/inquiries", both, new JsonObject().put("nationalId", newPerson()).put("purpose", LO)));
    refused.add(api.get("/v1/members/me", both));
    refused.add(api.put("/v1/tradelines/acc-1", both, new JsonObject().put("nationalId", newPerson())
      .put("productType", "CONSUMER_LOAN").put("openedAt", "2025-01-15").put("principal", "100.00")
      .put("status", "OPEN").put("balance", "100.00").put("daysPastDue", 0)));
    refused.add(api.get("/v1/compliance/access-log", Tokens.dev("compliance", nid)));
    refused.add(api.get("/v1/members", Tokens.dev("admin", nid)));
    refused.add(api.get("/v1/members", Tokens.dev("admin", "Not a member id!")));
    refused.add(api.get("/v1/members/me", Tokens.lender("UPPER-case")));
    refused.add(api.get("/v1/me/consents", Tokens.borrower("lender-a")));
    for (Api.Res r : refused) {
      assertTrue(r.status() == 401 || r.status() == 403, r.toString());
      assertProblem(r, r.status());
      assertFalse(r.body().contains(nid), "the sub is echoed: " + r.body());
    }
    assertEquals(0, bureau.count("SELECT count(*) FROM access_log WHERE lender_id = '" + nid + "' OR actor_id = '"
      + nid + "'"));
    assertEquals(List.of(), redisKeysContaining(nid));
    assertEquals(400, api.post("/v1/members", admin, new JsonObject().put("id", nid).put("name", "N")).status());

    String tooLong = "a".repeat(65);
    for (String unsafe : List.of(tooLong, "a b", "<script>", "id\"quote", "ü")) {
      Api.Res r = api.send(api.builder("/health/live", null).header("X-Request-Id", unsafe).GET().build());
      assertNotEquals(unsafe, r.header("X-Request-Id"));
      assertTrue(r.header("X-Request-Id").matches("[A-Za-z0-9._:-]{1,64}"), r.header("X-Request-Id"));
    }
    Api.Res kept = api.send(api.builder("/health/live", null).header("X-Request-Id", "ok.id:1-" + "a".repeat(56))
      .GET().build());
    assertEquals("ok.id:1-" + "a".repeat(56), kept.header("X-Request-Id"));
    Api.Res logged = api.send(api.builder("/v1/inquiries", Tokens.lender("lender-a")).header("X-Request-Id", tooLong)
      .header("Content-Type", "application/json")
      .POST(java.net.http.HttpRequest.BodyPublishers.ofString(new JsonObject().put("nationalId", newPerson())
        .put("purpose", LO).encode())).build());
    assertEquals(403, logged.status(), logged.toString());
    assertEquals(0, bureau.count("SELECT count(*) FROM access_log WHERE request_id = '" + tooLong + "'"));
    assertEquals(1, bureau.count("SELECT count(*) FROM access_log WHERE request_id = '"
      + logged.header("X-Request-Id") + "'"));
  }

  private static List<String> redisKeysContaining(String text) {
    Redis redis = Redis.createClient(bureau.bureau().vertx(), bureau.config().redis().endpoints().get(0));
    try {
      List<String> found = new ArrayList<>();
      String cursor = "0";
      do {
        var r = TestBureau.await(redis.send(Request.cmd(Command.SCAN).arg(cursor).arg("MATCH")
          .arg(bureau.config().redis().keyPrefix() + "*").arg("COUNT").arg(1000)).toCompletionStage().toCompletableFuture());
        cursor = r.get(0).toString();
        for (var key : r.get(1)) {
          if (key.toString().contains(text)) {
            found.add(key.toString());
          }
        }
      } while (!cursor.equals("0"));
      return found;
    } finally {
      redis.close();
    }
  }
}
