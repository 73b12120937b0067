package io.openbureau.furnishing;

import io.openbureau.identity.BorrowerKeys;
import io.openbureau.identity.NationalId;
import io.openbureau.support.Api;
import io.openbureau.support.TestBureau;
import io.openbureau.support.Tokens;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.net.http.HttpRequest;
import java.sql.SQLException;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.IntFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 17: the per-row foreign key tradelines.member_id is replaced by one member check per chunk
 * (V17); these tests hold the batch path to its promises at chunk scale: a chunk that fails halfway
 * leaves nothing of itself behind, two batches of one member at once end consistent, and a member
 * with tradelines still cannot be deleted.
 */
@DisplayName("Furnishing at scale: whole chunks or nothing, concurrent batches of one member, the member check per chunk")
class BatchAtScaleTest {
  private static final String MEMBER = "lender-s";
  private static final String TOKEN = Tokens.lender(MEMBER);
  private static final int CHUNK = BatchIngest.CHUNK_LINES;
  private static TestBureau bureau;
  private static TestBureau sibling;
  private static BorrowerKeys keys;

  @BeforeAll
  static void start() {
    bureau = TestBureau.start("furnish17");
    sibling = bureau.sibling();
    keys = new BorrowerKeys(bureau.config().identity().hmacKeyId(), bureau.config().identity().hmacSecret());
    for (String m : List.of(MEMBER, "lender-empty")) {
      bureau.api.post("/v1/members", Tokens.admin(), new JsonObject().put("id", m).put("name", m));
    }
  }

  @AfterAll
  static void stop() {
    sibling.stop();
    bureau.close();
  }

  /** Person {@code k} of a test: distinct birth dates per test ({@code base}), three accounts each. */
  private static String person(int base, int k) {
    return NationalId.of("110105", LocalDate.of(1950, 1, 1).plusDays(base + k), 7);
  }

  private static String tradeline(String ref, String nationalId, String balance) {
    return new JsonObject().put("type", "tradeline").put("accountRef", ref).put("nationalId", nationalId)
      .put("productType", "CONSUMER_LOAN").put("openedAt", "2021-03-01").put("principal", "10000.00")
      .put("status", "OPEN").put("balance", balance).put("daysPastDue", 0).encode();
  }

  private static String ndjson(int lines, IntFunction<String> line) {
    StringBuilder b = new StringBuilder();
    for (int i = 1; i <= lines; i++) {
      b.append(line.apply(i)).append('\n');
    }
    return b.toString();
  }

  private static Api.Res batch(Api api, String body) {
    return api.send(api.builder("/v1/furnishing/batches", TOKEN).header("Content-Type", "application/x-ndjson")
      .POST(HttpRequest.BodyPublishers.ofString(body)).build());
  }

  private static String hex(String nationalId) {
    return BorrowerKeys.hex(keys.key(nationalId));
  }

  private static long applied(String prefix, int from, int to) {
    return bureau.count("SELECT count(*) FROM tradelines WHERE member_id = '" + MEMBER + "' AND account_ref LIKE '"
      + prefix + "-%' AND substring(account_ref from " + (prefix.length() + 2) + ")::int BETWEEN " + from + " AND " + to);
  }

  @Test
  @DisplayName("a chunk whose apply fails halfway (line 3,000 of 6,000) leaves nothing of that chunk applied, no score of its people, and the batch answers 503; the chunks around it are whole")
  void chunkFailingHalfwayLeavesNothing() {
    int lines = 3 * CHUNK;
    int failing = CHUNK + CHUNK / 2; // the middle of the second chunk
    // a fault Postgres raises in the middle of the chunk's tradeline insert (rows before it already written)
    bureau.sql("CREATE FUNCTION test_half_fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
      + "RAISE EXCEPTION 'injected failure halfway through a chunk' USING ERRCODE = 'P0001'; END $$");
    bureau.sql("CREATE TRIGGER test_half_fail BEFORE INSERT ON tradelines FOR EACH ROW "
      + "WHEN (NEW.account_ref = 'HALF-" + failing + "') EXECUTE FUNCTION test_half_fail()");
    String body = ndjson(lines, i -> tradeline("HALF-" + i, person(0, (i - 1) / 3), "1000.00"));
    try {
      Api.Res r = batch(bureau.api, body);
      assertEquals(503, r.status(), r.toString());
    } finally {
      bureau.sql("DROP TRIGGER test_half_fail ON tradelines");
      bureau.sql("DROP FUNCTION test_half_fail()");
    }
    assertEquals(CHUNK, applied("HALF", 1, CHUNK), "the chunk before the failing one is applied whole");
    assertEquals(0, applied("HALF", CHUNK + 1, 2 * CHUNK), "nothing of the failing chunk is applied");
    long third = applied("HALF", 2 * CHUNK + 1, lines);
    assertTrue(third == 0 || third == CHUNK, "a chunk after it is whole or absent: " + third);
    // people whose every line is in the failing chunk: no score in Postgres, none in Redis
    List<String> inside = new ArrayList<>();
    for (int k = CHUNK / 3 + 1; k < 2 * CHUNK / 3 - 1; k++) {
      inside.add(hex(person(0, k)));
    }
    assertEquals(0, bureau.count("SELECT count(*) FROM scores WHERE encode(borrower_key, 'hex') IN ('"
      + String.join("','", inside) + "')"));
    for (String h : inside.subList(0, 20)) {
      assertNull(RedisProbe.get(bureau, bureau.config().redis().keyPrefix() + "{b:" + h + "}:score"));
    }
    // re-sending the whole batch once Postgres takes it applies every line, once
    Api.Res again = batch(bureau.api, body);
    assertEquals(200, again.status(), again.toString());
    assertEquals(lines, again.json().getLong("accepted"));
    assertEquals(lines, applied("HALF", 1, lines));
    assertEquals(lines / 3, bureau.count("SELECT count(*) FROM scores s WHERE EXISTS (SELECT 1 FROM tradelines t "
      + "WHERE t.borrower_key = s.borrower_key AND t.account_ref LIKE 'HALF-%')"));
  }

  @Test
  @DisplayName("two batches of one member at once, on two instances, over the same accounts and people: every line applied, each account holds one batch's figures, every score is its person's stored accounts and the cache holds its version")
  void twoBatchesOfOneMemberAtOnce() throws Exception {
    int accounts = 2 * CHUNK;
    String x = ndjson(accounts, i -> tradeline("TWIN-" + i, person(10_000, (i - 1) / 3), "100.00"));
    // y also sends a repayment after each tradeline (a chunk with repayments waits for the previous commit)
    StringBuilder y = new StringBuilder();
    for (int i = 1; i <= accounts; i++) {
      y.append(tradeline("TWIN-" + i, person(10_000, (i - 1) / 3), (200 + i % 7) + ".00")).append('\n');
      y.append(new JsonObject().put("type", "repayment").put("accountRef", "TWIN-" + i).put("period", "2026-10")
        .put("amountDue", "50.00").put("amountPaid", "50.00").put("daysPastDue", 0).encode()).append('\n');
    }
    CompletableFuture<Api.Res> first = CompletableFuture.supplyAsync(() -> batch(bureau.api, x));
    CompletableFuture<Api.Res> second = CompletableFuture.supplyAsync(() -> batch(sibling.api, y.toString()));
    Api.Res a = first.get();
    Api.Res b = second.get();
    assertEquals(200, a.status(), a.toString());
    assertEquals(200, b.status(), b.toString());
    assertEquals(accounts, a.json().getLong("accepted"), a.toString());
    assertEquals(2L * accounts, b.json().getLong("accepted"), b.toString());
    assertEquals(accounts, applied("TWIN", 1, accounts));
    assertEquals(accounts, bureau.count("SELECT count(*) FROM repayments WHERE member_id = '" + MEMBER
      + "' AND account_ref LIKE 'TWIN-%'"));
    assertEquals(0, bureau.count("SELECT count(*) FROM tradelines WHERE account_ref LIKE 'TWIN-%' AND balance <> 100 "
      + "AND balance <> 200 + substring(account_ref from 6)::int % 7"), "each account holds one batch's line");
    // every person's stored score aggregates exactly their stored accounts (no lost or stale recompute)
    assertEquals(0, bureau.count("""
      SELECT count(*) FROM (SELECT borrower_key, sum(balance) AS total, count(*) AS n FROM tradelines
                            WHERE account_ref LIKE 'TWIN-%' GROUP BY borrower_key) t
      LEFT JOIN scores s USING (borrower_key)
      WHERE s.borrower_key IS NULL OR s.outstanding_balance <> t.total OR s.active_loans <> t.n"""));
    // and the cache holds each person's stored version
    Redis redis = Redis.createClient(bureau.bureau().vertx(), bureau.config().redis().endpoints().get(0));
    try {
      for (int k = 0; k < accounts / 3; k += 7) {
        String h = hex(person(10_000, k));
        long version = bureau.count("SELECT version FROM scores WHERE borrower_key = '\\x" + h + "'");
        var cached = TestBureau.await(redis.send(Request.cmd(Command.GET)
          .arg(bureau.config().redis().keyPrefix() + "{b:" + h + "}:score")).toCompletionStage().toCompletableFuture());
        String text = cached == null ? null : cached.toString();
        assertTrue(text != null && text.startsWith(version + "|"), "person " + k + ": stored " + version + ", cached " + text);
      }
    } finally {
      redis.close();
    }
  }

  @Test
  @DisplayName("without the per-row foreign key a member with tradelines still cannot be deleted or renamed (23503); one without can")
  void memberWithTradelinesIsKept() {
    Api.Res r = batch(bureau.api, tradeline("KEEP-1", person(20_000, 0), "10.00") + "\n");
    assertEquals(200, r.status(), r.toString());
    SQLException delete = (SQLException) assertThrows(IllegalStateException.class,
      () -> bureau.sql("DELETE FROM members WHERE id = '" + MEMBER + "'")).getCause();
    assertEquals("23503", delete.getSQLState());
    SQLException rename = (SQLException) assertThrows(IllegalStateException.class,
      () -> bureau.sql("UPDATE members SET id = 'lender-moved' WHERE id = '" + MEMBER + "'")).getCause();
    assertEquals("23503", rename.getSQLState());
    bureau.sql("UPDATE members SET name = 'renamed only' WHERE id = '" + MEMBER + "'");
    bureau.sql("DELETE FROM members WHERE id = 'lender-empty'");
    assertEquals(0, bureau.count("SELECT count(*) FROM members WHERE id = 'lender-empty'"));
  }

  @Test
  @DisplayName("a chunk for a member with no row is refused line by line as unknown_member in one transaction, and writes nothing (the per-row foreign key used to fail the chunk)")
  void unknownMemberChunk() {
    var vertx = bureau.bureau().vertx();
    io.vertx.sqlclient.Pool pool = io.openbureau.db.Database.pool(vertx, bureau.config().postgres(), 2);
    io.openbureau.cache.RedisStore redis = io.openbureau.cache.RedisStore.create(vertx, bureau.config().redis());
    try {
      FurnishingService service = new FurnishingService(pool, new io.openbureau.scoring.ScoreStore(
        io.openbureau.scoring.Scorecard.load(java.nio.file.Path.of("config/scorecard.yaml")), redis, pool));
      List<FurnishingService.Numbered> lines = new ArrayList<>();
      for (int i = 1; i <= 3; i++) {
        lines.add(new FurnishingService.Numbered(i, Line.tradeline("GHOST-" + i,
          new JsonObject(tradeline("GHOST-" + i, person(15_000, i), "10.00")), keys)));
      }
      List<FurnishingService.Outcome> outcomes = TestBureau.await(service.apply("lender-ghost", lines)
        .toCompletionStage().toCompletableFuture());
      assertEquals(List.of(1, 2, 3), outcomes.stream().map(FurnishingService.Outcome::line).toList());
      outcomes.forEach(o -> {
        assertFalse(o.accepted());
        assertEquals("unknown_member", o.code());
      });
      assertEquals(0, bureau.count("SELECT count(*) FROM tradelines WHERE account_ref LIKE 'GHOST-%'"));
    } finally {
      TestBureau.await(pool.close().eventually(redis::close).toCompletionStage().toCompletableFuture());
    }
  }
}
