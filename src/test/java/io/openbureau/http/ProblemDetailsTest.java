package io.openbureau.http;

import io.openbureau.support.Api;
import io.openbureau.support.TestBureau;
import io.openbureau.support.Tokens;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("HTTP contract: every error is problem+json, every response has a request id")
class ProblemDetailsTest {
  private static TestBureau bureau;
  private static Api api;
  private static final String ADMIN = Tokens.admin();

  @BeforeAll
  static void start() {
    bureau = TestBureau.start("http");
    api = bureau.api;
  }

  @AfterAll
  static void stop() {
    bureau.close();
  }

  private static void assertProblem(Api.Res r, int status, String code) {
    assertEquals(status, r.status(), r.toString());
    assertEquals("application/problem+json", r.header("Content-Type"));
    JsonObject p = r.json();
    assertEquals(status, p.getInteger("status"));
    assertEquals(code, p.getString("code"));
    assertNotNull(p.getString("type"));
    assertNotNull(p.getString("title"));
    assertEquals(r.header("X-Request-Id"), p.getString("requestId"));
    assertFalse(r.body().contains("Exception"), "no class names: " + r.body());
    assertFalse(r.body().contains("\tat "), "no stack trace");
  }

  private static String field(Api.Res r, int i) {
    return r.json().getJsonArray("errors").getJsonObject(i).getString("field");
  }

  @Test
  @DisplayName("an unknown route is 404 problem+json")
  void unknownRoute() {
    assertProblem(api.get("/v1/nothing-here", ADMIN), 404, "not_found");
  }

  @Test
  @DisplayName("a known path with the wrong method is 405 problem+json")
  void wrongMethod() {
    assertProblem(api.raw("PATCH", "/v1/members", ADMIN, null, null), 405, "method_not_allowed");
  }

  @Test
  @DisplayName("the client's X-Request-Id is echoed; without one the server makes one")
  void requestIds() {
    Api.Res echoed = api.send(api.builder("/health/live", null).header("X-Request-Id", "abc-123").GET().build());
    assertEquals("abc-123", echoed.header("X-Request-Id"));
    Api.Res made = api.get("/health/live", null);
    assertNotNull(made.header("X-Request-Id"));
    assertTrue(made.header("X-Request-Id").length() >= 16);
  }

  @Test
  @DisplayName("malformed JSON is 400 invalid_request naming the body")
  void malformedJson() {
    Api.Res r = api.raw("POST", "/v1/members", ADMIN, "application/json", "{\"id\": ");
    assertProblem(r, 400, "invalid_request");
    assertEquals("body", field(r, 0));
  }

  @Test
  @DisplayName("a missing field is 400 naming it")
  void missingField() {
    Api.Res r = api.post("/v1/members", ADMIN, new JsonObject().put("id", "lender-x"));
    assertProblem(r, 400, "invalid_request");
    assertEquals("name", field(r, 0));
    assertEquals("is required", r.json().getJsonArray("errors").getJsonObject(0).getString("message"));
  }

  @Test
  @DisplayName("an unknown field is 400 naming it, and a known field that is fine is not blamed")
  void unknownField() {
    Api.Res r = api.post("/v1/members", ADMIN, new JsonObject().put("id", "lender-y").put("name", "Y").put("colour", "red"));
    assertProblem(r, 400, "invalid_request");
    assertEquals(1, r.json().getJsonArray("errors").size(), r.toString());
    assertEquals("colour", field(r, 0));
  }

  @Test
  @DisplayName("a body over 1 MiB is 413 problem+json")
  void oversized() {
    String big = "{\"id\":\"lender-z\",\"name\":\"" + "x".repeat(1_100_000) + "\"}";
    assertProblem(api.raw("POST", "/v1/members", ADMIN, "application/json", big), 413, "payload_too_large");
  }

  @Test
  @DisplayName("a body that is not JSON is 4xx problem+json, never 500")
  void wrongContentType() {
    Api.Res r = api.raw("POST", "/v1/members", ADMIN, "text/plain", "id=lender-q");
    assertTrue(r.status() == 400 || r.status() == 415, r.toString());
    assertEquals("application/problem+json", r.header("Content-Type"));
  }

  @Test
  @DisplayName("an empty body where one is required is 400")
  void emptyBody() {
    Api.Res r = api.raw("POST", "/v1/members", ADMIN, "application/json", "");
    assertEquals(400, r.status(), r.toString());
    assertEquals("invalid_request", r.code());
  }

  @Test
  @DisplayName("the spec, liveness and Prometheus metrics are served without a token")
  void openEndpoints() {
    Api.Res spec = api.get("/openapi.yaml", null);
    assertEquals(200, spec.status());
    assertTrue(spec.body().contains("operationId: createInquiry"));
    assertTrue(spec.body().contains("application/x-ndjson"), "the published spec is the real one");
    assertEquals(200, api.get("/health/live", null).status());
    Api.Res metrics = api.get("/metrics", null);
    assertEquals(200, metrics.status());
    assertTrue(metrics.body().contains("vertx_http_server"), "Vert.x HTTP metrics are exported");
  }

  @Test
  @DisplayName("an authenticated caller hitting an invalid body learns nothing before authentication")
  void authBeforeValidation() {
    Api.Res r = api.raw("POST", "/v1/members", null, "application/json", "{bad");
    assertEquals(401, r.status());
  }
}
