package io.openbureau.scoring;

import org.slf4j.Logger;

import java.util.concurrent.atomic.AtomicLong;

/**
 * One log line per period for a recurring failure (an outage fails every request the same way):
 * the first one is logged, the next ones only counted and reported with the next line logged.
 */
public final class RateLimitedLog {
  private final long periodNanos;
  private final AtomicLong last;
  private final AtomicLong suppressed = new AtomicLong();

  public RateLimitedLog(long periodMillis) {
    this.periodNanos = periodMillis * 1_000_000L;
    this.last = new AtomicLong(System.nanoTime() - periodNanos);
  }

  /** Logs at WARN unless a line was logged less than a period ago; {@code args} as for SLF4J. */
  public void warn(Logger log, String format, Object... args) {
    long now = System.nanoTime();
    long before = last.get();
    if (now - before < periodNanos || !last.compareAndSet(before, now)) {
      suppressed.incrementAndGet();
      return;
    }
    long skipped = suppressed.getAndSet(0);
    log.warn(skipped == 0 ? format : format + " (" + skipped + " more like it not logged)", args);
  }
}
