package io.openbureau.reciprocity;

import io.openbureau.config.BureauConfig;
import io.openbureau.config.Reader;
import io.vertx.core.json.JsonObject;


/**
 * The {@code reciprocity} section (give to get; strict like every section: an unknown key is refused at load).
 *
 * @param enabled       when true, a member with no accepted furnishing in the last {@code windowDays}
 *                      gets 403 not_contributing on HARD inquiries
 * @param windowDays    how recent the member's last accepted furnishing must be
 * @param cacheSeconds  how long Redis remembers a member's last accepted furnishing (only a recent
 *                      one lets a check skip Postgres, so the value never makes an answer wrong)
 */
public record ReciprocitySettings(boolean enabled, int windowDays, int cacheSeconds) {
  public static final ReciprocitySettings DEFAULTS = new ReciprocitySettings(false, 90, 300);

  public static ReciprocitySettings from(BureauConfig config) {
    JsonObject section = config.section("reciprocity");
    Reader r = new Reader(new JsonObject().put("reciprocity", section));
    ReciprocitySettings s = new ReciprocitySettings(
      r.bool("reciprocity.enabled", DEFAULTS.enabled()),
      r.intIn("reciprocity.windowDays", DEFAULTS.windowDays(), 1, 3650),
      r.intIn("reciprocity.cacheSeconds", DEFAULTS.cacheSeconds(), 1, 86_400));
    r.throwIfProblems();
    return s;
  }
}
