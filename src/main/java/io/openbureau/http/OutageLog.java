package io.openbureau.http;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Logs an outage of a dependency once, not once per request: the first failure is logged at WARN
 * with its cause, later ones are only counted, and the end of the outage is one line ("recovered
 * after N failures"). A 10 s Postgres cut used to write a WARN line per request, about a thousand
 * per instance, burying the one line that said what happened.
 *
 * <p>An outage ends when {@link #recovered()} is called (a new Postgres connection was established),
 * or, for dependencies nothing reports the recovery of, when no failure was seen for {@link #QUIET_MILLIS}:
 * the next failure then starts a new outage and its line says how the previous one ended.
 * Shared by every verticle of the process (the state is tiny and touched only on failures).
 */
public final class OutageLog {
  private static final Logger LOG = LoggerFactory.getLogger(OutageLog.class);
  private static final Map<String, OutageLog> BY_NAME = new ConcurrentHashMap<>();
  /** A dependency silent for this long is taken to have recovered. */
  static final long QUIET_MILLIS = 30_000;
  /** While an outage lasts, one line this often says it still does (bounded by time, not by requests). */
  static final long REMIND_MILLIS = 60_000;

  public static final OutageLog POSTGRES = of("postgres");
  public static final OutageLog REDIS = of("redis");

  private final String dependency;
  private boolean down;
  private long failures;
  private long since;
  private long lastFailure;
  private long lastReminder;
  private long failuresAtReminder;

  private OutageLog(String dependency) {
    this.dependency = dependency;
  }

  /** The log of one dependency ({@code postgres}, {@code redis}, ...). */
  public static OutageLog of(String dependency) {
    return BY_NAME.computeIfAbsent(dependency, OutageLog::new);
  }

  public String dependency() {
    return dependency;
  }

  /** A failure of this dependency; {@code what} says what failed (e.g. "consent publish"). */
  public void failed(String what, Throwable cause) {
    long now = System.currentTimeMillis();
    String line = null;
    String reminder = null;
    synchronized (this) {
      if (down && now - lastFailure > QUIET_MILLIS) {
        LOG.info("{}: no failure for {} s: the outage that began {} s earlier is over ({} failures)", dependency,
          (now - lastFailure) / 1000, (now - since) / 1000, failures);
        down = false;
      }
      lastFailure = now;
      if (!down) {
        down = true;
        failures = 1;
        since = now;
        lastReminder = now;
        failuresAtReminder = 1;
        line = describe(cause);
      } else {
        failures++;
        if (now - lastReminder >= REMIND_MILLIS) {
          reminder = (failures - failuresAtReminder) + " failures in the last " + (now - lastReminder) / 1000 + " s";
          lastReminder = now;
          failuresAtReminder = failures;
        }
      }
    }
    if (line != null) {
      LOG.warn("{} is unavailable ({} failed: {}); further failures are counted, not logged, until it recovers",
        dependency, what, line);
    } else if (reminder != null) {
      LOG.warn("{} is still unavailable: {}", dependency, reminder);
    }
  }

  /** The dependency answered again (e.g. a new connection was established). Cheap when it was up. */
  public void recovered() {
    long count;
    long lasted;
    synchronized (this) {
      if (!down) {
        return;
      }
      down = false;
      count = failures;
      lasted = System.currentTimeMillis() - since;
    }
    LOG.info("{} recovered after {} failures ({} ms)", dependency, count, lasted);
  }

  public synchronized boolean down() {
    return down;
  }

  /** Class and message of the cause chain: no stack trace (connection errors have none worth reading). */
  static String describe(Throwable cause) {
    if (cause == null) {
      return "no answer in time";
    }
    StringBuilder b = new StringBuilder();
    for (Throwable t = cause; t != null && b.length() < 400; t = t.getCause() == t ? null : t.getCause()) {
      if (!b.isEmpty()) {
        b.append(" <- ");
      }
      b.append(t.getClass().getSimpleName());
      if (t.getMessage() != null) {
        b.append(": ").append(t.getMessage());
      }
    }
    return b.toString();
  }
}
