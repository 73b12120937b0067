package io.openbureau.furnishing;

import io.openbureau.config.BureauConfig;
import io.openbureau.config.ConfigException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A test hook for the crash tests: with the system property {@link #PROPERTY} set to {@code true}
 * the process halts (as a kill -9 would, no shutdown hooks) right after the first furnishing chunk
 * commits and before its scores are published, the window a crash leaves stale scores in. Only a
 * bureau started with {@code env: test} arms it; any other environment refuses to start with it set.
 */
public final class CrashHook {
  private static final Logger LOG = LoggerFactory.getLogger(CrashHook.class);
  public static final String PROPERTY = "openbureau.test.haltBetweenCommitAndPublish";
  private static volatile boolean armed;

  private CrashHook() {
  }

  /** Called once at start-up by the bureau; throws when the property is set outside env test. */
  public static void arm(BureauConfig config) {
    if (!Boolean.getBoolean(PROPERTY)) {
      return;
    }
    if (!"test".equals(config.env())) {
      throw new ConfigException("-D" + PROPERTY + " is a test hook, only allowed with env: test (env is "
        + config.env() + ")");
    }
    LOG.warn("test hook armed: the process halts after the next furnishing chunk commits, before its publish");
    armed = true;
  }

  /** Between a chunk's commit and its publish. */
  static void betweenCommitAndPublish() {
    if (armed) {
      Runtime.getRuntime().halt(137);
    }
  }
}
