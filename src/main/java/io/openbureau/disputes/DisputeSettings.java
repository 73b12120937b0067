package io.openbureau.disputes;

import io.openbureau.config.BureauConfig;
import io.openbureau.config.Reader;
import io.vertx.core.json.JsonObject;


/**
 * The {@code disputes:} section (strict like every section: an unknown key is refused at load, see config.ConfigSchema).
 *
 * @param answerDays           days the furnisher has to answer: {@code dueBy = openedAt + answerDays}
 *                             (征信业管理条例 Art 25: 20)
 * @param overdueCheckSeconds  how often each instance runs the overdue pass (it runs once at a time
 *                             across instances: see {@link OverdueProcessor})
 * @param overdueBatch         disputes turned overdue per pass transaction at most (bounded work)
 */
public record DisputeSettings(int answerDays, int overdueCheckSeconds, int overdueBatch) {

  public static DisputeSettings from(BureauConfig config) {
    JsonObject section = config.section("disputes");
    Reader r = new Reader(new JsonObject().put("disputes", section));
    DisputeSettings s = new DisputeSettings(
      r.intIn("disputes.answerDays", 20, 1, 365),
      r.intIn("disputes.overdueCheckSeconds", 60, 1, 86_400),
      r.intIn("disputes.overdueBatch", 500, 1, 10_000));
    r.throwIfProblems();
    return s;
  }
}
