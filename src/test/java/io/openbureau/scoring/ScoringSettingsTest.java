package io.openbureau.scoring;

import io.openbureau.config.BureauConfig;
import io.openbureau.config.ConfigException;
import io.openbureau.support.TestBureau;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("scoring.refresh settings: defaults from application.yaml, every bad value refused at start-up naming its key")
class ScoringSettingsTest {
  private static BureauConfig config(JsonObject refresh) {
    JsonObject raw = TestBureau.testConfig("settings");
    raw.getJsonObject("scoring").getJsonObject("refresh").mergeIn(refresh);
    return BureauConfig.from(raw);
  }

  @Test
  @DisplayName("the shipped configuration runs the pass, checks every minute and walks 500 scores a batch")
  void defaults() {
    ScoringSettings.Refresh r = ScoringSettings.from(config(new JsonObject())).refresh();
    assertEquals(new ScoringSettings.Refresh(true, 60_000, 500), r);
  }

  @Test
  @DisplayName("an unknown key, a page of 0 and a string for enabled are each refused, naming the key")
  void refused() {
    assertTrue(assertThrows(ConfigException.class, () -> ScoringSettings.from(config(new JsonObject().put("pagesize", 10))))
      .getMessage().contains("scoring.refresh.pagesize"));
    assertTrue(assertThrows(ConfigException.class, () -> ScoringSettings.from(config(new JsonObject().put("pageSize", 0))))
      .getMessage().contains("scoring.refresh.pageSize"));
    assertTrue(assertThrows(ConfigException.class, () -> ScoringSettings.from(config(new JsonObject().put("enabled", "yes"))))
      .getMessage().contains("scoring.refresh.enabled"));
  }
}
