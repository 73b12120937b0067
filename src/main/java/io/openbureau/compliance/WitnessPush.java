package io.openbureau.compliance;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;

/**
 * Pushes each new checkpoint to the configured witness ({@code compliance.witness.url}): a
 * {@code POST} with the compact JWS as body ({@code Content-Type: application/jose}) and headers
 * {@code X-Checkpoint-Id}, {@code X-Chain-Id}, {@code X-Chain-Seq}; any 2xx is an acknowledgement.
 *
 * <p>At least once, in order, one request in flight: a checkpoint is retried (exponential backoff
 * from 250 ms up to {@code maxBackoffMillis}) until acknowledged or {@code maxAttempts} tries. The
 * queue is bounded ({@code queueSize}; when full the oldest is dropped, with a warning). A dropped
 * checkpoint is not lost to the witness: it stays in the public feed, which the witness can read
 * from its last id ({@code GET /v1/audit/checkpoints?after=}). Runs on the checkpointer's event
 * loop with a non-blocking client and never holds up an inquiry: nothing waits on it.
 */
public final class WitnessPush {
  private static final Logger LOG = LoggerFactory.getLogger(WitnessPush.class);
  static final long FIRST_BACKOFF_MILLIS = 250;

  record Item(long id, String chainId, long chainSeq, String jws) {
  }

  private final Vertx vertx;
  private final WitnessSettings settings;
  private final HttpClientAgent client;
  private final ArrayDeque<Item> queue = new ArrayDeque<>();
  private boolean sending;
  private int attempts;
  private long dropped;
  private boolean closed;

  public WitnessPush(Vertx vertx, WitnessSettings settings) {
    this.vertx = vertx;
    this.settings = settings;
    this.client = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout(settings.timeoutMillis())
      .setIdleTimeout(30));
  }

  /** Queues a checkpoint for the witness; never blocks, never fails. */
  public void offer(long id, String chainId, long chainSeq, String jws) {
    if (closed) {
      return;
    }
    if (queue.size() >= settings.queueSize()) {
      Item old = queue.poll();
      dropped++;
      LOG.warn("witness queue full ({}): checkpoint {} dropped from the push (still in the public feed; {} dropped)",
        settings.queueSize(), old.id(), dropped);
      if (sending && queue.isEmpty()) {
        attempts = 0;
      }
    }
    queue.add(new Item(id, chainId, chainSeq, jws));
    if (!sending) {
      send();
    }
  }

  int queued() {
    return queue.size();
  }

  public void close() {
    closed = true;
    queue.clear();
    client.close();
  }

  private void send() {
    Item item = queue.peek();
    if (item == null || closed) {
      sending = false;
      return;
    }
    sending = true;
    attempts++;
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST).setAbsoluteURI(settings.url())
      .setTimeout(settings.timeoutMillis())
      .putHeader("Content-Type", "application/jose")
      .putHeader("X-Checkpoint-Id", Long.toString(item.id()))
      .putHeader("X-Chain-Id", item.chainId())
      .putHeader("X-Chain-Seq", Long.toString(item.chainSeq()));
    client.request(options)
      .compose(req -> req.send(Buffer.buffer(item.jws())))
      .compose(resp -> resp.body().map(b -> resp.statusCode()))
      .onComplete(ar -> {
        if (closed) {
          return;
        }
        boolean acked = ar.succeeded() && ar.result() / 100 == 2;
        if (acked || attempts >= settings.maxAttempts()) {
          if (!acked) {
            LOG.warn("witness did not acknowledge checkpoint {} after {} attempts ({}); giving up on its push",
              item.id(), attempts, ar.succeeded() ? "HTTP " + ar.result() : ar.cause().getClass().getSimpleName());
          }
          if (queue.peek() == item) {
            queue.poll();
          }
          attempts = 0;
          send();
          return;
        }
        long backoff = Math.min(settings.maxBackoffMillis(), FIRST_BACKOFF_MILLIS << Math.min(20, attempts - 1));
        LOG.debug("witness push of checkpoint {} failed (attempt {}); retrying in {} ms", item.id(), attempts, backoff);
        vertx.setTimer(backoff, t -> {
          if (queue.peek() != item) {
            attempts = 0; // dropped from a full queue meanwhile
          }
          send();
        });
      });
  }
}
