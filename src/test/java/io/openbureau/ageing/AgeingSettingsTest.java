package io.openbureau.ageing;

import io.openbureau.config.BureauConfig;
import io.openbureau.config.ConfigException;
import io.openbureau.support.TestBureau;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.LocalDate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("Ageing settings: five years by default, validated, the cut-off a day after the last day kept")
class AgeingSettingsTest {
  static BureauConfig with(JsonObject ageing) {
    return BureauConfig.from(TestBureau.testConfig("ageing_cfg").put("ageing", ageing));
  }

  @Test
  @DisplayName("defaults: 5 years, batches of 500, checked hourly, scheduled")
  void defaults() {
    AgeingSettings s = AgeingSettings.from(BureauConfig.from(TestBureau.testConfig("ageing_cfg").put("ageing", new JsonObject())));
    assertEquals(AgeingSettings.DEFAULTS, s);
    assertEquals(5, AgeingSettings.from(BureauConfig.from(TestBureau.testConfig("ageing_cfg"))).negativeDataYears(),
      "config/application.yaml says 5");
  }

  @Test
  @DisplayName("an unknown key or a value out of range is named")
  void invalid() {
    ConfigException unknown = assertThrows(ConfigException.class,
      () -> AgeingSettings.from(with(new JsonObject().put("negativeDataYear", 5))));
    assertTrue(unknown.getMessage().contains("ageing.negativeDataYear"), unknown.getMessage());
    ConfigException range = assertThrows(ConfigException.class,
      () -> AgeingSettings.from(with(new JsonObject().put("negativeDataYears", 0))));
    assertTrue(range.getMessage().contains("ageing.negativeDataYears"), range.getMessage());
  }

  @Test
  @DisplayName("what ended on 2021-05-31 is kept through 2026-05-31 and deleted from 2026-06-01 on")
  void cutoff() {
    AgeingSettings s = AgeingSettings.DEFAULTS;
    LocalDate ended = LocalDate.of(2021, 5, 31);
    assertTrue(!ended.isBefore(s.cutoff(LocalDate.of(2026, 5, 31))), "kept on the fifth anniversary");
    assertTrue(ended.isBefore(s.cutoff(LocalDate.of(2026, 6, 1))), "deleted the day after");
  }
}
