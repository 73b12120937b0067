package io.openbureau.notifications;

import org.slf4j.Logger;

/**
 * The log of a background loop that fails while a dependency is out: one INFO line when it starts
 * failing, one WARN line if it is still failing a minute later (and each minute after), one INFO
 * line when it works again. A Postgres outage is told by the request path (http.OutageLog); this
 * adds at most a line per loop, not one per poll.
 */
final class Trouble {
  static final long WARN_AFTER_MILLIS = 60_000;
  private final Logger log;
  private final String what;
  private long since = -1;
  private long lastLine;
  private long failures;
  private long unlogged;

  Trouble(Logger log, String what) {
    this.log = log;
    this.what = what;
  }

  void failed(Throwable cause) {
    long now = System.currentTimeMillis();
    failures++;
    unlogged++;
    if (since < 0) {
      unlogged = 0;
      since = now;
      lastLine = now;
      log.info("{} failing ({}); retried at every poll", what, cause.toString());
    } else if (now - lastLine >= WARN_AFTER_MILLIS) {
      lastLine = now;
      unlogged--; // this one is logged
      // a reminder a minute, worded like the other per-minute summaries ("(n more like it not logged)")
      log.warn("{} failing for {} s, retried at every poll; last: {} ({} more like it not logged)", what,
        (now - since) / 1000, cause.toString(), unlogged);
      unlogged = 0;
    }
  }

  void worked() {
    if (since >= 0) {
      log.info("{} works again after {} failures", what, failures);
      since = -1;
      failures = 0;
    }
  }
}
