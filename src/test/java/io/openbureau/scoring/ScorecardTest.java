package io.openbureau.scoring;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("Scorecard: each attribute moves the score the documented way, reasons ordered by cost")
class ScorecardTest {
  private static Scorecard card;
  private static final LocalDate TODAY = LocalDate.of(2026, 11, 22);

  @BeforeAll
  static void load() {
    card = Scorecard.load(Path.of("config/scorecard.yaml"));
  }

  private static ScoreInputs.Account loan(int yearsAgo, String status, String balance, int dpd, int worst, int late) {
    return new ScoreInputs.Account("CONSUMER_LOAN", TODAY.minusYears(yearsAgo), null, status, new BigDecimal(balance),
      dpd, worst, late);
  }

  private static Scorecard.Result score(List<ScoreInputs.Account> accounts) {
    return card.score(ScoreInputs.from(accounts, TODAY));
  }

  private static final ScoreInputs.Account CLEAN = loan(8, "OPEN", "1000.00", 0, 0, 0);

  @Test
  @DisplayName("a long clean history with one small loan scores in the top band with no costly reason but credit mix")
  void clean() {
    Scorecard.Result r = score(List.of(CLEAN));
    assertTrue(r.value() >= 800, "value " + r.value());
    assertEquals("EXCELLENT", r.band());
    assertEquals("ob-scorecard-2026.1", r.modelVersion());
  }

  @Test
  @DisplayName("past delinquency, current delinquency and late periods each lower the score")
  void delinquency() {
    int base = score(List.of(CLEAN)).value();
    int past = score(List.of(loan(8, "OPEN", "1000.00", 0, 45, 0))).value();
    int current = score(List.of(loan(8, "OPEN", "1000.00", 45, 0, 0))).value();
    int late = score(List.of(loan(8, "OPEN", "1000.00", 0, 0, 4))).value();
    assertTrue(past < base && current < past && late < base, base + " " + past + " " + current + " " + late);
    assertEquals("DELINQUENCY_HISTORY", score(List.of(loan(8, "OPEN", "1000.00", 0, 95, 0))).reasons().get(0).code());
  }

  @Test
  @DisplayName("high revolving utilisation lowers the score and is named")
  void utilisation() {
    ScoreInputs.Account low = new ScoreInputs.Account("CREDIT_CARD", TODAY.minusYears(8), new BigDecimal("10000"), "OPEN",
      new BigDecimal("500.00"), 0, 0, 0);
    ScoreInputs.Account high = new ScoreInputs.Account("CREDIT_CARD", TODAY.minusYears(8), new BigDecimal("10000"), "OPEN",
      new BigDecimal("9500.00"), 0, 0, 0);
    Scorecard.Result hi = score(List.of(high));
    assertTrue(hi.value() < score(List.of(low)).value());
    assertEquals("HIGH_UTILISATION", hi.reasons().get(0).code());
  }

  @Test
  @DisplayName("more active loans, more new accounts, a larger balance and a shorter history each lower the score")
  void volumeAndAge() {
    List<ScoreInputs.Account> many = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      many.add(loan(8, "OPEN", "1000.00", 0, 0, 0));
    }
    assertTrue(score(many).value() < score(List.of(CLEAN)).value());
    assertTrue(score(List.of(loan(0, "OPEN", "1000.00", 0, 0, 0))).value() < score(List.of(CLEAN)).value());
    assertTrue(score(List.of(loan(8, "OPEN", "2000000.00", 0, 0, 0))).value() < score(List.of(CLEAN)).value());
  }

  @Test
  @DisplayName("a default or write-off lowers the score and is named")
  void defaulted() {
    Scorecard.Result r = score(List.of(CLEAN, loan(5, "WRITTEN_OFF", "0.00", 0, 0, 0)));
    assertTrue(r.value() < score(List.of(CLEAN)).value());
    assertTrue(r.reasons().stream().anyMatch(x -> x.code().equals("DEFAULT_OR_WRITEOFF")));
  }

  @Test
  @DisplayName("at most four reasons, ordered by the points they cost, and the score stays within 300..850")
  void reasonsOrdered() {
    List<ScoreInputs.Account> bad = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      bad.add(loan(0, "OPEN", "300000.00", 120, 120, 6));
    }
    bad.add(loan(0, "DEFAULTED", "50000.00", 200, 200, 6));
    Scorecard.Result r = score(bad);
    assertEquals(4, r.reasons().size());
    for (int i = 1; i < r.reasons().size(); i++) {
      assertTrue(r.reasons().get(i - 1).cost() >= r.reasons().get(i).cost());
    }
    assertEquals(300, r.value());
    assertEquals("POOR", r.band());
  }
}
