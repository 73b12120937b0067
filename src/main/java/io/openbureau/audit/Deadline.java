package io.openbureau.audit;

import io.openbureau.http.ApiError;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

import java.time.Instant;
import java.util.function.Supplier;

/**
 * One request's time budget: every step of the request (Redis scripts, fills from Postgres, the
 * access-log commit) runs inside it, so the answer never waits longer than the budget, whatever
 * hangs. One timer per request, not one per step; confined to the request's event loop.
 *
 * <p>The same instant is given to Postgres as a wall-clock time ({@link #wall()}), so a commit that
 * arrives late (a frozen link delivering it after the request gave up) is refused by the database
 * itself (see {@link AuditWriter}). The bureau's and the database's clocks must agree (NTP): a
 * database clock behind by {@code s} lets such a commit land up to {@code s} late.
 */
public final class Deadline {
  private final Vertx vertx;
  private final long atNanos;
  private final Instant wall;
  private final Promise<Void> expiry = Promise.promise();
  private final long timer;

  private Deadline(Vertx vertx, long atNanos) {
    this.vertx = vertx;
    this.atNanos = atNanos;
    long remaining = atNanos - System.nanoTime();
    this.wall = Instant.now().plusNanos(remaining);
    this.timer = vertx.setTimer(Math.max(1, (remaining + 999_999) / 1_000_000), t -> expiry.tryComplete());
  }

  /** A deadline {@code millis} after {@code startedNanos} ({@link System#nanoTime()}). */
  public static Deadline after(Vertx vertx, long startedNanos, long millis) {
    return new Deadline(vertx, startedNanos + millis * 1_000_000L);
  }

  public long remainingNanos() {
    return atNanos - System.nanoTime();
  }

  public long remainingMillis() {
    return Math.max(0, remainingNanos() / 1_000_000);
  }

  public boolean expired() {
    return expiry.future().isComplete() || remainingNanos() <= 0;
  }

  /** The deadline on the wall clock, for the database. */
  public Instant wall() {
    return wall;
  }

  /** Runs {@code action} when the deadline passes (never, once {@link #cancel()}led). */
  public void onExpiry(Runnable action) {
    expiry.future().onSuccess(v -> action.run());
  }

  /**
   * {@code step}, or the failure {@code late} once the deadline passes first. The step itself goes
   * on (a fill may still land in the cache, harmlessly); only the request stops waiting for it.
   */
  public <T> Future<T> bound(Future<T> step, Supplier<? extends Throwable> late) {
    if (step.isComplete()) {
      return step;
    }
    if (expired()) {
      return Future.failedFuture(late.get());
    }
    Promise<T> out = Promise.promise();
    step.onComplete(ar -> {
      if (ar.succeeded()) {
        out.tryComplete(ar.result());
      } else {
        out.tryFail(ar.cause());
      }
    });
    expiry.future().onSuccess(v -> out.tryFail(late.get()));
    return out.future();
  }

  /** {@code step} bounded, failing with 503 {@code unavailable} naming {@code dependency}. */
  public <T> Future<T> bound(Future<T> step, String dependency) {
    return bound(step, () -> late(dependency));
  }

  /** The answer when {@code dependency} did not answer within the request's budget. */
  public static ApiError late(String dependency) {
    return ApiError.dependencyUnavailable("unavailable", dependency,
      "did not answer in time; nothing was served, retry later");
  }

  /** The request is answered: the timer goes. */
  public void cancel() {
    vertx.cancelTimer(timer);
  }
}
