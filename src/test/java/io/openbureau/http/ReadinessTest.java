package io.openbureau.http;

import io.openbureau.support.Api;
import io.openbureau.support.TcpProxy;
import io.openbureau.support.TestBureau;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

@DisplayName("Readiness: 200 only while both Postgres and Redis answer")
class ReadinessTest {
  private static TcpProxy pg;
  private static TcpProxy redis;
  private static TestBureau bureau;

  @BeforeAll
  static void start() {
    pg = new TcpProxy(5432);
    redis = new TcpProxy(6379);
    JsonObject overrides = new JsonObject()
      .put("postgres", new JsonObject().put("port", pg.port()))
      .put("redis", new JsonObject().put("endpoints", new JsonArray().add("redis://127.0.0.1:" + redis.port())));
    bureau = TestBureau.start("ready", overrides);
  }

  @AfterAll
  static void stop() {
    pg.restore();
    redis.restore();
    bureau.close();
    pg.close();
    redis.close();
  }

  private static String check(Api.Res r, String id) {
    for (Object o : r.json().getJsonArray("checks")) {
      if (((JsonObject) o).getString("id").equals(id)) {
        return ((JsonObject) o).getString("status");
      }
    }
    return null;
  }

  @Test
  @DisplayName("ready is 200 with both checks UP, then 503 naming the one that is down, then 200 again")
  void readiness() throws InterruptedException {
    Api api = bureau.api;
    Api.Res up = api.get("/health/ready", null);
    assertEquals(200, up.status(), up.toString());
    assertEquals("UP", check(up, "postgres"));
    assertEquals("UP", check(up, "redis"));

    pg.cut();
    Api.Res noPg = api.get("/health/ready", null);
    assertEquals(503, noPg.status(), noPg.toString());
    assertEquals("DOWN", check(noPg, "postgres"));
    assertEquals("UP", check(noPg, "redis"));
    assertEquals(200, api.get("/health/live", null).status(), "liveness does not depend on dependencies");
    pg.restore();

    redis.cut();
    Api.Res noRedis = api.get("/health/ready", null);
    assertEquals(503, noRedis.status(), noRedis.toString());
    assertEquals("DOWN", check(noRedis, "redis"));
    redis.restore();

    Api.Res back = null;
    for (int i = 0; i < 50; i++) {
      back = api.get("/health/ready", null);
      if (back.status() == 200) {
        break;
      }
      Thread.sleep(100);
    }
    assertEquals(200, back.status(), back.toString());
  }
}
