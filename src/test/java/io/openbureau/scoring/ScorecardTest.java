package io.openbureau.scoring;

import io.openbureau.config.ConfigException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("Scorecard: each attribute moves the score the documented way, reasons are material and ordered by cost")
class ScorecardTest {
  private static Scorecard card;
  private static final LocalDate TODAY = LocalDate.of(2026, 11, 22);

  @BeforeAll
  static void load() {
    card = Scorecard.load(Path.of("config/scorecard.yaml"));
  }

  static ScoreInputs.Account loan(int yearsAgo, String status, String balance, int dpd, int worst, int late) {
    return new ScoreInputs.Account("CONSUMER_LOAN", TODAY.minusYears(yearsAgo), null, "CNY", status,
      new BigDecimal(balance), dpd, worst, late);
  }

  static ScoreInputs.Account card(int yearsAgo, String limit, String balance) {
    return new ScoreInputs.Account("CREDIT_CARD", TODAY.minusYears(yearsAgo), new BigDecimal(limit), "CNY", "OPEN",
      new BigDecimal(balance), 0, 0, 0);
  }

  private static Scorecard.Result score(List<ScoreInputs.Account> accounts) {
    return card.score(ScoreInputs.from(accounts, TODAY, "CNY"));
  }

  private static List<String> codes(Scorecard.Result r) {
    return r.reasons().stream().map(Scorecard.Reason::code).toList();
  }

  private static final ScoreInputs.Account CLEAN = loan(8, "OPEN", "1000.00", 0, 0, 0);

  @Test
  @DisplayName("a long clean history with one small loan scores in the top band with no reason at all")
  void clean() {
    Scorecard.Result r = score(List.of(CLEAN));
    assertTrue(r.value() >= 800, "value " + r.value());
    assertEquals("EXCELLENT", r.band());
    assertEquals(List.of(), codes(r));
    assertEquals("ob-scorecard-2026.2", r.modelVersion());
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
  @DisplayName("high revolving utilisation lowers the score and is named; low utilisation is not a reason")
  void utilisation() {
    Scorecard.Result hi = score(List.of(card(8, "10000", "9500.00")));
    Scorecard.Result lo = score(List.of(card(8, "10000", "1500.00")));
    assertTrue(hi.value() < lo.value());
    assertEquals("HIGH_UTILISATION", hi.reasons().get(0).code());
    assertFalse(codes(lo).contains("HIGH_UTILISATION"), "15 % of the limit used is no adverse reason: " + codes(lo));
  }

  @Test
  @DisplayName("more active loans, more new accounts, a larger balance and a shorter history each lower the score")
  void volumeAndAge() {
    List<ScoreInputs.Account> many = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      many.add(loan(8, "OPEN", "1000.00", 0, 0, 0));
    }
    assertTrue(score(many).value() < score(List.of(CLEAN)).value());
    ScoreInputs.Account young = new ScoreInputs.Account("CONSUMER_LOAN", TODAY.minusMonths(2), null, "CNY", "OPEN",
      new BigDecimal("1000.00"), 0, 0, 0);
    assertTrue(score(List.of(young)).value() < score(List.of(CLEAN)).value());
    assertTrue(score(List.of(loan(8, "OPEN", "2000000.00", 0, 0, 0))).value() < score(List.of(CLEAN)).value());
  }

  @Test
  @DisplayName("a default or write-off lowers the score and is named")
  void defaulted() {
    Scorecard.Result r = score(List.of(CLEAN, loan(5, "WRITTEN_OFF", "0.00", 0, 0, 0)));
    assertTrue(r.value() < score(List.of(CLEAN)).value());
    assertTrue(codes(r).contains("DEFAULT_OR_WRITEOFF"));
  }

  @Test
  @DisplayName("at most four reasons, ordered by the points they cost, and the score stays within 300..850")
  void reasonsOrdered() {
    List<ScoreInputs.Account> bad = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      bad.add(loan(1, "OPEN", "300000.00", 120, 120, 6));
    }
    bad.add(loan(1, "DEFAULTED", "50000.00", 200, 200, 6));
    Scorecard.Result r = score(bad);
    assertEquals(4, r.reasons().size());
    for (int i = 1; i < r.reasons().size(); i++) {
      assertTrue(r.reasons().get(i - 1).cost() >= r.reasons().get(i).cost());
    }
    assertEquals(List.of("DELINQUENCY_HISTORY", "DELINQUENCY_RECENT", "DEFAULT_OR_WRITEOFF", "LATE_PAYMENTS"), codes(r));
    assertTrue(r.value() >= 300, "value " + r.value());
    assertEquals("POOR", r.band());
  }

  // ---- the demo people (demo/DemoSeeder, README walk-through), on the seeder's dates ----

  /** DemoSeeder's Alice: a 3-year consumer loan at lender-a, a 5-year card at lender-b (15 % used). */
  static List<ScoreInputs.Account> alice() {
    return new ArrayList<>(List.of(
      new ScoreInputs.Account("CONSUMER_LOAN", TODAY.minusYears(3), null, "CNY", "OPEN", new BigDecimal("8000.00"), 0, 0, 0),
      new ScoreInputs.Account("CREDIT_CARD", TODAY.minusYears(5), new BigDecimal("30000.00"), "CNY", "OPEN",
        new BigDecimal("4500.00"), 0, 0, 0)));
  }

  /** The README's walk-through then furnishes Alice a BNPL loan opened two months ago. */
  static List<ScoreInputs.Account> aliceAfterWalkthrough() {
    List<ScoreInputs.Account> a = alice();
    a.add(new ScoreInputs.Account("BNPL", TODAY.minusMonths(2), null, "CNY", "OPEN", new BigDecimal("2500.00"), 0, 0, 0));
    return a;
  }

  /** DemoSeeder's Bob: a micro loan opened 2 months ago, 45 days past due, and a BNPL opened last month; no card. */
  static List<ScoreInputs.Account> bob() {
    return List.of(
      new ScoreInputs.Account("MICRO_LOAN", TODAY.minusMonths(2), null, "CNY", "OPEN", new BigDecimal("5000.00"), 45, 0, 0),
      new ScoreInputs.Account("BNPL", TODAY.minusMonths(1), null, "CNY", "OPEN", new BigDecimal("3000.00"), 0, 0, 0));
  }

  /** DemoSeeder's Chen: a 10-year mortgage, 420,000 owed; no card. */
  static List<ScoreInputs.Account> chen() {
    return List.of(new ScoreInputs.Account("MORTGAGE", TODAY.minusYears(10), null, "CNY", "OPEN",
      new BigDecimal("420000.00"), 0, 0, 0));
  }

  @Test
  @DisplayName("the demo's Alice scores 840 EXCELLENT with no adverse reason: 15 % of her card's limit used is not one")
  void aliceAsSeeded() {
    Scorecard.Result r = score(alice());
    assertEquals(840, r.value());
    assertEquals("EXCELLENT", r.band());
    assertEquals(List.of(), codes(r));
  }

  @Test
  @DisplayName("after the walk-through's BNPL loan Alice scores 810 EXCELLENT with one material reason, three open loans")
  void aliceAfterTheWalkthrough() {
    Scorecard.Result r = score(aliceAfterWalkthrough());
    assertEquals(810, r.value());
    assertEquals("EXCELLENT", r.band());
    // before: MANY_ACTIVE_LOANS (20), HIGH_UTILISATION (10), RECENT_ACCOUNTS (10)
    assertEquals(List.of("MANY_ACTIVE_LOANS"), codes(r));
    assertEquals(20, r.reasons().get(0).cost());
  }

  @Test
  @DisplayName("Bob, with no credit card, is never told his card use is high; his reasons are his delinquency and young file")
  void bobsReasons() {
    Scorecard.Result r = score(bob());
    assertEquals(605, r.value());
    assertEquals("FAIR", r.band());
    // before: 585 FAIR, [DELINQUENCY_HISTORY, DELINQUENCY_RECENT, SHORT_HISTORY, HIGH_UTILISATION]
    assertEquals(List.of("DELINQUENCY_HISTORY", "DELINQUENCY_RECENT", "SHORT_HISTORY", "RECENT_ACCOUNTS"), codes(r));
  }

  @Test
  @DisplayName("Chen, with no credit card, gets no utilisation reason; his large mortgage balance is his one reason")
  void chensReasons() {
    Scorecard.Result r = score(chen());
    assertEquals(810, r.value());
    assertEquals("EXCELLENT", r.band());
    // before: 790 VERY_GOOD, [HIGH_UTILISATION, HIGH_BALANCE]
    assertEquals(List.of("HIGH_BALANCE"), codes(r));
  }

  // ---- the reason rule ----

  @Test
  @DisplayName("every reason given cost at least the scorecard's minimum, and every description is plain words")
  void everyReasonIsMaterial() {
    List<List<ScoreInputs.Account>> files = List.of(alice(), aliceAfterWalkthrough(), bob(), chen(), List.of(CLEAN),
      List.of(loan(8, "OPEN", "1000.00", 0, 0, 1)), List.of(loan(1, "OPEN", "250000.00", 10, 10, 2), card(1, "1000", "400")));
    for (List<ScoreInputs.Account> f : files) {
      for (Scorecard.Reason reason : score(f).reasons()) {
        assertTrue(reason.cost() >= card.minimumCost(), reason + " is below " + card.minimumCost());
        assertTrue(reason.description().matches("[A-Z][A-Za-z0-9 ,:'%()]+"), "plain words: " + reason.description());
      }
    }
    assertEquals(20, card.minimumCost());
  }

  @Test
  @DisplayName("each reason appears exactly from the band its description names (30 % used, 3 loans, 2 new, under 2 years...)")
  void descriptionsMatchTheBands() {
    assertFalse(codes(score(List.of(card(8, "10000", "2999")))).contains("HIGH_UTILISATION"));
    assertTrue(codes(score(List.of(card(8, "10000", "3000")))).contains("HIGH_UTILISATION"));
    assertFalse(codes(score(List.of(CLEAN, CLEAN))).contains("MANY_ACTIVE_LOANS"));
    assertTrue(codes(score(List.of(CLEAN, CLEAN, CLEAN))).contains("MANY_ACTIVE_LOANS"));
    assertFalse(codes(score(List.of(loan(8, "OPEN", "200000.00", 0, 0, 0)))).contains("HIGH_BALANCE"));
    assertTrue(codes(score(List.of(loan(8, "OPEN", "200001.00", 0, 0, 0)))).contains("HIGH_BALANCE"));
    ScoreInputs.Account fresh = new ScoreInputs.Account("BNPL", TODAY.minusMonths(2), null, "CNY", "OPEN",
      BigDecimal.TEN, 0, 0, 0);
    assertFalse(codes(score(List.of(CLEAN, fresh))).contains("RECENT_ACCOUNTS"));
    assertTrue(codes(score(List.of(CLEAN, fresh, fresh))).contains("RECENT_ACCOUNTS"));
    ScoreInputs.Account twoYears = new ScoreInputs.Account("BNPL", TODAY.minusMonths(24), null, "CNY", "OPEN",
      BigDecimal.TEN, 0, 0, 0);
    ScoreInputs.Account underTwo = new ScoreInputs.Account("BNPL", TODAY.minusMonths(23), null, "CNY", "OPEN",
      BigDecimal.TEN, 0, 0, 0);
    assertFalse(codes(score(List.of(twoYears))).contains("SHORT_HISTORY"));
    assertTrue(codes(score(List.of(underTwo))).contains("SHORT_HISTORY"));
    assertFalse(codes(score(List.of(loan(8, "OPEN", "1000.00", 0, 0, 1)))).contains("LATE_PAYMENTS"));
    assertTrue(codes(score(List.of(loan(8, "OPEN", "1000.00", 0, 0, 2)))).contains("LATE_PAYMENTS"));
  }

  @Test
  @DisplayName("an attribute that does not apply gives no reason: no card, no utilisation reason, whatever else is wrong")
  void notApplicableGivesNoReason() {
    Scorecard.Result r = score(List.of(loan(1, "OPEN", "5000000.00", 100, 100, 8)));
    assertFalse(codes(r).contains("HIGH_UTILISATION"), codes(r).toString());
    assertNull(ScoreInputs.from(List.of(CLEAN), TODAY, "CNY").revolvingUtilisationPct());
  }

  // ---- thin files ----

  @Test
  @DisplayName("a file with no account has no score and says so: NO_TRADELINES")
  void noTradelines() {
    Scorecard.Result r = score(List.of());
    assertNull(r.value());
    assertNull(r.band());
    assertEquals(List.of("NO_TRADELINES"), codes(r));
    assertTrue(r.reasons().get(0).description().startsWith("No score"));
  }

  @Test
  @DisplayName("a file whose only account is days old has no score yet (INSUFFICIENT_HISTORY), and one a month later has one")
  void insufficientHistory() {
    ScoreInputs.Account fresh = new ScoreInputs.Account("MICRO_LOAN", TODAY.minusDays(10), null, "CNY", "OPEN",
      new BigDecimal("2000.00"), 0, 0, 0);
    Scorecard.Result now = score(List.of(fresh));
    assertNull(now.value());
    assertEquals(List.of("INSUFFICIENT_HISTORY"), codes(now));
    Scorecard.Result later = card.score(ScoreInputs.from(List.of(fresh), TODAY.plusDays(21), "CNY"));
    assertTrue(later.scored(), "a month after opening the file is scored");
  }

  @Test
  @DisplayName("why a person has no score: the stored thin-file reason, NO_TRADELINES for someone never reported, nothing when scored")
  void whyNoScore() {
    ScoreStore store = new ScoreStore(card, null, null);
    ScoreInputs.Account fresh = new ScoreInputs.Account("MICRO_LOAN", TODAY.minusDays(3), null, "CNY", "OPEN",
      BigDecimal.TEN, 0, 0, 0);
    assertEquals("INSUFFICIENT_HISTORY",
      card.whyNoScore(store.compute(List.of(fresh), TODAY, java.time.Instant.EPOCH)).getString("code"));
    assertEquals("NO_TRADELINES", card.whyNoScore(store.compute(List.of(), TODAY, java.time.Instant.EPOCH)).getString("code"));
    assertEquals("NO_TRADELINES", card.whyNoScore(PersonScore.empty(card.modelVersion())).getString("code"));
    assertNull(card.whyNoScore(store.compute(List.of(CLEAN), TODAY, java.time.Instant.EPOCH)));
  }

  // ---- currencies ----

  @Test
  @DisplayName("balances in another currency are never added to the outstanding balance or the card utilisation")
  void currenciesAreNeverMixed() {
    ScoreInputs.Account usdLoan = new ScoreInputs.Account("CONSUMER_LOAN", TODAY.minusYears(4), null, "USD", "OPEN",
      new BigDecimal("900000.00"), 0, 0, 0);
    ScoreInputs.Account usdCard = new ScoreInputs.Account("CREDIT_CARD", TODAY.minusYears(4), new BigDecimal("1000.00"),
      "USD", "OPEN", new BigDecimal("990.00"), 0, 0, 0);
    ScoreInputs in = ScoreInputs.from(List.of(CLEAN, card(8, "30000", "4500.00"), usdLoan, usdCard), TODAY, "CNY");
    assertEquals(new BigDecimal("5500.00"), in.totalOutstanding(), "only the CNY balances: 1000 + 4500");
    assertEquals(new BigDecimal("15"), in.revolvingUtilisationPct(), "only the CNY card: 4500 / 30000");
    assertEquals(4, in.activeLoans(), "the USD accounts are still open loans");
    ScoreInputs onlyForeignCard = ScoreInputs.from(List.of(CLEAN, usdCard), TODAY, "CNY");
    assertNull(onlyForeignCard.revolvingUtilisationPct(), "no CNY card: utilisation does not apply");
  }

  @Test
  @DisplayName("the stored outstanding balance (the over-borrowing figure) sums only the scorecard's currency")
  void storedOutstandingBalanceIsOneCurrency() {
    ScoreStore store = new ScoreStore(card, null, null);
    ScoreInputs.Account usd = new ScoreInputs.Account("AUTO_LOAN", TODAY.minusYears(2), null, "USD", "OPEN",
      new BigDecimal("7000.00"), 0, 0, 0);
    PersonScore s = store.compute(List.of(CLEAN, usd), TODAY, java.time.Instant.EPOCH);
    assertEquals(new BigDecimal("1000.00"), s.outstandingBalance());
    assertEquals(2, s.activeLoans());
  }

  // ---- validation at load ----

  @SuppressWarnings("unchecked")
  private static Map<String, Object> yaml() throws IOException {
    return new Yaml().load(Files.readString(Path.of("config/scorecard.yaml")));
  }

  @SuppressWarnings("unchecked")
  private static ConfigException refused(Consumer<Map<String, Object>> change) throws IOException {
    Map<String, Object> doc = yaml();
    change.accept(doc);
    return assertThrows(ConfigException.class, () -> Scorecard.parse(doc));
  }

  @Test
  @DisplayName("a scorecard is refused at load when a not-applicable attribute would cost material points, or its currency is not ISO 4217")
  @SuppressWarnings("unchecked")
  void validatedAtLoad() throws IOException {
    ConfigException e = refused(doc -> ((Map<String, Object>) ((Map<String, Object>) doc.get("attributes"))
      .get("revolvingUtilisationPct")).put("whenMissing", 40));
    assertTrue(e.getMessage().contains("revolvingUtilisationPct.whenMissing"), e.getMessage());
    assertTrue(refused(doc -> doc.put("currency", "XYZ")).getMessage().contains("currency"));
    assertTrue(refused(doc -> doc.put("currency", "cny")).getMessage().contains("currency"));
    assertTrue(refused(doc -> doc.remove("currency")).getMessage().contains("currency"));
    assertTrue(refused(doc -> doc.remove("reasonRule")).getMessage().contains("reasonRule"));
    assertTrue(refused(doc -> ((Map<String, Object>) doc.get("reasonRule")).put("maxReasons", 5))
      .getMessage().contains("maxReasons"));
    assertTrue(refused(doc -> ((Map<String, Object>) doc.get("notScored")).remove("NO_TRADELINES"))
      .getMessage().contains("NO_TRADELINES"));
    assertEquals("CNY", card.currency());
  }

  @Test
  @DisplayName("the age boundaries the daily pass watches are the 6-month window, the minimum history and the age bands' edges")
  void ageBoundaries() {
    assertEquals(List.of(1, 6, 24, 60), List.copyOf(card.ageBoundariesMonths()));
  }
}
