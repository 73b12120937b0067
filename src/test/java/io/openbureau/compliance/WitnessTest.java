package io.openbureau.compliance;

import io.openbureau.cli.VerifyProofCommand;
import io.openbureau.config.BureauConfig;
import io.openbureau.db.Database;
import io.openbureau.identity.BorrowerKeys;
import io.openbureau.identity.NationalId;
import io.openbureau.support.Api;
import io.openbureau.support.PlainMerkle;
import io.openbureau.support.TestBureau;
import io.openbureau.support.Tokens;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.RSAPublicKeySpec;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Witnesses outside the database: the checkpoint feed, the push to a witness, the outsider's-copy
 * verify and a person's inclusion proof, checked with the public key alone (an RSA check and the
 * plain recursive Merkle tree of {@link PlainMerkle}, nothing of the bureau's own verification code
 * except where the offline command itself is under test). Tampering runs last.
 */
@DisplayName("Witnesses: checkpoints outsiders can keep, compare and prove an access with")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WitnessTest {
  private static final String PERSON = NationalId.of("110101", LocalDate.of(1985, 6, 7), 31);
  private static final String OTHER = NationalId.of("110101", LocalDate.of(1979, 1, 2), 45);
  private static final HexFormat HEX = HexFormat.of();
  private static TestBureau bureau;
  private static Api api;
  private static Vertx receiverVertx;
  private static HttpServer receiver;
  private static final AtomicBoolean failing = new AtomicBoolean(true);
  private static final Map<Long, AtomicInteger> attempts = new ConcurrentHashMap<>();
  private static final Map<Long, String> acked = new ConcurrentHashMap<>();
  private static final Map<Long, String> contentTypes = new ConcurrentHashMap<>();

  @BeforeAll
  static void start() {
    receiverVertx = Vertx.vertx();
    receiver = TestBureau.await(receiverVertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
      long id = Long.parseLong(req.getHeader("X-Checkpoint-Id"));
      attempts.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
      if (failing.get()) {
        req.response().setStatusCode(503).end();
      } else {
        acked.put(id, body.toString());
        contentTypes.put(id, req.getHeader("Content-Type"));
        req.response().setStatusCode(204).end();
      }
    })).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture());
    bureau = TestBureau.start("witness", new JsonObject().put("compliance", new JsonObject()
      .put("checkpointIntervalSeconds", 1)
      .put("witness", new JsonObject().put("url", "http://127.0.0.1:" + receiver.actualPort() + "/witness")
        .put("maxAttempts", 100_000).put("maxBackoffMillis", 200).put("timeoutMillis", 1000))));
    api = bureau.api;
  }

  @AfterAll
  static void stop() {
    if (bureau != null) {
      bureau.close();
    }
    receiverVertx.close();
  }

  // ---- helpers

  /** Appends SELF_INQUIRIES rows about the person (each read of the list is one). */
  static void reads(String person, int n) {
    for (int i = 0; i < n; i++) {
      assertEquals(200, api.get("/v1/me/inquiries?limit=1", Tokens.borrower(person)).status());
    }
  }

  static List<String> myIds(String person) {
    Api.Res r = api.get("/v1/me/inquiries?limit=200", Tokens.borrower(person));
    assertEquals(200, r.status(), r.toString());
    List<String> ids = new ArrayList<>();
    r.items().stream().map(o -> (JsonObject) o).filter(o -> "SELF_INQUIRIES".equals(o.getString("action")))
      .forEach(o -> ids.add(o.getString("id")));
    return ids;
  }

  static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.currentTimeMillis() + 30_000;
    while (!condition.getAsBoolean()) {
      if (System.currentTimeMillis() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(50);
    }
  }

  /** The proof of a row, waiting while it is not checkpointed yet (409 not_checkpointed). */
  static JsonObject proof(String person, String id) throws InterruptedException {
    Api.Res[] last = new Api.Res[1];
    await("a checkpoint covering row " + id, () -> {
      last[0] = api.get("/v1/me/inquiries/" + id + "/proof", Tokens.borrower(person));
      if (last[0].status() == 409) {
        assertEquals("not_checkpointed", last[0].code(), last[0].toString());
        return false;
      }
      return true;
    });
    assertEquals(200, last[0].status(), last[0].toString());
    return last[0].json();
  }

  static JsonObject jwks() {
    return api.get("/.well-known/jwks.json", null).json();
  }

  static JsonObject claims(String jws) {
    return new JsonObject(new String(Base64.getUrlDecoder().decode(jws.split("\\.")[1]), StandardCharsets.UTF_8));
  }

  /**
   * The person's check, with the public key alone: RS256 against the JWKS key named by kid, then
   * the plain Merkle climb from the row's leaf to the signed root. Null when it holds.
   */
  static String independentCheck(JsonObject proof, JsonObject jwks) throws Exception {
    String[] jws = proof.getString("checkpoint").split("\\.");
    JsonObject header = new JsonObject(new String(Base64.getUrlDecoder().decode(jws[0]), StandardCharsets.UTF_8));
    JsonObject jwk = null;
    for (Object o : jwks.getJsonArray("keys")) {
      if (header.getString("kid").equals(((JsonObject) o).getString("kid"))) {
        jwk = (JsonObject) o;
      }
    }
    if (jwk == null || !"RS256".equals(header.getString("alg"))) {
      return "unknown key";
    }
    PublicKey key = KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(
      new BigInteger(1, Base64.getUrlDecoder().decode(jwk.getString("n"))),
      new BigInteger(1, Base64.getUrlDecoder().decode(jwk.getString("e")))));
    Signature sig = Signature.getInstance("SHA256withRSA");
    sig.initVerify(key);
    sig.update((jws[0] + "." + jws[1]).getBytes(StandardCharsets.US_ASCII));
    if (!sig.verify(Base64.getUrlDecoder().decode(jws[2]))) {
      return "bad signature";
    }
    JsonObject claims = claims(proof.getString("checkpoint"));
    JsonObject row = proof.getJsonObject("row");
    long from = claims.getLong("fromSeq");
    long size = claims.getLong("chainSeq") - from + 1;
    long index = row.getLong("chainSeq") - from;
    if (!claims.getString("chainId").equals(row.getString("chainId"))) {
      return "other chain";
    }
    if (proof.getLong("treeSize") != size || proof.getLong("leafIndex") != index) {
      return "position is not the signed one";
    }
    List<byte[]> path = new ArrayList<>();
    proof.getJsonArray("auditPath").forEach(p -> path.add(HEX.parseHex((String) p)));
    byte[] root = PlainMerkle.rootFromPath(index, size, HEX.parseHex(proof.getString("rowHash")), path);
    if (root == null || !Arrays.equals(root, HEX.parseHex(claims.getString("merkleRoot")))) {
      return "path does not lead to the signed root";
    }
    return null;
  }

  /** A proof of one of the person's rows whose tree has at least 3 leaves (so its path has both sides). */
  static JsonObject proofInABigTree() throws Exception {
    // sent fast, so each one-second checkpoint covers several of them
    reads(PERSON, 40);
    for (String id : myIds(PERSON)) {
      JsonObject p = proof(PERSON, id);
      if (p.getLong("treeSize") >= 3 && p.getLong("leafIndex") < p.getLong("treeSize") - 1) {
        return p;
      }
    }
    throw new AssertionError("no checkpoint covered 3 or more rows of the person");
  }

  static JsonObject copyWith(JsonObject proof, String field, Object value) {
    return proof.copy().put(field, value);
  }

  static JsonObject flipPathByte(JsonObject proof) {
    JsonArray path = proof.getJsonArray("auditPath").copy();
    byte[] p = HEX.parseHex(path.getString(0));
    p[0] ^= 0x01;
    path.set(0, HEX.formatHex(p));
    return copyWith(proof, "auditPath", path);
  }

  static String otherRowHash(JsonObject proof) {
    JsonObject row = proof.getJsonObject("row");
    long seq = row.getLong("chainSeq") + 1;
    return bureau.sqlString("SELECT encode(row_hash, 'hex') FROM access_log WHERE chain_id = '" + row.getString("chainId")
      + "' AND chain_seq = " + seq);
  }

  static JsonArray feed(long after, int limit) {
    Api.Res r = api.get("/v1/audit/checkpoints?after=" + after + "&limit=" + limit, null);
    assertEquals(200, r.status(), r.toString());
    return r.items();
  }

  static List<String> allSignatures() {
    List<String> out = new ArrayList<>();
    long after = 0;
    while (true) {
      JsonArray page = feed(after, 1000);
      if (page.isEmpty()) {
        return out;
      }
      for (Object o : page) {
        out.add(((JsonObject) o).getString("signature"));
        after = Long.parseLong(((JsonObject) o).getString("id"));
      }
    }
  }

  // ---- tests

  @Test
  @Order(1)
  @DisplayName("each new checkpoint is pushed to the witness, retried while the witness fails, and arrives")
  void pushRetriesUntilAcknowledged() throws Exception {
    reads(PERSON, 5);
    await("a push retried three times", () -> attempts.values().stream().anyMatch(a -> a.get() >= 3));
    assertTrue(acked.isEmpty(), "nothing acknowledged while the witness fails");
    long retried = attempts.entrySet().stream().filter(e -> e.getValue().get() >= 3).findFirst().orElseThrow().getKey();
    // inquiries are not held up by a failing witness
    long t0 = System.nanoTime();
    reads(PERSON, 5);
    assertTrue((System.nanoTime() - t0) / 1_000_000 < 10_000, "reads stayed fast");
    failing.set(false);
    await("the retried checkpoint acknowledged", () -> acked.containsKey(retried));
    Set<Long> stored = new HashSet<>();
    for (String id : bureau.sqlString("SELECT string_agg(id::text, ',') FROM audit_checkpoints").split(",")) {
      stored.add(Long.parseLong(id));
    }
    await("every stored checkpoint pushed", () -> acked.keySet().containsAll(stored));
    assertEquals(bureau.sqlString("SELECT signature FROM audit_checkpoints WHERE id = " + retried), acked.get(retried));
    assertEquals("application/jose", contentTypes.get(retried));
  }

  @Test
  @Order(0)
  @DisplayName("the push queue is bounded: when the witness cannot keep up, the oldest are dropped, never the process")
  void pushQueueIsBounded() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      // a port nothing listens on: every attempt fails
      WitnessSettings settings = new WitnessSettings(16, "http://127.0.0.1:" + TestBureau.freePort() + "/w", 3, 1_000_000,
        500, 1000);
      WitnessPush push = new WitnessPush(vertx, settings);
      java.util.concurrent.CompletableFuture<Integer> queued = new java.util.concurrent.CompletableFuture<>();
      vertx.runOnContext(v -> {
        for (int i = 1; i <= 50; i++) {
          push.offer(i, "chain", i, "jws-" + i);
        }
        queued.complete(push.queued());
        push.close();
      });
      assertEquals(3, TestBureau.await(queued));
    } finally {
      vertx.close();
    }
  }

  @Test
  @Order(2)
  @DisplayName("a row no checkpoint covers yet answers 409 not_checkpointed with Retry-After; others' rows are 404")
  void notYetCheckpointed() throws Exception {
    BorrowerKeys keys = new BorrowerKeys(bureau.config().identity().hmacKeyId(), bureau.config().identity().hmacSecret());
    String key = HEX.formatHex(keys.key(PERSON));
    String zero = "\\x" + "00".repeat(32);
    // a row on a chain no writer of this bureau holds: nothing will ever checkpoint it
    String id = bureau.sqlString("INSERT INTO access_log (id, at, chain_id, chain_seq, action, actor_role, decision,"
      + " borrower_key, prev_hash, row_hash) VALUES (nextval('access_log_id_seq'), now(), 'unsigned-chain', 1,"
      + " 'INQUIRY', 'lender', 'GRANTED', '\\x" + key + "', '" + zero + "', '" + zero + "') RETURNING id");
    Api.Res r = api.get("/v1/me/inquiries/" + id + "/proof", Tokens.borrower(PERSON));
    assertEquals(409, r.status(), r.toString());
    assertEquals("not_checkpointed", r.code());
    assertNotNull(r.header("Retry-After"));
    assertNotNull(r.json().getString("requestId"), r.toString());
    assertEquals(404, api.get("/v1/me/inquiries/" + id + "/proof", Tokens.borrower(OTHER)).status());
    assertEquals(404, api.get("/v1/me/inquiries/999999999/proof", Tokens.borrower(PERSON)).status());
    assertEquals(400, api.get("/v1/me/inquiries/abc/proof", Tokens.borrower(PERSON)).status());
    assertEquals(403, api.get("/v1/me/inquiries/" + id + "/proof", Tokens.compliance()).status());
    assertEquals(401, api.get("/v1/me/inquiries/" + id + "/proof", null).status());
  }

  @Test
  @Order(3)
  @DisplayName("a person's proof verifies with the public key alone, and its tree is the one over the chain's rows")
  void proofVerifiesWithPublicKeyAlone() throws Exception {
    JsonObject proof = proofInABigTree();
    JsonObject jwks = jwks();
    assertNull(independentCheck(proof, jwks));
    JsonObject row = proof.getJsonObject("row");
    assertEquals(proof.getString("rowHash"), bureau.sqlString("SELECT encode(row_hash, 'hex') FROM access_log WHERE id = "
      + row.getString("id")));
    assertEquals("SELF_INQUIRIES", row.getString("action"));
    // the signed root is the plain tree over the stored rows fromSeq..chainSeq of the chain
    JsonObject claims = claims(proof.getString("checkpoint"));
    List<byte[]> leaves = new ArrayList<>();
    String hashes = bureau.sqlString("SELECT string_agg(encode(row_hash, 'hex'), ',' ORDER BY chain_seq) FROM access_log"
      + " WHERE chain_id = '" + claims.getString("chainId") + "' AND chain_seq BETWEEN " + claims.getLong("fromSeq")
      + " AND " + claims.getLong("chainSeq"));
    for (String h : hashes.split(",")) {
      leaves.add(HEX.parseHex(h));
    }
    assertEquals(claims.getLong("treeSize"), (long) leaves.size());
    assertEquals(claims.getString("merkleRoot"), HEX.formatHex(PlainMerkle.root(leaves)));
    assertEquals(claims.getString("headHash"), HEX.formatHex(leaves.get(leaves.size() - 1)));
    // consecutive checkpoints of a chain cover consecutive, non-overlapping rows
    String previous = bureau.sqlString("SELECT max(chain_seq) FROM audit_checkpoints WHERE chain_id = '"
      + claims.getString("chainId") + "' AND chain_seq < " + claims.getLong("chainSeq"));
    assertEquals(previous == null ? 1 : Long.parseLong(previous) + 1, claims.getLong("fromSeq"));
    // the request was logged
    assertTrue(bureau.count("SELECT count(*) FROM access_log WHERE action = 'SELF_PROOF'") >= 1);
  }

  @Test
  @Order(4)
  @DisplayName("a proof with one path byte changed, another row's hash or a wrong tree size fails")
  void tamperedProofFails() throws Exception {
    JsonObject proof = proofInABigTree();
    JsonObject jwks = jwks();
    assertNull(independentCheck(proof, jwks));
    String other = otherRowHash(proof);
    assertNotNull(other);
    JsonObject[] tampered = {
      flipPathByte(proof),
      copyWith(proof, "rowHash", other),
      copyWith(proof, "treeSize", proof.getLong("treeSize") + 1),
      copyWith(proof, "leafIndex", proof.getLong("leafIndex") + 1),
    };
    for (JsonObject t : tampered) {
      assertNotNull(independentCheck(t, jwks), t.encode());
      assertNotNull(VerifyProofCommand.check(t, jwks), t.encode());
    }
    assertNull(VerifyProofCommand.check(proof, jwks));
  }

  @Test
  @Order(5)
  @DisplayName("the offline verify-proof command prints OK for a proof and FAILED with the reason for a tampered one")
  void offlineCommand() throws Exception {
    JsonObject proof = proofInABigTree();
    Path dir = Files.createTempDirectory("proof");
    Path good = dir.resolve("proof.json");
    Path bad = dir.resolve("bad.json");
    Path size = dir.resolve("size.json");
    Path keys = dir.resolve("jwks.json");
    Path foreign = dir.resolve("foreign-jwks.json");
    Files.writeString(good, proof.encodePrettily());
    Files.writeString(bad, flipPathByte(proof).encode());
    Files.writeString(size, copyWith(proof, "treeSize", proof.getLong("treeSize") - 1).encode());
    Files.writeString(keys, api.get("/.well-known/jwks.json", null).body());
    // the same kid with another RSA modulus: a key that did not sign it
    JsonObject jwks = jwks();
    JsonObject k = jwks.getJsonArray("keys").getJsonObject(0);
    byte[] n = Base64.getUrlDecoder().decode(k.getString("n"));
    n[n.length - 1] ^= 2;
    k.put("n", Base64.getUrlEncoder().withoutPadding().encodeToString(n));
    Files.writeString(foreign, jwks.encode());

    String[] out = new String[1];
    assertEquals(0, run(out, good.toString(), "--jwks", keys.toString()), out[0]);
    assertTrue(out[0].startsWith("OK"), out[0]);
    assertEquals(1, run(out, bad.toString(), "--jwks", keys.toString()));
    assertTrue(out[0].startsWith("FAILED: the audit path"), out[0]);
    assertEquals(1, run(out, size.toString(), "--jwks", keys.toString()));
    assertTrue(out[0].startsWith("FAILED: treeSize"), out[0]);
    assertEquals(1, run(out, good.toString(), "--jwks", foreign.toString()));
    assertTrue(out[0].startsWith("FAILED: checkpoint bad_signature"), out[0]);
    assertEquals(2, run(out, good.toString()));
    assertEquals(2, run(out, dir.resolve("missing.json").toString(), "--jwks", keys.toString()));
    for (Path f : List.of(good, bad, size, keys, foreign, dir)) {
      Files.delete(f);
    }
  }

  static int run(String[] out, String... args) {
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    ByteArrayOutputStream e = new ByteArrayOutputStream();
    int status = VerifyProofCommand.run(args, new PrintStream(o, true, StandardCharsets.UTF_8),
      new PrintStream(e, true, StandardCharsets.UTF_8));
    out[0] = o.toString(StandardCharsets.UTF_8) + e.toString(StandardCharsets.UTF_8);
    return status;
  }

  @Test
  @Order(6)
  @DisplayName("the feed pages oldest first from after= without skips or repeats while checkpoints are written, with ETag")
  void feedPagesWithoutSkipsOrRepeats() throws Exception {
    AtomicBoolean writing = new AtomicBoolean(true);
    Thread traffic = new Thread(() -> {
      while (writing.get()) {
        api.get("/v1/me/inquiries?limit=1", Tokens.borrower(OTHER));
      }
    });
    traffic.start();
    List<Long> seen = new ArrayList<>();
    long after = 0;
    long until = System.currentTimeMillis() + 4_000;
    try {
      while (System.currentTimeMillis() < until) {
        Api.Res r = api.get("/v1/audit/checkpoints?after=" + after + "&limit=3", null);
        assertEquals(200, r.status(), r.toString());
        for (Object o : r.items()) {
          seen.add(Long.parseLong(((JsonObject) o).getString("id")));
        }
        after = Long.parseLong(r.json().getString("nextAfter"));
      }
    } finally {
      writing.set(false);
      traffic.join();
    }
    // read to the end of what is stored now
    long stored = bureau.count("SELECT max(id) FROM audit_checkpoints");
    while (after < stored) {
      JsonArray page = feed(after, 3);
      assertFalse(page.isEmpty(), "the feed ended at " + after + " before the stored " + stored);
      for (Object o : page) {
        long id = Long.parseLong(((JsonObject) o).getString("id"));
        if (id <= stored) {
          seen.add(id);
        }
        after = id;
      }
    }
    List<Long> expected = new ArrayList<>();
    for (String id : bureau.sqlString("SELECT string_agg(id::text, ',' ORDER BY id) FROM audit_checkpoints WHERE id <= "
      + stored).split(",")) {
      expected.add(Long.parseLong(id));
    }
    assertTrue(expected.size() > 6, "the feed was read over several pages: " + expected.size());
    assertEquals(expected, seen);

    // an unchanged page answers 304 to its ETag; the newest-first view still works
    Api.Res page = api.get("/v1/audit/checkpoints?after=" + expected.get(0) + "&limit=2", null);
    String etag = page.header("ETag");
    assertNotNull(etag);
    Api.Res again = api.send(api.builder("/v1/audit/checkpoints?after=" + expected.get(0) + "&limit=2", null)
      .header("If-None-Match", etag).GET().build());
    assertEquals(304, again.status());
    assertEquals(etag, again.header("ETag"));
    Api.Res newest = api.get("/v1/audit/checkpoints?limit=2", null);
    assertEquals(200, newest.status());
    assertTrue(Long.parseLong(newest.items().getJsonObject(0).getString("id"))
      > Long.parseLong(newest.items().getJsonObject(1).getString("id")));
    assertNotNull(newest.items().getJsonObject(0).getString("merkleRoot"));
    assertEquals(400, api.get("/v1/audit/checkpoints?after=-1", null).status());
    assertEquals(400, api.get("/v1/audit/checkpoints?after=x", null).status());
    assertEquals(400, api.get("/v1/audit/checkpoints?after=0&cursor=eyJpIjoxfQ", null).status());
    assertEquals(400, api.get("/v1/audit/checkpoints?chainId=%00", null).status());
  }

  @Test
  @Order(7)
  @DisplayName("the outsider's copy verifies intact, then names a re-hashed row, a deleted checkpoint and bad signatures")
  void outsidersCopyNamesTampering() throws Exception {
    JsonObject proof = proofInABigTree();
    List<String> copy = allSignatures();
    Api.Res clean = api.post("/v1/compliance/access-log/verify-checkpoints", Tokens.compliance(), new JsonArray(copy));
    assertEquals(200, clean.status(), clean.toString());
    assertTrue(clean.json().getBoolean("intact"), clean.toString());
    assertEquals(copy.size(), clean.json().getInteger("checked"));
    assertEquals(copy.size(), clean.json().getInteger("treesChecked"));

    // the checkpoint covering the person's row: its head row re-hashed, behind the trigger's back
    JsonObject covering = claims(proof.getString("checkpoint"));
    String chain = covering.getString("chainId");
    long seq = covering.getLong("chainSeq");
    String original = bureau.sqlString("SELECT encode(row_hash, 'hex') FROM access_log WHERE chain_id = '" + chain
      + "' AND chain_seq = " + seq);
    String forged = HEX.formatHex(PlainMerkle.sha("forged".getBytes(StandardCharsets.UTF_8)));
    bureau.sql("SET session_replication_role = replica; UPDATE access_log SET lender_id = 'forged-lender', row_hash = '\\x"
      + forged + "' WHERE chain_id = '" + chain + "' AND chain_seq = " + seq);
    // another checkpoint deleted
    String deleted = copy.stream().filter(s -> !(claims(s).getString("chainId").equals(chain)
      && claims(s).getLong("chainSeq") == seq)).findFirst().orElseThrow();
    JsonObject deletedClaims = claims(deleted);
    bureau.sql("SET session_replication_role = replica; DELETE FROM audit_checkpoints WHERE chain_id = '"
      + deletedClaims.getString("chainId") + "' AND chain_seq = " + deletedClaims.getLong("chainSeq"));
    String[] parts = copy.get(0).split("\\.");
    char c = parts[2].charAt(5);
    String badSignature = parts[0] + "." + parts[1] + "." + parts[2].substring(0, 5) + (c == 'A' ? 'B' : 'A')
      + parts[2].substring(6);
    List<String> sent = new ArrayList<>(copy);
    sent.add("not a jws");
    sent.add(badSignature);
    try {
      Api.Res r = api.post("/v1/compliance/access-log/verify-checkpoints", Tokens.compliance(), new JsonArray(sent));
      assertEquals(200, r.status(), r.toString());
      JsonObject v = r.json();
      assertFalse(v.getBoolean("intact"), v.encode());
      Set<String> named = new HashSet<>();
      for (Object o : v.getJsonArray("mismatches")) {
        JsonObject m = (JsonObject) o;
        named.add(m.getString("problem") + "@" + (m.containsKey("chainId") ? m.getString("chainId") + ":" + m.getLong("chainSeq")
          : "#" + m.getInteger("index")));
      }
      assertTrue(named.contains("changed_row@" + chain + ":" + seq), named.toString());
      assertTrue(named.contains("changed_rows@" + chain + ":" + seq), named.toString());
      assertTrue(named.contains("missing_checkpoint@" + deletedClaims.getString("chainId") + ":"
        + deletedClaims.getLong("chainSeq")), named.toString());
      assertTrue(named.contains("malformed@#" + copy.size()), named.toString());
      assertTrue(named.contains("bad_signature@#" + (copy.size() + 1)), named.toString());
      assertEquals(5, named.size(), "nothing else is named: " + named);
      // the person's proof now refuses rather than prove a changed log
      Api.Res p = api.get("/v1/me/inquiries/" + proof.getJsonObject("row").getString("id") + "/proof",
        Tokens.borrower(PERSON));
      assertEquals(409, p.status(), p.toString());
      assertEquals("proof_unavailable", p.code());
      assertTrue(bureau.count("SELECT count(*) FROM access_log WHERE action = 'COMPLIANCE_VERIFY_CHECKPOINTS'"
        + " AND actor_id = 'officer-1'") >= 2);
    } finally {
      bureau.sql("SET session_replication_role = replica; UPDATE access_log SET lender_id = NULL, row_hash = '\\x"
        + original + "' WHERE chain_id = '" + chain + "' AND chain_seq = " + seq);
    }
    // bounded, typed input; the officer's role only
    assertEquals(400, api.post("/v1/compliance/access-log/verify-checkpoints", Tokens.compliance(), new JsonArray()).status());
    assertEquals(400, api.post("/v1/compliance/access-log/verify-checkpoints", Tokens.compliance(),
      new JsonObject().put("a", 1)).status());
    assertEquals(400, api.post("/v1/compliance/access-log/verify-checkpoints", Tokens.compliance(),
      new JsonArray().add(1)).status());
    JsonArray tooMany = new JsonArray();
    for (int i = 0; i <= WitnessCheck.MAX_CHECKPOINTS; i++) {
      tooMany.add("x");
    }
    assertEquals(400, api.post("/v1/compliance/access-log/verify-checkpoints", Tokens.compliance(), tooMany).status());
    assertEquals(403, api.post("/v1/compliance/access-log/verify-checkpoints", Tokens.borrower(PERSON),
      new JsonArray().add("x")).status());
  }

  @Test
  @Order(8)
  @DisplayName("a row changed in the database before its checkpoint is signed as committed, and the change is named")
  void changedBeforeCheckpointIsSignedAsCommitted() throws Exception {
    Vertx vertx = Vertx.vertx();
    io.vertx.sqlclient.Pool pool = Database.pool(vertx, bureau.config().postgres(), 2);
    try {
      io.vertx.core.Context ctx = vertx.getOrCreateContext();
      io.openbureau.audit.AuditWriter writer = new io.openbureau.audit.AuditWriter(vertx, pool,
        io.openbureau.audit.AuditSettings.from(bureau.config()), new io.micrometer.core.instrument.simple.SimpleMeterRegistry());
      Checkpointer checkpointer = new Checkpointer(vertx, pool, writer,
        io.openbureau.consent.ReceiptSigner.load(bureau.config().signing()));
      io.openbureau.audit.AccessLogEntry.Draft draft = new io.openbureau.audit.AccessLogEntry.Draft("COMPLIANCE_READ",
        "compliance", "officer-2", null, null, null, null, "GRANTED", null, null, "wt-before", null, null);
      on(ctx, () -> writer.append(draft).compose(e -> writer.append(draft)).compose(e -> writer.append(draft)));
      String chain = bureau.sqlString("SELECT chain_id FROM access_log WHERE request_id = 'wt-before' LIMIT 1");
      String where = " FROM access_log WHERE chain_id = '" + chain + "' AND chain_seq = ";
      List<byte[]> committed = new ArrayList<>();
      for (int seq = 1; seq <= 3; seq++) {
        committed.add(HEX.parseHex(bureau.sqlString("SELECT encode(row_hash, 'hex')" + where + seq)));
      }
      String forged = HEX.formatHex(PlainMerkle.sha("forged".getBytes(StandardCharsets.UTF_8)));
      String set = "SET session_replication_role = replica; UPDATE access_log SET row_hash = '\\x";
      String at = "' WHERE chain_id = '" + chain + "' AND chain_seq = ";
      bureau.sql(set + forged + at + 2); // a middle row re-hashed before any checkpoint of the chain
      try {
        on(ctx, checkpointer::checkpoint);
        String q = " FROM audit_checkpoints WHERE chain_id = '" + chain + "'";
        assertEquals(1, bureau.count("SELECT count(*)" + q));
        assertEquals(HEX.formatHex(PlainMerkle.root(committed)), bureau.sqlString("SELECT encode(merkle_root, 'hex')" + q));
        assertEquals(HEX.formatHex(committed.get(2)), bureau.sqlString("SELECT encode(head_hash, 'hex')" + q));
        assertEquals(1, bureau.count("SELECT from_seq" + q));
        Api.Res r = api.post("/v1/compliance/access-log/verify-checkpoints", Tokens.compliance(),
          new JsonArray().add(bureau.sqlString("SELECT signature" + q)));
        assertEquals(200, r.status(), r.toString());
        JsonArray mismatches = r.json().getJsonArray("mismatches");
        assertEquals(1, mismatches.size(), r.toString());
        assertEquals("changed_rows", mismatches.getJsonObject(0).getString("problem"));
        // the next checkpoint of the chain starts where this one ended
        on(ctx, () -> writer.append(draft));
        on(ctx, checkpointer::checkpoint);
        assertEquals(4, bureau.count("SELECT from_seq" + q + " AND chain_seq = 4"));
      } finally {
        bureau.sql(set + HEX.formatHex(committed.get(1)) + at + 2);
      }
    } finally {
      TestBureau.await(pool.close().toCompletionStage().toCompletableFuture());
      vertx.close();
    }
  }

  static <T> T on(io.vertx.core.Context ctx, java.util.function.Supplier<io.vertx.core.Future<T>> work) {
    java.util.concurrent.CompletableFuture<T> done = new java.util.concurrent.CompletableFuture<>();
    ctx.runOnContext(v -> work.get().onComplete(ar -> {
      if (ar.succeeded()) {
        done.complete(ar.result());
      } else {
        done.completeExceptionally(ar.cause());
      }
    }));
    return TestBureau.await(done);
  }

  @Test
  @Order(9)
  @DisplayName("a witness URL that is not http(s) is refused when the configuration is loaded, naming compliance.witness.url")
  void badWitnessUrlRefusedAtStartUp() {
    // checked with the whole configuration, before anything starts (issue 16): no database, no port
    io.openbureau.config.ConfigException e = assertThrows(io.openbureau.config.ConfigException.class,
      () -> BureauConfig.from(TestBureau.testConfig("badwitness").mergeIn(new JsonObject()
        .put("compliance", new JsonObject().put("witness", new JsonObject().put("url", "ftp://witness.example/x"))), true)));
    assertTrue(e.getMessage().contains("compliance.witness.url must be an http:// or https:// URL"), e.getMessage());
  }
}
