package io.openbureau.consent;

import io.openbureau.config.BureauConfig;
import io.openbureau.config.Reader;
import io.vertx.core.json.JsonObject;

/** The {@code consent:} section of the configuration, validated like the rest of it. */
public record ConsentSettings(int maxActivePerPerson, int defaultDurationDays) {

  public static ConsentSettings from(BureauConfig config) {
    Reader r = new Reader(new JsonObject().put("consent", config.section("consent")));
    ConsentSettings s = new ConsentSettings(
      r.intIn("consent.maxActivePerPerson", 50, 1, 10_000),
      r.intIn("consent.defaultDurationDays", 30, 1, 365));
    r.throwIfProblems();
    return s;
  }
}
