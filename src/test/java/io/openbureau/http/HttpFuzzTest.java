package io.openbureau.http;

import io.openbureau.identity.NationalId;
import io.openbureau.support.Api;
import io.openbureau.support.TestBureau;
import io.openbureau.support.Tokens;
import io.openbureau.support.fuzz.ApiSpec;
import io.openbureau.support.fuzz.Findings;
import io.openbureau.support.fuzz.Fixtures;
import io.openbureau.support.fuzz.Fixtures.Cred;
import io.openbureau.support.fuzz.FuzzRequest;
import io.openbureau.support.fuzz.FuzzResponse;
import io.openbureau.support.fuzz.FuzzTokens;
import io.openbureau.support.fuzz.Generator;
import io.openbureau.support.fuzz.Oracle;
import io.openbureau.support.fuzz.RawClient;
import io.openbureau.support.fuzz.ServerLog;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Thousands of requests generated from {@code openapi.yaml} (valid ones, then broken bodies,
 * parameters, encodings, headers, credentials, methods and request lines) against a real bureau:
 * none may reach a 5xx, every 4xx is problem+json with a request id, nothing internal leaks, no
 * refused credential is honoured, and the bureau is still ready afterwards.
 *
 * <p>{@code -Dfuzz.seed=} (default {@value #DEFAULT_SEED}) and {@code -Dfuzz.requests=} (default
 * {@value #DEFAULT_REQUESTS}) reproduce or widen a run; the full report of a failing run is
 * written to {@code target/fuzz/}.
 */
@DisplayName("HTTP fuzzing from the contract: hostile input never reaches a 5xx")
class HttpFuzzTest {
  static final long DEFAULT_SEED = 20261201L;
  static final int DEFAULT_REQUESTS = 10_000;
  private static final int CONCURRENCY = 8;
  /** Operations sent one at a time (see {@link #send}). */
  private static final Set<String> SERIAL = Set.of("accessLogVerify");
  private static final String ADMIN = Tokens.admin();
  private static long[] MICROS = new long[0];
  /** GET HEAD POST PUT DELETE CONNECT OPTIONS TRACE PATCH, and one value for every other method. */
  private static final int MAX_METHOD_LABELS = 10;

  /** The national id behind each borrower credential, by credential name. */
  private static final Map<String, String> SUBJECTS = new java.util.LinkedHashMap<>();
  private static TestBureau bureau;
  private static Api api;
  private static ApiSpec spec;
  private static Fixtures fixtures;

  @BeforeAll
  static void start() throws InterruptedException {
    bureau = TestBureau.start("fuzz");
    api = bureau.api;
    spec = ApiSpec.load(Path.of("src/main/resources/openapi.yaml"));
    fixtures = seed();
  }

  @AfterAll
  static void stop() {
    if (bureau != null) {
      bureau.close();
    }
  }

  @Test
  @DisplayName("10,000 generated requests: no 5xx, every 4xx problem+json with a request id, and still ready")
  void fuzz() throws Exception {
    long seed = Long.getLong("fuzz.seed", DEFAULT_SEED);
    int count = Integer.getInteger("fuzz.requests", DEFAULT_REQUESTS);
    System.out.println("HttpFuzzTest: seed " + seed + ", " + count + " requests (-Dfuzz.seed=" + seed
      + " -Dfuzz.requests=" + count + " to reproduce)");
    List<FuzzRequest> requests = new Generator(spec, fixtures).generate(seed, count);
    long started = System.nanoTime();
    java.time.Duration cpuBefore = ProcessHandle.current().info().totalCpuDuration().orElse(java.time.Duration.ZERO);
    FuzzResponse[] responses;
    Findings findings = new Findings(seed);
    try (ServerLog log = ServerLog.attach()) {
      responses = send(requests);
      for (int i = 0; i < requests.size(); i++) {
        findings.add(requests.get(i), responses[i], Oracle.violations(requests.get(i), responses[i]), log.cause(i));
      }
    }
    long millis = (System.nanoTime() - started) / 1_000_000;
    long cpuMillis = ProcessHandle.current().info().totalCpuDuration().orElse(java.time.Duration.ZERO).minus(cpuBefore).toMillis();
    Map<Integer, Long> byStatus = java.util.Arrays.stream(responses)
      .collect(Collectors.groupingBy(FuzzResponse::status, java.util.TreeMap::new, Collectors.counting()));
    System.out.println("HttpFuzzTest: " + count + " requests in " + millis + " ms (" + cpuMillis
      + " ms of this JVM's CPU, client and server); statuses " + byStatus);
    writeReport(seed, count, millis, byStatus, requests, responses, findings);

    List<String> deep = deepAnswers(requests, responses, api.get("/.well-known/jwks.json", null).json());
    Api.Res ready = api.get("/health/ready", null);
    Set<String> methods = metricMethods(api.get("/metrics", null).body());
    org.junit.jupiter.api.Assertions.assertAll(
      () -> assertEquals(200, ready.status(), "the bureau is still ready after the fuzzing: " + ready),
      () -> assertTrue(findings.isEmpty(), findings.summary(20) + "full report: target/fuzz/http-fuzz-" + seed + ".txt"),
      // nobody changes the database during the run: the outsider's copy must match, every proof must hold
      () -> assertEquals(List.of(), deep, "answers of the verifications that do not hold"),
      // made-up methods must not mint metric series: the standard ones and one bucket for the rest
      () -> assertTrue(methods.size() <= MAX_METHOD_LABELS, "the metrics' method label has " + methods.size()
        + " values after the fuzzing: " + methods));
  }

  /**
   * What the deep answers must say when nobody tampers with the database: every valid outsider's
   * copy (the bureau's own checkpoints) is intact, and every proof answered 200 holds with the
   * public key alone (an independent check: RS256 against the JWKS, then the RFC 9162 climb).
   */
  static List<String> deepAnswers(List<FuzzRequest> requests, FuzzResponse[] responses, JsonObject jwks) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < requests.size(); i++) {
      FuzzRequest rq = requests.get(i);
      FuzzResponse rs = responses[i];
      if (rs.status() != 200 || rq.head()) {
        continue;
      }
      try {
        if (rq.operation().equals("accessLogVerifyCheckpoints") && rq.mutation().equals("valid")) {
          JsonObject r = new JsonObject(rs.bodyText());
          if (!Boolean.TRUE.equals(r.getBoolean("intact"))) {
            out.add("#" + i + " the bureau's own checkpoints are not intact: " + r.getJsonArray("mismatches"));
          }
        } else if (rq.operation().equals("myInquiryProof")) {
          String why = proofFails(new JsonObject(rs.bodyText()), jwks);
          if (why != null) {
            out.add("#" + i + " proof: " + why);
          }
        }
      } catch (Exception e) {
        out.add("#" + i + " " + rq.operation() + ": unreadable 200 (" + e + ")");
      }
    }
    return out;
  }

  static String proofFails(JsonObject proof, JsonObject jwks) throws Exception {
    java.util.HexFormat hex = java.util.HexFormat.of();
    String[] jws = proof.getString("checkpoint").split("\\.");
    java.util.Base64.Decoder b64 = java.util.Base64.getUrlDecoder();
    JsonObject header = new JsonObject(new String(b64.decode(jws[0]), StandardCharsets.UTF_8));
    JsonObject jwk = null;
    for (Object o : jwks.getJsonArray("keys")) {
      if (header.getString("kid", "").equals(((JsonObject) o).getString("kid"))) {
        jwk = (JsonObject) o;
      }
    }
    if (jwk == null || !"RS256".equals(header.getString("alg"))) {
      return "not signed by a key of the JWKS";
    }
    java.security.Signature sig = java.security.Signature.getInstance("SHA256withRSA");
    sig.initVerify(java.security.KeyFactory.getInstance("RSA").generatePublic(new java.security.spec.RSAPublicKeySpec(
      new java.math.BigInteger(1, b64.decode(jwk.getString("n"))), new java.math.BigInteger(1, b64.decode(jwk.getString("e"))))));
    sig.update((jws[0] + "." + jws[1]).getBytes(StandardCharsets.US_ASCII));
    if (!sig.verify(b64.decode(jws[2]))) {
      return "bad signature";
    }
    JsonObject claims = new JsonObject(new String(b64.decode(jws[1]), StandardCharsets.UTF_8));
    JsonObject row = proof.getJsonObject("row");
    long from = claims.getLong("fromSeq");
    long size = claims.getLong("chainSeq") - from + 1;
    long index = row.getLong("chainSeq") - from;
    if (!claims.getString("chainId").equals(row.getString("chainId")) || proof.getLong("treeSize") != size
      || proof.getLong("leafIndex") != index) {
      return "the row is not where the checkpoint says";
    }
    List<byte[]> path = new ArrayList<>();
    proof.getJsonArray("auditPath").forEach(p -> path.add(hex.parseHex((String) p)));
    byte[] root = io.openbureau.support.PlainMerkle.rootFromPath(index, size, hex.parseHex(proof.getString("rowHash")), path);
    return root != null && java.util.Arrays.equals(root, hex.parseHex(claims.getString("merkleRoot")))
      ? null : "the audit path does not lead to the signed root";
  }

  /** The values of the {@code method} label in a Prometheus scrape. */
  static Set<String> metricMethods(String scrape) {
    Set<String> out = new java.util.TreeSet<>();
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("[{,]method=\"([^\"]*)\"").matcher(scrape);
    while (m.find()) {
      out.add(m.group(1));
    }
    return out;
  }

  @Test
  @DisplayName("the checker is not blind: it flags a 500, a bare 4xx, a leaked stack trace and an honoured forged token")
  void checkerCanFail() {
    FuzzRequest plain = new Generator(spec, fixtures).one(DEFAULT_SEED, 0);
    FuzzResponse problem = response(400, "application/problem+json", "fzreq-0",
      "{\"status\":400,\"code\":\"invalid_request\",\"type\":\"t\",\"title\":\"t\"}");
    assertEquals(List.of(), Oracle.violations(plain, problem), "a proper problem passes");
    assertTrue(Oracle.violations(plain, response(500, "application/problem+json", "fzreq-0",
      "{\"status\":500,\"code\":\"internal_error\"}")).contains("status 500"));
    assertTrue(Oracle.violations(plain, response(501, "text/plain", "fzreq-0", "")).contains("status 501"));
    assertTrue(Oracle.violations(plain, response(400, "text/html", null, "<html>Bad Request</html>"))
      .containsAll(List.of("400 without X-Request-Id", "400 not problem+json (text/html)")));
    assertTrue(Oracle.violations(plain, response(404, "application/problem+json", "fzreq-0",
      "{\"status\":404,\"code\":\"x\",\"detail\":\"java.lang.NullPointerException\\n\\tat io.openbureau.X\"}"))
      .contains("internal detail in body"));
    assertTrue(Oracle.violations(plain, response(200, "application/json", "<bad id>", "{}"))
      .contains("unsafe X-Request-Id echoed"));
    assertFalse(Oracle.violations(plain, FuzzResponse.failed("connection closed without a response")).isEmpty());

    FuzzRequest forged = new FuzzRequest(1, "listMembers", "auth:forged", "GET", "/v1/members", "HTTP/1.1", List.of(),
      null, false, true, false, false, "#1 forged");
    assertEquals(List.of("honoured a credential that must be refused (200)"),
      Oracle.violations(forged, response(200, "application/json", "fzreq-1", "{\"items\":[]}")));

    Findings findings = new Findings(DEFAULT_SEED);
    findings.add(plain, response(500, "application/problem+json", "fzreq-0", "{}"), List.of("status 500"), "NPE at X(X.java:1)");
    assertEquals(1, findings.cases().size());
    assertEquals("status 500", findings.cases().get(0).rule);
    assertFalse(findings.isEmpty());
    assertTrue(findings.summary(20).contains(plain.repr()), findings.summary(20));
    assertEquals(Set.of("GET", "FUZZ"), metricMethods("a{method=\"GET\",x=\"1\"} 1\nb{code=\"200\",method=\"FUZZ\"} 2\n"));
  }

  @Test
  @DisplayName("the proof check is not blind: a real proof holds, one with another row hash or a forged checkpoint does not")
  void proofCheckCanFail() throws Exception {
    String id = fixtures.rowsByCred.get("borrower p0").get(0);
    Api.Res res = api.get("/v1/me/inquiries/" + id + "/proof", Tokens.borrower(fixtures.people.get(0)));
    assertEquals(200, res.status(), res.toString());
    JsonObject proof = res.json();
    JsonObject jwks = api.get("/.well-known/jwks.json", null).json();
    assertEquals(null, proofFails(proof, jwks));
    assertEquals("the audit path does not lead to the signed root", proofFails(proof.copy().put("rowHash", "00".repeat(32)), jwks));
    String[] jws = proof.getString("checkpoint").split("\\.");
    String flipped = (jws[2].charAt(0) == 'A' ? "B" : "A") + jws[2].substring(1);
    assertEquals("bad signature", proofFails(proof.copy().put("checkpoint", jws[0] + "." + jws[1] + "." + flipped), jwks));
    JsonObject other = proof.getJsonObject("row").copy().put("chainSeq", proof.getJsonObject("row").getLong("chainSeq") + 1);
    assertEquals("the row is not where the checkpoint says", proofFails(proof.copy().put("row", other), jwks));
  }

  @Test
  @DisplayName("a seed generates the same requests every time, and every operation of the contract is fuzzed")
  void deterministic() {
    Generator generator = new Generator(spec, fixtures);
    List<FuzzRequest> a = generator.generate(7L, 2000);
    List<FuzzRequest> b = new Generator(spec, fixtures).generate(7L, 2000);
    for (int i = 0; i < a.size(); i++) {
      assertTrue(java.util.Arrays.equals(a.get(i).bytes(), b.get(i).bytes()), "request " + i + " differs");
    }
    assertEquals(a.get(1234).repr(), generator.one(7L, 1234).repr(), "request i is generated alone");
    Set<String> covered = a.stream().map(FuzzRequest::operation).collect(Collectors.toSet());
    Set<String> all = spec.operations().stream().map(ApiSpec.Operation::id).collect(Collectors.toSet());
    assertEquals(all, covered);
    assertTrue(all.size() >= 20, "the contract was read: " + all);
  }

  // ---- sending

  /**
   * Eight workers share the requests; the verifications go one at a time on a lane of their own,
   * since the bureau answers 429 verify_busy beyond two at once, and which of them got that (and
   * so hid what they would have found) would otherwise depend on timing.
   */
  private static FuzzResponse[] send(List<FuzzRequest> requests) throws Exception {
    MICROS = new long[requests.size()];
    FuzzResponse[] responses = new FuzzResponse[requests.size()];
    List<Integer> serial = new ArrayList<>();
    List<Integer> shared = new ArrayList<>();
    for (int i = 0; i < requests.size(); i++) {
      (SERIAL.contains(requests.get(i).operation()) ? serial : shared).add(i);
    }
    AtomicInteger next = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(CONCURRENCY + 1);
    try {
      List<Future<?>> workers = new ArrayList<>();
      for (int w = 0; w < CONCURRENCY; w++) {
        workers.add(pool.submit(() -> {
          try (RawClient client = new RawClient(fixtures.host, fixtures.port, 15_000)) {
            for (int n = next.getAndIncrement(); n < shared.size(); n = next.getAndIncrement()) {
              sendOne(client, requests, responses, shared.get(n));
            }
          }
        }));
      }
      workers.add(pool.submit(() -> {
        try (RawClient client = new RawClient(fixtures.host, fixtures.port, 15_000)) {
          serial.forEach(i -> sendOne(client, requests, responses, i));
        }
      }));
      for (Future<?> f : workers) {
        f.get(10, TimeUnit.MINUTES);
      }
    } finally {
      pool.shutdownNow();
    }
    return responses;
  }

  private static void sendOne(RawClient client, List<FuzzRequest> requests, FuzzResponse[] responses, int i) {
    long t0 = System.nanoTime();
    responses[i] = client.send(requests.get(i));
    MICROS[i] = (System.nanoTime() - t0) / 1000;
  }

  private static FuzzResponse response(int status, String type, String requestId, String body) {
    Map<String, List<String>> headers = new HashMap<>();
    if (type != null) {
      headers.put("content-type", List.of(type));
    }
    if (requestId != null) {
      headers.put("x-request-id", List.of(requestId));
    }
    return new FuzzResponse(status, headers, body.getBytes(StandardCharsets.UTF_8), null);
  }

  /** For each operation, the statuses its unmutated requests got: how deep the valid ones reach. */
  static Map<String, Map<Integer, Long>> validStatuses(List<FuzzRequest> requests, FuzzResponse[] responses) {
    Map<String, Map<Integer, Long>> out = new java.util.TreeMap<>();
    for (int i = 0; i < requests.size(); i++) {
      if (requests.get(i).mutation().equals("valid")) {
        out.computeIfAbsent(requests.get(i).operation(), k -> new java.util.TreeMap<>()).merge(responses[i].status(), 1L, Long::sum);
      }
    }
    return out;
  }

  private static void writeReport(long seed, int count, long millis, Map<Integer, Long> byStatus,
                                  List<FuzzRequest> requests, FuzzResponse[] responses, Findings findings) throws IOException {
    Path dir = Path.of("target", "fuzz");
    Files.createDirectories(dir);
    StringBuilder sb = new StringBuilder();
    sb.append("seed ").append(seed).append(", ").append(count).append(" requests in ").append(millis).append(" ms\n");
    sb.append("statuses ").append(byStatus).append('\n');
    Map<String, Long> byOp = requests.stream().collect(Collectors.groupingBy(FuzzRequest::operation, java.util.TreeMap::new,
      Collectors.counting()));
    sb.append("requests per operation ").append(byOp).append('\n');
    Map<String, Long> timeByOp = new java.util.TreeMap<>();
    for (int i = 0; i < requests.size(); i++) {
      timeByOp.merge(requests.get(i).operation(), MICROS[i] / 1000, Long::sum);
    }
    Map<String, Long> avgByOp = new java.util.TreeMap<>();
    timeByOp.forEach((op, ms) -> avgByOp.put(op, ms / Math.max(1, byOp.get(op))));
    sb.append("mean milliseconds per request, by operation ").append(avgByOp).append('\n');
    Integer[] slowest = java.util.stream.IntStream.range(0, requests.size()).boxed()
      .sorted((a, b) -> Long.compare(MICROS[b], MICROS[a])).limit(15).toArray(Integer[]::new);
    for (int i : slowest) {
      sb.append("  slow ").append(MICROS[i] / 1000).append(" ms ").append(requests.get(i).repr(), 0,
        Math.min(200, requests.get(i).repr().length())).append('\n');
    }
    sb.append("valid requests ").append(requests.stream().filter(r -> r.mutation().equals("valid")).count()).append('\n');
    sb.append("statuses of the valid requests, by operation ").append(validStatuses(requests, responses)).append('\n');
    sb.append(findings.summary(Integer.MAX_VALUE));
    Files.writeString(dir.resolve("http-fuzz-" + seed + ".txt"), sb.toString());
    // every request with its answer's status, one a line: what was tried, for a reader of the run
    StringBuilder all = new StringBuilder();
    for (int i = 0; i < requests.size(); i++) {
      String repr = requests.get(i).repr();
      all.append(responses[i].status()).append(' ').append(repr, 0, Math.min(300, repr.length())).append('\n');
    }
    Files.writeString(dir.resolve("http-fuzz-" + seed + "-requests.txt"), all.toString());
  }

  // ---- what exists before the fuzzing

  private static Fixtures seed() throws InterruptedException {
    Fixtures fx = new Fixtures();
    fx.port = bureau.config().http().port();
    List<String> lenders = List.of("lender-a", "lender-b");
    fx.activeMembers.addAll(lenders);
    fx.suspendedMember = "lender-s";
    for (String id : List.of("lender-a", "lender-b", "lender-s", "fz-victim-0", "fz-victim-1", "fz-victim-2")) {
      assertEquals(201, api.post("/v1/members", ADMIN, new JsonObject().put("id", id).put("name", "Member " + id)).status());
    }
    fx.victimMembers.addAll(List.of("fz-victim-0", "fz-victim-1", "fz-victim-2", "lender-zz-unknown"));
    assertEquals(200, api.post("/v1/members/lender-s/suspend", ADMIN, null).status());

    for (int i = 0; i < 3; i++) {
      fx.people.add(NationalId.of("110101", LocalDate.of(1980 + i, 3, 14), 100 + i));
    }
    fx.accountRefs.addAll(List.of("acct-0", "acct-1", "acct-2"));
    for (String lender : lenders) {
      for (int i = 0; i < fx.accountRefs.size(); i++) {
        JsonObject loan = new JsonObject().put("nationalId", fx.people.get(i)).put("productType", "CONSUMER_LOAN")
          .put("openedAt", "2025-01-15").put("principal", "20000.00").put("status", "OPEN").put("balance", "15000.00")
          .put("daysPastDue", 0);
        Api.Res put = api.put("/v1/tradelines/" + fx.accountRefs.get(i), Tokens.lender(lender), loan);
        assertTrue(put.status() == 201 || put.status() == 200, put.toString());
        Api.Res rep = api.post("/v1/tradelines/" + fx.accountRefs.get(i) + "/repayments", Tokens.lender(lender),
          new JsonObject().put("period", "2025-10").put("amountDue", "1000.00").put("amountPaid", "1000.00").put("daysPastDue", 0));
        assertEquals(201, rep.status(), rep.toString());
      }
    }
    String p1 = fx.people.get(0);
    grant(fx, p1, "lender-a", "LOAN_ORIGINATION", "REPORT");
    grant(fx, p1, "lender-b", "LOAN_ORIGINATION", "SCORE");
    grant(fx, fx.people.get(1), "lender-a", "LOAN_ORIGINATION", "SCORE");
    // the consents the fuzzer may revoke: purposes the inquiries above do not depend on
    fx.consentIds.add(grant(fx, fx.people.get(1), "lender-b", "ACCOUNT_REVIEW", "SCORE"));
    fx.consentIds.add(grant(fx, fx.people.get(2), "lender-a", "ACCOUNT_REVIEW", "REPORT"));
    fx.consentIds.add(grant(fx, fx.people.get(2), "lender-b", "ACCOUNT_REVIEW", "SCORE"));
    for (String lender : lenders) {
      Api.Res inq = api.post("/v1/inquiries", Tokens.lender(lender), new JsonObject().put("nationalId", p1)
        .put("purpose", "LOAN_ORIGINATION"));
      assertEquals(200, inq.status(), inq.toString());
    }
    Api.Res inq = api.post("/v1/inquiries", Tokens.lender("lender-a"), new JsonObject().put("nationalId", fx.people.get(1))
      .put("purpose", "LOAN_ORIGINATION"));
    assertEquals(200, inq.status(), inq.toString());
    credentials(fx);
    checkpointed(fx);
    return fx;
  }

  /**
   * The access-log entries about each borrower credential's subject, once a checkpoint covers them
   * all (their proofs answer 200), and the oldest signed checkpoints as the public endpoint gives
   * them: what proof requests and an outsider's copy are made of.
   */
  private static void checkpointed(Fixtures fx) throws InterruptedException {
    Map<String, List<String>> byPerson = new java.util.LinkedHashMap<>();
    for (String person : fx.people) {
      Api.Res mine = api.get("/v1/me/inquiries?limit=20", Tokens.borrower(person));
      assertEquals(200, mine.status(), mine.toString());
      List<String> ids = new ArrayList<>();
      mine.json().getJsonArray("items").forEach(o -> ids.add(((JsonObject) o).getString("id")));
      java.util.Collections.sort(ids);
      byPerson.put(person, ids);
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    for (var e : byPerson.entrySet()) {
      for (String id : e.getValue()) {
        Api.Res proof = api.get("/v1/me/inquiries/" + id + "/proof", Tokens.borrower(e.getKey()));
        while (proof.status() == 409 && System.nanoTime() < deadline) {
          Thread.sleep(50); // polling, with a deadline: rows are checkpointed within the interval
          proof = api.get("/v1/me/inquiries/" + id + "/proof", Tokens.borrower(e.getKey()));
        }
        assertEquals(200, proof.status(), "the entry " + id + " is checkpointed within 30 s: " + proof);
        fx.rows.add(id);
      }
    }
    SUBJECTS.forEach((cred, person) -> fx.rowsByCred.put(cred, byPerson.getOrDefault(person, List.of())));
    Api.Res feed = api.get("/v1/audit/checkpoints?after=0&limit=4", null);
    assertEquals(200, feed.status(), feed.toString());
    for (Object o : feed.json().getJsonArray("items")) {
      JsonObject cp = (JsonObject) o;
      fx.checkpoints.add(cp.getString("signature"));
      // (signed here once: ECDSA signatures differ every time, and a seed must give the same requests)
      JsonObject claims = new JsonObject(new String(java.util.Base64.getUrlDecoder().decode(
        cp.getString("signature").split("\\.")[1]), StandardCharsets.UTF_8));
      fx.foreignCheckpoints.add(FuzzTokens.es256(new JsonObject().put("typ", "JWT"), claims));
      fx.foreignCheckpoints.add(Tokens.rs256(claims));
      fx.checkpointIds.add(cp.getString("id"));
      if (!fx.chainIds.contains(cp.getString("chainId"))) {
        fx.chainIds.add(cp.getString("chainId"));
      }
    }
    assertFalse(fx.checkpoints.isEmpty(), "checkpoints are published: " + feed);
    Api.Res page = api.get("/v1/audit/checkpoints?after=0&limit=" + fx.checkpoints.size(), null);
    fx.feedEtag = page.header("ETag");
  }

  private static String grant(Fixtures fx, String person, String lender, String purpose, String scope) {
    Api.Res r = api.post("/v1/me/consents", Tokens.borrower(person), new JsonObject().put("lenderId", lender)
      .put("purpose", purpose).put("scope", scope));
    assertEquals(201, r.status(), r.toString());
    if (r.json().getString("receipt") != null) {
      fx.receipts.add(r.json().getString("receipt")); // signed by the bureau, but no checkpoint
    }
    return r.json().getString("consentId");
  }

  private static void credentials(Fixtures fx) {
    String p1 = fx.people.get(0);
    // whose entries a borrower credential may ask proofs of (its subject's)
    SUBJECTS.put("borrower p0", p1);
    SUBJECTS.put("borrower p1", fx.people.get(1));
    SUBJECTS.put("borrower p2", fx.people.get(2));
    SUBJECTS.put("borrower via limited issuer", fx.people.get(1));
    SUBJECTS.put("lender+borrower, sub a national id", p1);
    SUBJECTS.put("borrower, sub with trailing NUL", p1);
    String admin = Tokens.admin();
    String lenderA = Tokens.lender("lender-a");
    String borrower = Tokens.borrower(p1);
    // well-formed and correctly signed: honoured for the roles named, refused everywhere else
    fx.valid.add(Cred.bearer("admin", admin, "admin"));
    fx.valid.add(Cred.bearer("admin rs256", Tokens.rs256(Tokens.claims(Tokens.TEST_ISSUER, "admin-2", "admin")), "admin"));
    fx.valid.add(Cred.bearer("compliance", Tokens.compliance(), "compliance"));
    fx.valid.add(Cred.bearer("lender-a", lenderA, "lender"));
    fx.valid.add(Cred.bearer("lender-b", Tokens.lender("lender-b"), "lender"));
    for (int i = 0; i < fx.people.size(); i++) {
      fx.valid.add(Cred.bearer("borrower p" + i, Tokens.borrower(fx.people.get(i)), "borrower"));
    }
    fx.valid.add(Cred.bearer("borrower via limited issuer",
      Tokens.rs256(Tokens.claims(Tokens.LIMITED_ISSUER, fx.people.get(1), "borrower")), "borrower"));
    fx.valid.add(Cred.bearer("lender+borrower, sub a national id",
      Tokens.es256(Tokens.claims(Tokens.DEV_ISSUER, p1, "lender", "borrower")), "borrower"));
    fx.valid.add(Cred.bearer("suspended lender-s", Tokens.lender("lender-s")));
    fx.valid.add(Cred.bearer("non-member lender", Tokens.lender("lender-ghost")));
    fx.valid.add(Cred.bearer("lender, sub a national id", Tokens.lender(p1)));
    fx.valid.add(Cred.bearer("lender, sub with NUL", Tokens.lender("lender-a\u0000")));
    fx.valid.add(Cred.bearer("borrower, sub not a national id", Tokens.borrower("not-an-id")));
    // a trailing NUL is trimmed like a space by the national-id check: honouring it as p0 or refusing
    // it are both fair on a borrower route, only a 5xx is not
    fx.valid.add(Cred.bearer("borrower, sub with trailing NUL", Tokens.borrower(p1 + "\u0000"), "borrower"));
    fx.valid.add(Cred.bearer("limited issuer claiming admin",
      Tokens.rs256(Tokens.claims(Tokens.LIMITED_ISSUER, "x", "admin"))));
    fx.valid.add(Cred.bearer("no roles", Tokens.es256(Tokens.claims(Tokens.DEV_ISSUER, "x"))));

    // never honoured, whatever role they claim
    JsonObject adminClaims = Tokens.claims(Tokens.DEV_ISSUER, "test-admin", "admin");
    long now = System.currentTimeMillis() / 1000;
    fx.refused.add(Cred.bearer("alg none", Tokens.unsigned(adminClaims)));
    fx.refused.add(Cred.bearer("HS256 keyed with the public key", Tokens.hs256WithPublicKey(adminClaims)));
    fx.refused.add(Cred.bearer("unknown key", Tokens.rs256WithUnknownKey(Tokens.claims(Tokens.TEST_ISSUER, "x", "admin"))));
    fx.refused.add(Cred.bearer("expired", Tokens.es256(adminClaims.copy().put("iat", now - 7200).put("exp", now - 3600))));
    fx.refused.add(Cred.bearer("not yet valid", Tokens.es256(adminClaims.copy().put("nbf", now + 3600))));
    fx.refused.add(Cred.bearer("wrong audience", Tokens.es256(adminClaims.copy().put("aud", "someone-else"))));
    fx.refused.add(Cred.bearer("no exp", Tokens.es256(removed(adminClaims, "exp"))));
    fx.refused.add(Cred.bearer("no sub", Tokens.es256(removed(adminClaims, "sub"))));
    fx.refused.add(Cred.bearer("roles not an array", Tokens.es256(adminClaims.copy().put("roles", "admin"))));
    fx.refused.add(Cred.bearer("untrusted issuer", Tokens.es256(adminClaims.copy().put("iss", "https://evil.example"))));
    for (String malformed : List.of("e30.e30.x", "e30.e30.", "e30..x", "a.b.c", "..", "...", "x", "eyJhbGciOiJFUzI1NiJ9.e30.x",
      "eyJhbGciOm51bGx9.e30.x", "eyJhbGciOjF9.e30.x", "W10.e30.x", "bnVsbA.e30.x", "e30.bnVsbA.x", "%%%.%%%.%%%",
      "\u00e9.\u00e9.\u00e9", admin + ".x", admin.substring(0, admin.length() - 3))) {
      fx.refused.add(Cred.bearer("malformed " + malformed.substring(0, Math.min(16, malformed.length())), malformed));
    }
    fx.refused.add(Cred.bearer("huge random token 8000", "A".repeat(8000)));
    fx.refused.add(Cred.bearer("huge token 9000", "A".repeat(4500) + "." + "B".repeat(4500) + ".c"));
    fx.refused.add(new Cred("Bearer without token", List.of("Bearer"), Set.of()));
    fx.refused.add(new Cred("Bearer and spaces", List.of("Bearer    "), Set.of()));
    fx.refused.add(new Cred("Basic", List.of("Basic YWRtaW46YWRtaW4="), Set.of()));
    fx.refused.add(new Cred("token without scheme", List.of(admin), Set.of()));
    fx.refused.add(new Cred("empty Authorization", List.of(""), Set.of()));
    // correctly signed but with a critical header extension nobody understands (RFC 7515 4.1.11)
    // (ordered maps: Map.of iterates in a different order in every JVM, and the seed must name the same requests)
    Map<String, String> subjects = new java.util.LinkedHashMap<>();
    subjects.put("admin", "test-admin");
    subjects.put("lender", "lender-a");
    subjects.put("borrower", p1);
    subjects.put("compliance", "officer-1");
    for (var role : subjects.entrySet()) {
      fx.refused.add(Cred.bearer("crit unknown (" + role.getKey() + ")",
        FuzzTokens.withCrit(new JsonArray().add("fz-ext"), role.getKey(), role.getValue())));
      fx.refused.add(Cred.bearer("crit empty (" + role.getKey() + ")",
        FuzzTokens.withCrit(new JsonArray(), role.getKey(), role.getValue())));
    }
    fx.refused.add(Cred.bearer("crit not an array", FuzzTokens.es256(new JsonObject().put("crit", "exp"), adminClaims)));
    // two Authorization headers: neither order may be honoured
    String forged = Tokens.unsigned(adminClaims);
    Map<String, String> honest = new java.util.LinkedHashMap<>();
    honest.put("admin", admin);
    honest.put("lender", lenderA);
    honest.put("borrower", borrower);
    for (var valid : honest.entrySet()) {
      fx.refused.add(new Cred("two Authorization, valid " + valid.getKey() + " first",
        List.of("Bearer " + valid.getValue(), "Bearer " + forged), Set.of()));
      fx.refused.add(new Cred("two Authorization, forged first",
        List.of("Bearer e30.e30.x", "Bearer " + valid.getValue()), Set.of()));
      fx.refused.add(new Cred("two Authorization, same " + valid.getKey() + " twice",
        List.of("Bearer " + valid.getValue(), "Bearer " + valid.getValue()), Set.of()));
    }
  }

  private static JsonObject removed(JsonObject claims, String field) {
    JsonObject c = claims.copy();
    c.remove(field);
    return c;
  }
}
