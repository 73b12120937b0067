import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;

/**
 * The floor of the inquiry benchmark: what a bare Vert.x verticle does on this machine when it
 * parses the same request (POST, JSON body with nationalId and purpose) and does one Redis GET,
 * nothing else (no auth, no routing, no Postgres), answering a small JSON.
 *
 * <p>One Redis connection held per verticle instance (so concurrent requests pipeline on it, the
 * best case), instances = FLOOR_INSTANCES (default 2, the server's HTTP verticle count), on the
 * default Vert.x event-loop pool like the server.
 *
 * <p>Run: {@code java -cp target/openbureau.jar bench/floor/FloorServer.java} (single-file source
 * launch). Env: FLOOR_PORT (18081), FLOOR_INSTANCES (2), FLOOR_REDIS (redis://127.0.0.1:6379),
 * FLOOR_KEY (obb:floor). The key's value is set once at start; the national id is never logged.
 */
public class FloorServer extends VerticleBase {
  static final int PORT = Integer.parseInt(env("FLOOR_PORT", "18081"));
  static final String REDIS = env("FLOOR_REDIS", "redis://127.0.0.1:6379");
  static final String KEY = env("FLOOR_KEY", "obb:floor");

  private RedisConnection redis;

  public static void main(String[] args) {
    Vertx vertx = Vertx.vertx();
    int instances = Integer.parseInt(env("FLOOR_INSTANCES", "2"));
    Redis.createClient(vertx, REDIS).connect()
      .compose(c -> c.send(Request.cmd(Command.SET).arg(KEY).arg("{\"value\":700,\"band\":\"GOOD\"}"))
        .eventually(c::close))
      .compose(v -> vertx.deployVerticle(FloorServer::new, new DeploymentOptions().setInstances(instances)))
      .onSuccess(id -> System.out.println("floor server listening on " + PORT + " (" + instances + " instances)"))
      .onFailure(e -> {
        e.printStackTrace();
        System.exit(1);
      });
  }

  @Override
  public Future<?> start() {
    return Redis.createClient(vertx, REDIS).connect().compose(conn -> {
      redis = conn;
      return vertx.createHttpServer().requestHandler(req -> {
        if (!"/v1/inquiries".equals(req.path())) {
          req.response().setStatusCode(404).end();
          return;
        }
        req.body().onComplete(b -> {
          if (b.failed()) {
            req.response().setStatusCode(400).end();
            return;
          }
          JsonObject json;
          try {
            json = b.result().toJsonObject();
          } catch (RuntimeException e) {
            req.response().setStatusCode(400).end();
            return;
          }
          String id = json.getString("nationalId");
          String purpose = json.getString("purpose");
          if (id == null || id.length() != 18 || purpose == null) {
            req.response().setStatusCode(400).end();
            return;
          }
          redis.send(Request.cmd(Command.GET).arg(KEY)).onComplete(r -> {
            if (r.failed()) {
              req.response().setStatusCode(503).end();
              return;
            }
            Buffer out = new JsonObject().put("purpose", purpose)
              .put("score", r.result() == null ? null : r.result().toString()).toBuffer();
            req.response().putHeader("Content-Type", "application/json").end(out);
          });
        });
      }).listen(PORT);
    });
  }

  private static String env(String name, String dflt) {
    String v = System.getenv(name);
    return v == null || v.isBlank() ? dflt : v;
  }
}
