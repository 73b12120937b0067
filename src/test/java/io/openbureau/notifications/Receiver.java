package io.openbureau.notifications;

import io.openbureau.support.TestBureau;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * A webhook receiver for tests: a Vert.x HTTP server that records every POST (path, body,
 * whether its signature is right for the path's secret) and answers as {@link #mode} says.
 */
final class Receiver implements AutoCloseable {
  enum Mode { OK, FAIL_500, CLOSE, SLOW, REDIRECT }

  record Hit(String path, String body, boolean signed, int status, long atNanos, String hostHeader) {
    JsonObject json() {
      return new JsonObject(body);
    }
  }

  final Vertx vertx = Vertx.vertx();
  final List<Hit> hits = new CopyOnWriteArrayList<>();
  final Map<String, String> secrets = new ConcurrentHashMap<>();
  final AtomicInteger redirectsFollowed = new AtomicInteger();
  /** Requests being answered right now, per id in the body; the highest seen at once. */
  final Map<String, AtomicInteger> inFlight = new ConcurrentHashMap<>();
  final AtomicInteger maxConcurrentPerId = new AtomicInteger();
  volatile Mode mode = Mode.OK;
  volatile long slowMillis = 3000;
  volatile long okDelayMillis = 0;
  final int port;
  private final HttpServer server;

  Receiver() {
    server = TestBureau.await(vertx.createHttpServer().requestHandler(req -> {
      if (req.path().startsWith("/elsewhere")) {
        redirectsFollowed.incrementAndGet();
        req.response().setStatusCode(200).end();
        return;
      }
      req.body().onSuccess(buf -> {
        String body = buf.toString();
        String secret = secrets.get(req.path());
        String sig = req.getHeader("X-OpenBureau-Signature");
        boolean signed = secret != null && sig != null && sig.equals(Signatures.sign(secret, buf.getBytes()));
        String id;
        try {
          id = new JsonObject(body).getString("id");
        } catch (RuntimeException e) {
          id = "?";
        }
        AtomicInteger n = inFlight.computeIfAbsent(req.path() + "#" + id, k -> new AtomicInteger());
        maxConcurrentPerId.accumulateAndGet(n.incrementAndGet(), Math::max);
        Mode m = mode;
        int status = switch (m) {
          case OK -> 200;
          case FAIL_500 -> 500;
          case REDIRECT -> 302;
          default -> 0;
        };
        hits.add(new Hit(req.path(), body, signed, status, System.nanoTime(), req.getHeader("Host")));
        switch (m) {
          case OK -> {
            if (okDelayMillis > 0) {
              vertx.setTimer(okDelayMillis, t -> {
                n.decrementAndGet();
                req.response().setStatusCode(200).end();
              });
            } else {
              n.decrementAndGet();
              req.response().setStatusCode(200).end();
            }
          }
          case FAIL_500 -> {
            n.decrementAndGet();
            req.response().setStatusCode(500).end("no");
          }
          case REDIRECT -> {
            n.decrementAndGet();
            req.response().setStatusCode(302).putHeader("Location", "http://127.0.0.1:" + req.localAddress().port()
              + "/elsewhere").end();
          }
          case CLOSE -> {
            n.decrementAndGet();
            req.connection().close();
          }
          case SLOW -> vertx.setTimer(slowMillis, t -> {
            n.decrementAndGet();
            req.response().setStatusCode(200).end();
          });
        }
      });
    }).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture());
    port = server.actualPort();
  }

  String url(String path) {
    return "http://127.0.0.1:" + port + path;
  }

  /** The accepted (200) hits at {@code path}. */
  List<Hit> accepted(String path) {
    List<Hit> out = new ArrayList<>();
    for (Hit h : hits) {
      if (h.path().equals(path) && h.status() == 200) {
        out.add(h);
      }
    }
    return out;
  }

  List<Hit> at(String path) {
    return hits.stream().filter(h -> h.path().equals(path)).toList();
  }

  static void waitFor(String what, long millis, BooleanSupplier ok) {
    long end = System.currentTimeMillis() + millis;
    while (!ok.getAsBoolean()) {
      if (System.currentTimeMillis() > end) {
        fail("timed out waiting for " + what);
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        fail(e);
      }
    }
  }

  @Override
  public void close() {
    TestBureau.await(vertx.close().toCompletionStage().toCompletableFuture());
  }
}
