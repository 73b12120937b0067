package io.openbureau.scoring;

import io.openbureau.config.BureauConfig;
import io.openbureau.config.Reader;
import io.vertx.core.json.JsonObject;

/**
 * The {@code scoring.republish} section: how {@link ScoreRepublisher} replays scores that are in
 * Postgres but not known to be in Redis.
 *
 * @param intervalMillis   pause between passes when there was nothing (more) to do
 * @param batchSize        scores per pass (one Postgres read, one pipelined Redis write, one mark)
 * @param graceMillis      scores younger than this are left to the request that is publishing them
 * @param timeoutMillis    a pass whose Redis writes take longer is abandoned (its transaction rolls back)
 */
public record ScoringSettings(long intervalMillis, int batchSize, long graceMillis, long timeoutMillis) {

  public static ScoringSettings from(BureauConfig config) {
    Reader r = new Reader(new JsonObject().put("scoring", config.section("scoring")));
    ScoringSettings s = new ScoringSettings(
      r.longIn("scoring.republish.intervalMillis", 1000, 50, 3_600_000),
      r.intIn("scoring.republish.batchSize", 1000, 1, 20_000),
      r.longIn("scoring.republish.graceMillis", 2000, 0, 600_000),
      r.longIn("scoring.republish.timeoutMillis", 2000, 100, 60_000));
    r.throwIfProblems();
    return s;
  }
}
