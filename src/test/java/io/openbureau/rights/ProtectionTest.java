package io.openbureau.rights;

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

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("Freeze and fraud alert: a person protects their own file")
class ProtectionTest {
  private static final AtomicInteger PEOPLE = new AtomicInteger();
  private static TestBureau bureau;
  private static Api api;
  private static BorrowerKeys keys;

  @BeforeAll
  static void start() {
    bureau = TestBureau.start("protect");
    api = bureau.api;
    keys = new BorrowerKeys(bureau.config().identity().hmacKeyId(), bureau.config().identity().hmacSecret());
    assertEquals(201, api.post("/v1/members", Tokens.admin(), new JsonObject().put("id", "lender-a").put("name", "A")).status());
  }

  @AfterAll
  static void stop() {
    bureau.close();
  }

  static String newPerson() {
    return NationalId.of("110101", LocalDate.of(1975, 1, 1).plusDays(PEOPLE.incrementAndGet()), 23);
  }

  private static long rows(String person, String action) {
    return bureau.count("SELECT count(*) FROM access_log WHERE action = '" + action + "' AND borrower_key = '\\x"
      + BorrowerKeys.hex(keys.key(person)) + "'");
  }

  private static String field(Api.Res r) {
    return r.json().getJsonArray("errors").getJsonObject(0).getString("field");
  }

  @Test
  @DisplayName("a person freezes their file, lifts it for an hour (frozen again after), then for good")
  void freezeLiftAndUnfreeze() {
    String person = newPerson();
    String token = Tokens.borrower(person);
    Api.Res none = api.get("/v1/me/freeze", token);
    assertEquals(200, none.status(), none.toString());
    assertEquals(new JsonObject().put("frozen", false).putNull("since").putNull("liftedUntil"), none.json());

    Instant before = Instant.now().minusSeconds(1);
    Api.Res frozen = api.raw("PUT", "/v1/me/freeze", token, null, null);
    assertEquals(200, frozen.status(), frozen.toString());
    assertTrue(frozen.json().getBoolean("frozen"));
    Instant since = Instant.parse(frozen.json().getString("since"));
    assertTrue(since.isAfter(before), since.toString());
    assertNull(frozen.json().getValue("liftedUntil"));
    // freezing again keeps the original since
    assertEquals(since.toString(), api.raw("PUT", "/v1/me/freeze", token, null, null).json().getString("since"));
    assertEquals(frozen.json(), api.get("/v1/me/freeze", token).json());

    Api.Res lifted = api.delete("/v1/me/freeze?minutes=60", token);
    assertEquals(200, lifted.status(), lifted.toString());
    assertFalse(lifted.json().getBoolean("frozen"));
    Instant until = Instant.parse(lifted.json().getString("liftedUntil"));
    long minutes = Duration.between(Instant.now(), until).toMinutes();
    assertTrue(minutes >= 58 && minutes <= 60, "lift ends in about an hour: " + until);
    assertEquals(since.toString(), lifted.json().getString("since"));

    // the lift ends by itself (moved into the past as the superuser, as time would)
    bureau.sql("UPDATE protections SET lifted_until = now() - interval '1 second' WHERE borrower_key = '\\x"
      + BorrowerKeys.hex(keys.key(person)) + "'");
    Api.Res again = api.get("/v1/me/freeze", token);
    assertTrue(again.json().getBoolean("frozen"), again.toString());
    assertNull(again.json().getValue("liftedUntil"));

    Api.Res off = api.delete("/v1/me/freeze", token);
    assertEquals(200, off.status(), off.toString());
    assertEquals(new JsonObject().put("frozen", false).putNull("since").putNull("liftedUntil"), off.json());
    assertEquals(off.json(), api.get("/v1/me/freeze", token).json());
  }

  @Test
  @DisplayName("a fraud alert lasts 365 days by default, or the days asked for, and ends when the person says so")
  void fraudAlert() {
    String person = newPerson();
    String token = Tokens.borrower(person);
    assertEquals(new JsonObject().put("active", false).putNull("since").putNull("until"),
      api.get("/v1/me/fraud-alert", token).json());
    Api.Res set = api.put("/v1/me/fraud-alert", token, new JsonObject());
    assertEquals(200, set.status(), set.toString());
    assertTrue(set.json().getBoolean("active"));
    Duration length = Duration.between(Instant.parse(set.json().getString("since")),
      Instant.parse(set.json().getString("until")));
    assertEquals(365, length.toDays());

    Api.Res week = api.put("/v1/me/fraud-alert", token, new JsonObject().put("days", 7));
    assertEquals(7, Duration.between(Instant.parse(week.json().getString("since")),
      Instant.parse(week.json().getString("until"))).toDays());
    Api.Res noBody = api.raw("PUT", "/v1/me/fraud-alert", token, null, null);
    assertEquals(200, noBody.status(), noBody.toString());

    Api.Res ended = api.delete("/v1/me/fraud-alert", token);
    assertEquals(200, ended.status(), ended.toString());
    assertFalse(ended.json().getBoolean("active"));
    assertFalse(api.get("/v1/me/fraud-alert", token).json().getBoolean("active"));
  }

  @Test
  @DisplayName("every change is in the access log before its answer; a change that changes nothing writes nothing")
  void changesAreLogged() {
    String person = newPerson();
    String token = Tokens.borrower(person);
    assertEquals(200, api.delete("/v1/me/freeze", token).status()); // nothing to lift
    assertEquals(0, rows(person, ProtectionRoutes.FREEZE_LIFTED));
    assertEquals(200, api.raw("PUT", "/v1/me/freeze", token, null, null).status());
    assertEquals(1, rows(person, ProtectionRoutes.FREEZE));
    assertEquals(200, api.delete("/v1/me/freeze?minutes=5", token).status());
    assertEquals(1, rows(person, ProtectionRoutes.FREEZE_LIFTED));
    assertEquals(200, api.put("/v1/me/fraud-alert", token, new JsonObject().put("days", 30)).status());
    assertEquals(1, rows(person, ProtectionRoutes.FRAUD_ALERT_SET));
    assertEquals(200, api.delete("/v1/me/fraud-alert", token).status());
    assertEquals(200, api.delete("/v1/me/fraud-alert", token).status()); // already ended
    assertEquals(1, rows(person, ProtectionRoutes.FRAUD_ALERT_ENDED));
    // the person sees them among the entries about them
    Api.Res mine = api.get("/v1/me/inquiries", token);
    assertEquals(200, mine.status(), mine.toString());
    assertEquals(0, bureau.count("SELECT count(*) FROM access_log WHERE details_json::text LIKE '%" + person + "%'"));
  }

  @Test
  @DisplayName("bad input is 400 naming the field: minutes outside 1..10080, days outside 1..2555, unknown fields")
  void badInput() {
    String token = Tokens.borrower(newPerson());
    for (String minutes : new String[] {"0", "10081", "-5", "1.5", "x", "%00"}) {
      Api.Res r = api.delete("/v1/me/freeze?minutes=" + minutes, token);
      assertEquals(400, r.status(), minutes + " " + r);
      assertEquals("minutes", field(r), r.toString());
    }
    for (Object days : new Object[] {0, 2556, -1, 1.5, "ten"}) {
      Api.Res r = api.put("/v1/me/fraud-alert", token, new JsonObject().put("days", days));
      assertEquals(400, r.status(), days + " " + r);
      assertEquals("days", field(r), r.toString());
    }
    Api.Res unknown = api.put("/v1/me/fraud-alert", token, new JsonObject().put("dayz", 3));
    assertEquals(400, unknown.status(), unknown.toString());
    assertEquals(0, bureau.count("SELECT count(*) FROM protections"
      + " WHERE fraud_until IS NOT NULL AND borrower_key NOT IN (SELECT borrower_key FROM access_log"
      + " WHERE action = 'FRAUD_ALERT_SET')"), "nothing half-applied");
  }

  @Test
  @DisplayName("only the person can see or change their protections: other roles are 403")
  void onlyThePerson() {
    for (String token : new String[] {Tokens.lender("lender-a"), Tokens.compliance(), Tokens.admin()}) {
      assertEquals(403, api.raw("PUT", "/v1/me/freeze", token, null, null).status());
      assertEquals(403, api.get("/v1/me/fraud-alert", token).status());
    }
    assertNotNull(api.get("/v1/me/freeze", Tokens.borrower(newPerson())).json());
  }
}
