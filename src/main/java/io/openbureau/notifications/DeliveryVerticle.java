package io.openbureau.notifications;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.openbureau.config.BureauConfig;
import io.openbureau.db.Database;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.sqlclient.Pool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * POSTs every delivery of {@code webhook_deliveries} to its receiver: the gateway
 * ({@code notifications.webhook.url}, its secret) or a member's webhook (its own url and secret).
 * One per process, on its own event loop and its own 3 connections (claims and the backlog count;
 * outcomes, committed asynchronously), so it never delays an
 * inquiry. A delivery is taken under a lease ({@link NotificationRepository#CLAIM}: SKIP LOCKED,
 * lease_until longer than a request, lease_owner checked when the outcome is written), so one
 * sender at a time holds it across instances; at most {@code delivery.concurrency} are in flight,
 * each bounded by {@code delivery.requestTimeoutMillis}: a slow receiver holds slots, never the loop.
 * Redirects are never followed (a 3xx is a failed attempt); a failed attempt is retried after
 * exponential backoff with a cap and jitter, with the same body and id.
 */
public final class DeliveryVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(DeliveryVerticle.class);
  private final Trouble trouble = new Trouble(LOG, "notification delivery");
  private final BureauConfig config;
  private final NotificationSettings settings;
  private final MeterRegistry registry;
  private final AtomicLong pending = new AtomicLong();
  private final AtomicLong oldestSeconds = new AtomicLong();
  private Counter delivered;
  private Counter failedAttempts;
  private Pool pool;
  /** Outcomes only: asynchronous commits (see {@link #start}). */
  private Pool outcomes;
  private HttpClient client;
  private TargetGuard guard;
  private long timer = -1;
  private long backlogTimer = -1;
  private int inFlight;
  private boolean claiming;
  private boolean stopped;

  public DeliveryVerticle(BureauConfig config, MeterRegistry registry) {
    this.config = config;
    this.settings = NotificationSettings.from(config);
    this.registry = registry;
  }

  @Override
  public Future<?> start() {
    pool = Database.pool(vertx, config.postgres(), 2); // claims, the backlog count
    // An outcome (delivered, failed, dropped) commits without waiting for its WAL flush: it adds no
    // fsync to the ones the access log's commits wait for. A Postgres crash can lose only the last
    // few, and a lost outcome leaves its delivery leased as claimed (the claim commits synchronously
    // before the POST): the lease runs out and it is sent again, same id and body (at least once;
    // the receiver dedupes by id), by one sender at a time. WAL is replayed as a prefix, so when a
    // later delivery's claim survived, every earlier outcome did too: order per person holds.
    outcomes = Database.pool(vertx, config.postgres(), 1, java.util.Map.of("synchronous_commit", "off"));
    guard = new TargetGuard(vertx, settings.allowPrivateTargets(), settings.hostsFile());
    // forceSni: the SNI name is the URL's host even though the connection goes to a checked address
    client = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout(settings.requestTimeoutMillis())
        .setKeepAlive(true).setMaxRedirects(0).setForceSni(true),
      new PoolOptions().setHttp1MaxSize(settings.concurrency()).setMaxWaitQueueSize(settings.concurrency()));
    // no person, no member in any label: the backlog as a whole
    Gauge.builder("bureau.notifications.pending", pending, AtomicLong::get)
      .description("deliveries not yet accepted by their receiver").register(registry);
    Gauge.builder("bureau.notifications.oldest.undelivered.seconds", oldestSeconds, AtomicLong::get)
      .description("age of the oldest delivery not yet accepted").register(registry);
    delivered = Counter.builder("bureau.notifications.delivered").register(registry);
    failedAttempts = Counter.builder("bureau.notifications.failed.attempts").register(registry);
    timer = vertx.setPeriodic(settings.pollMillis(), settings.pollMillis(), id -> claim());
    // the backlog is counted every 10 s, not every poll: a large backlog is a large count
    backlogTimer = vertx.setPeriodic(Math.min(10_000, 10L * settings.pollMillis()), id -> NotificationRepository.backlog(pool)
      .onSuccess(b -> {
        pending.set((long) b[0]);
        oldestSeconds.set((long) b[1]);
      }));
    return Future.succeededFuture();
  }

  private void claim() {
    int room = settings.concurrency() - inFlight;
    if (claiming || stopped || room <= 0) {
      return;
    }
    claiming = true;
    UUID owner = UUID.randomUUID();
    NotificationRepository.claim(pool, room, settings.leaseMillis(), owner).onComplete(ar -> {
      claiming = false;
      if (ar.failed()) {
        trouble.failed(ar.cause());
        return;
      }
      trouble.worked();
      List<NotificationRepository.Taken> taken = ar.result();
      for (NotificationRepository.Taken t : taken) {
        inFlight++;
        send(t).transform(sent -> outcome(t, owner, sent)).onComplete(done -> {
          inFlight--;
          if (done.failed()) {
            // the lease runs out and it is sent again, same id
            trouble.failed(done.cause());
          } else if (taken.size() == room) {
            claim(); // a slot is free and more was waiting: take the next at once, not at the next poll
          }
        });
      }
      if (taken.size() == room) {
        vertx.runOnContext(v -> claim()); // more may be due
      }
    });
  }

  /**
   * The POST; succeeds with the status code, fails on anything else (refused, closed, timed out).
   * A member's URL is resolved and checked again first ({@link TargetGuard#target}): a name that
   * now points at a loopback, link-local, private or metadata address is a failed attempt (retried
   * later, checked again), never called; else the request goes to the address checked, with the
   * URL's host as Host header and TLS SNI. The gateway is the operator's own URL, called as is.
   */
  private Future<Integer> send(NotificationRepository.Taken t) {
    String url = t.memberId() == null ? settings.webhookUrl() : t.url();
    String secret = t.memberId() == null ? settings.webhookSecret() : t.secret();
    if (url == null || url.isEmpty()) {
      return Future.failedFuture(new Gone());
    }
    byte[] body = t.body().getBytes(StandardCharsets.UTF_8);
    String signature;
    try {
      signature = Signatures.sign(secret, body);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    if (t.memberId() == null) {
      RequestOptions options;
      try {
        options = new RequestOptions().setAbsoluteURI(url);
      } catch (RuntimeException e) {
        return Future.failedFuture(e);
      }
      return post(options, body, signature);
    }
    return guard.target(url)
      .recover(e -> Future.failedFuture(e instanceof TargetGuard.Refused
        ? new TargetGuard.Refused("refused at delivery: the webhook's host " + e.getMessage()) : e))
      .compose(target -> post(new RequestOptions()
        .setServer(SocketAddress.inetSocketAddress(target.port(), target.address().getHostAddress()))
        .setHost(target.host()).setPort(target.port()).setSsl(target.ssl()).setURI(target.requestUri()),
        body, signature));
  }

  private Future<Integer> post(RequestOptions options, byte[] body, String signature) {
    options.setMethod(HttpMethod.POST).setFollowRedirects(false).setIdleTimeout(settings.requestTimeoutMillis())
      .putHeader("Content-Type", "application/json")
      .putHeader(Signatures.HEADER, signature);
    Promise<Integer> answer = Promise.promise();
    HttpClientRequest[] request = new HttpClientRequest[1];
    long deadline = vertx.setTimer(settings.requestTimeoutMillis(), id -> {
      if (answer.tryFail("no answer within " + settings.requestTimeoutMillis() + " ms") && request[0] != null) {
        request[0].reset();
      }
    });
    client.request(options)
      .compose(req -> {
        request[0] = req;
        return req.send(Buffer.buffer(body));
      })
      .compose(resp -> resp.body().map(b -> resp.statusCode()))
      .onComplete(ar -> {
        vertx.cancelTimer(deadline);
        if (ar.succeeded()) {
          answer.tryComplete(ar.result());
        } else {
          answer.tryFail(ar.cause());
        }
      });
    return answer.future();
  }

  private Future<Void> outcome(NotificationRepository.Taken t, UUID owner, io.vertx.core.AsyncResult<Integer> sent) {
    if (sent.failed() && sent.cause() instanceof Gone) {
      return NotificationRepository.dropped(outcomes, t.id(), owner);
    }
    if (sent.succeeded() && sent.result() >= 200 && sent.result() < 300) {
      delivered.increment();
      return NotificationRepository.delivered(outcomes, t.id(), owner);
    }
    failedAttempts.increment();
    String error = sent.succeeded() ? "HTTP " + sent.result() : String.valueOf(sent.cause().getMessage());
    if (error.length() > 200) {
      error = error.substring(0, 200);
    }
    long retry = settings.backoffMillis(t.attempts(), ThreadLocalRandom.current().nextDouble());
    return NotificationRepository.failed(outcomes, t.id(), owner, error, retry);
  }

  /** A member's webhook removed while its event waited: the event is dropped, not sent elsewhere. */
  private static final class Gone extends RuntimeException {
    Gone() {
      super("member webhook removed", null, false, false);
    }
  }

  @Override
  public Future<?> stop() {
    stopped = true;
    vertx.cancelTimer(timer);
    vertx.cancelTimer(backlogTimer);
    return Future.join(client == null ? Future.succeededFuture() : client.close(),
      pool == null ? Future.succeededFuture() : pool.close(), outcomes == null ? Future.succeededFuture() : outcomes.close());
  }
}
