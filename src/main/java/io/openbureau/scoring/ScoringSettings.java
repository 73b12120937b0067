package io.openbureau.scoring;

import io.openbureau.config.BureauConfig;
import io.openbureau.config.Reader;
import io.vertx.core.json.JsonObject;


/**
 * The {@code scoring} section. {@code scoring.republish}: how {@link ScoreRepublisher} replays
 * scores that are in Postgres but not known to be in Redis. {@code scoring.refresh}: how
 * {@link ScoreRefresher} re-scores, once a business day, the people whose scores the passing of
 * time has changed.
 *
 * @param intervalMillis   pause between passes when there was nothing (more) to do
 * @param batchSize        scores per pass (one Postgres read, one pipelined Redis write, one mark)
 * @param graceMillis      scores younger than this are left to the request that is publishing them
 * @param timeoutMillis    a pass whose Redis writes take longer is abandoned (its transaction rolls back)
 * @param refresh          the daily re-scoring pass
 */
public record ScoringSettings(long intervalMillis, int batchSize, long graceMillis, long timeoutMillis,
                              Refresh refresh) {

  /**
   * @param enabled             false: no pass on this process (another process, or a test, runs it)
   * @param checkIntervalMillis how often each process checks whether today's pass is still to run
   * @param pageSize            stored scores examined per batch; the stale ones among them are
   *                            re-scored in one transaction holding their people's locks
   */
  public record Refresh(boolean enabled, long checkIntervalMillis, int pageSize) {
  }

  public static ScoringSettings from(BureauConfig config) {
    JsonObject section = config.section("scoring");
    Reader r = new Reader(new JsonObject().put("scoring", section));
    ScoringSettings s = new ScoringSettings(
      r.longIn("scoring.republish.intervalMillis", 1000, 50, 3_600_000),
      r.intIn("scoring.republish.batchSize", 1000, 1, 20_000),
      r.longIn("scoring.republish.graceMillis", 2000, 0, 600_000),
      r.longIn("scoring.republish.timeoutMillis", 2000, 100, 60_000),
      new Refresh(
        r.bool("scoring.refresh.enabled", true),
        r.longIn("scoring.refresh.checkIntervalMillis", 60_000, 100, 3_600_000),
        r.intIn("scoring.refresh.pageSize", 500, 1, 10_000)));
    r.throwIfProblems();
    return s;
  }
}
