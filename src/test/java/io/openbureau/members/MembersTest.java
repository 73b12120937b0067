package io.openbureau.members;

import io.openbureau.support.Api;
import io.openbureau.support.TestBureau;
import io.openbureau.support.Tokens;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("Members: admins register, list, suspend and reinstate member institutions")
class MembersTest {
  private static TestBureau bureau;
  private static TestBureau sibling;
  private static Api api;
  private static final String ADMIN = Tokens.admin();

  @BeforeAll
  static void start() {
    bureau = TestBureau.start("members");
    sibling = bureau.sibling();
    api = bureau.api;
  }

  @AfterAll
  static void stop() {
    sibling.stop();
    bureau.close();
  }

  private static Api.Res create(String id) {
    return api.post("/v1/members", ADMIN, new JsonObject().put("id", id).put("name", "Member " + id));
  }

  @Test
  @DisplayName("registering a member answers 201 with the member, and the same id again is 409")
  void createAndConflict() {
    Api.Res r = create("lender-create");
    assertEquals(201, r.status(), r.toString());
    assertEquals("ACTIVE", r.json().getString("status"));
    assertEquals("lender-create", r.json().getString("id"));
    Api.Res again = create("lender-create");
    assertEquals(409, again.status());
    assertEquals("application/problem+json", again.header("Content-Type"));
  }

  @Test
  @DisplayName("a member id that is not lower-case letters, digits, dot, dash or underscore is 400 naming id")
  void invalidId() {
    Api.Res r = api.post("/v1/members", ADMIN, new JsonObject().put("id", "Bad Id!").put("name", "x"));
    assertEquals(400, r.status());
    assertEquals("invalid_request", r.code());
    assertEquals("id", r.json().getJsonArray("errors").getJsonObject(0).getString("field"));
  }

  @Test
  @DisplayName("listing pages through every member once, with no overlap and no gap")
  void pagination() {
    for (int i = 0; i < 7; i++) {
      create("page-" + i);
    }
    Set<String> seen = new HashSet<>();
    String cursor = null;
    int pages = 0;
    do {
      Api.Res r = api.get("/v1/members?limit=3" + (cursor == null ? "" : "&cursor=" + cursor), ADMIN);
      assertEquals(200, r.status(), r.toString());
      for (Object o : r.items()) {
        assertTrue(seen.add(((JsonObject) o).getString("id")), "no member twice");
      }
      cursor = r.json().getString("nextCursor");
      pages++;
    } while (cursor != null && pages < 50);
    assertTrue(seen.containsAll(Set.of("page-0", "page-3", "page-6")));
    assertEquals(bureau.count("SELECT count(*) FROM members"), seen.size());
  }

  @Test
  @DisplayName("a malformed cursor or a limit outside 1..1000 is 400 naming the parameter")
  void badPaging() {
    Api.Res r = api.get("/v1/members?cursor=bm90LWpzb24", ADMIN);
    assertEquals(400, r.status());
    assertEquals("cursor", r.json().getJsonArray("errors").getJsonObject(0).getString("field"));
    Api.Res limit = api.get("/v1/members?limit=5000", ADMIN);
    assertEquals(400, limit.status());
    assertEquals("limit", limit.json().getJsonArray("errors").getJsonObject(0).getString("field"));
  }

  @Test
  @DisplayName("suspending a member refuses its very next request on every instance; reinstating restores it")
  void suspensionIsImmediateEverywhere() {
    create("lender-susp");
    String token = Tokens.lender("lender-susp");
    // both instances have verified the token and read the status before the suspension
    assertEquals(200, api.get("/v1/members/me", token).status());
    assertEquals(200, sibling.api.get("/v1/members/me", token).status());
    Api.Res suspended = api.post("/v1/members/lender-susp/suspend", ADMIN, null);
    assertEquals(200, suspended.status(), suspended.toString());
    assertEquals("SUSPENDED", suspended.json().getString("status"));
    Api.Res onSibling = sibling.api.get("/v1/members/me", token);
    assertEquals(403, onSibling.status(), onSibling.toString());
    assertEquals("forbidden", onSibling.code());
    assertEquals(403, api.get("/v1/members/me", token).status());
    assertEquals(200, api.post("/v1/members/lender-susp/reinstate", ADMIN, null).status());
    Api.Res back = sibling.api.get("/v1/members/me", token);
    assertEquals(200, back.status());
    assertEquals("ACTIVE", back.json().getString("status"));
  }

  @Test
  @DisplayName("a lender reads its own membership, never another's")
  void ownMembership() {
    create("lender-self");
    Api.Res r = api.get("/v1/members/me", Tokens.lender("lender-self"));
    assertEquals(200, r.status());
    assertEquals("lender-self", r.json().getString("id"));
    assertEquals(403, api.get("/v1/members/me", Tokens.compliance()).status());
  }

  @Test
  @DisplayName("suspending a member that does not exist is 404")
  void suspendUnknown() {
    Api.Res r = api.post("/v1/members/ghost/suspend", ADMIN, null);
    assertEquals(404, r.status());
    assertEquals("unknown_member", r.code());
  }

  @Test
  @DisplayName("a suspension survives a Redis flush: the next request rebuilds the status from Postgres")
  void statusAfterFlush() {
    create("lender-flush");
    String token = Tokens.lender("lender-flush");
    assertEquals(200, api.get("/v1/members/me", token).status());
    api.post("/v1/members/lender-flush/suspend", ADMIN, null);
    bureau.flushRedis();
    assertEquals(403, api.get("/v1/members/me", token).status());
    assertEquals(403, sibling.api.get("/v1/members/me", token).status());
    api.post("/v1/members/lender-flush/reinstate", ADMIN, null);
    bureau.flushRedis();
    assertEquals(200, sibling.api.get("/v1/members/me", token).status());
  }
}
