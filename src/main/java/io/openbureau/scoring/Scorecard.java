package io.openbureau.scoring;

import io.openbureau.config.ConfigException;
import org.yaml.snakeyaml.Yaml;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Currency;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * A transparent, versioned scorecard (config/scorecard.yaml): points per band of each attribute,
 * summed onto base points and clamped to the range.
 *
 * <p>Reasons (adverse-action key factors): an attribute's cost is its best band's points minus
 * the points it earned; a reason is given only when the cost reaches {@code reasonRule.minimumCost}
 * (a material share of points), never for an attribute that does not apply, most costly first, at
 * most {@code reasonRule.maxReasons}. A file with no account, or none open long enough, is not
 * scored: the result has no value and one {@code notScored} reason saying why.
 */
public final class Scorecard {
  public static final List<String> ATTRIBUTES = List.of("worstDaysPastDue24m", "currentDaysPastDue", "latePeriods24m",
    "revolvingUtilisationPct", "totalOutstanding", "activeLoans", "openedLast6m", "oldestAccountMonths", "anyDefault");
  /** FCRA §609(f): at most four key factors. */
  public static final int MAX_REASONS = 4;
  public static final String NO_TRADELINES = "NO_TRADELINES";
  public static final String INSUFFICIENT_HISTORY = "INSUFFICIENT_HISTORY";

  record Band(BigDecimal upTo, int points) {
  }

  record Attribute(String name, String reason, Integer whenMissing, List<Band> bands, int best) {
    int points(BigDecimal value) {
      if (value == null) {
        return whenMissing == null ? best : whenMissing;
      }
      for (Band b : bands) {
        if (b.upTo() == null || value.compareTo(b.upTo()) <= 0) {
          return b.points();
        }
      }
      return 0;
    }
  }

  /** {@code cost}: the points the attribute cost against its best band (0 for a not-scored reason). */
  public record Reason(String code, String description, int cost) {
  }

  /** {@code value} and {@code band} are null when the file is not scored; {@code reasons} then say why. */
  public record Result(Integer value, String band, List<Reason> reasons, String modelVersion) {
    public boolean scored() {
      return value != null;
    }
  }

  private final String modelVersion;
  private final String currency;
  private final int base;
  private final int min;
  private final int max;
  private final int minimumCost;
  private final int maxReasons;
  private final int minimumHistoryMonths;
  private final List<Map.Entry<String, Integer>> bands;
  private final Map<String, String> reasonTexts;
  private final Map<String, String> notScoredTexts;
  private final List<Attribute> attributes;

  private Scorecard(String modelVersion, String currency, int base, int min, int max, int minimumCost, int maxReasons,
                    int minimumHistoryMonths, List<Map.Entry<String, Integer>> bands, Map<String, String> reasonTexts,
                    Map<String, String> notScoredTexts, List<Attribute> attributes) {
    this.modelVersion = modelVersion;
    this.currency = currency;
    this.base = base;
    this.min = min;
    this.max = max;
    this.minimumCost = minimumCost;
    this.maxReasons = maxReasons;
    this.minimumHistoryMonths = minimumHistoryMonths;
    this.bands = bands;
    this.reasonTexts = reasonTexts;
    this.notScoredTexts = notScoredTexts;
    this.attributes = attributes;
  }

  public String modelVersion() {
    return modelVersion;
  }

  /** The ISO 4217 currency of the scorecard's amounts: the only one summed into balances and utilisation. */
  public String currency() {
    return currency;
  }

  public int minimumCost() {
    return minimumCost;
  }

  /**
   * The account ages, in whole months, at which the passing of time alone can change a score: the
   * "opened in the last 6 months" window, the band edges of the oldest account's age and the
   * minimum history. {@link ScoreRefresher} re-scores people with an account crossing one.
   */
  public SortedSet<Integer> ageBoundariesMonths() {
    SortedSet<Integer> months = new TreeSet<>();
    months.add(ScoreInputs.RECENT_MONTHS);
    if (minimumHistoryMonths > 0) {
      months.add(minimumHistoryMonths);
    }
    for (Attribute a : attributes) {
      if (a.name().equals("oldestAccountMonths")) {
        for (Band b : a.bands()) {
          if (b.upTo() != null) {
            months.add(b.upTo().intValue() + 1);
          }
        }
      }
    }
    return months;
  }

  /** Blocking (reads the file): call at start-up on a worker thread. */
  public static Scorecard load(Path file) {
    try {
      return parse(new Yaml().load(Files.readString(file)));
    } catch (IOException e) {
      throw new ConfigException("scorecard: cannot read " + file + ": " + e.getMessage());
    }
  }

  @SuppressWarnings("unchecked")
  static Scorecard parse(Map<String, Object> doc) {
    try {
      String version = String.valueOf(doc.get("modelVersion"));
      String currency = currency(doc.get("currency"));
      int base = ((Number) doc.get("basePoints")).intValue();
      Map<String, Object> range = (Map<String, Object>) doc.get("range");
      List<Map.Entry<String, Integer>> bands = new ArrayList<>();
      for (Map<String, Object> b : (List<Map<String, Object>>) doc.get("bands")) {
        bands.add(Map.entry((String) b.get("name"), ((Number) b.get("min")).intValue()));
      }
      bands.sort(Map.Entry.comparingByValue());
      Map<String, Object> rule = (Map<String, Object>) doc.get("reasonRule");
      if (rule == null) {
        throw new ConfigException("scorecard: reasonRule (minimumCost, maxReasons) is missing");
      }
      int minimumCost = whole(rule.get("minimumCost"), "reasonRule.minimumCost", 1, 1000);
      int maxReasons = whole(rule.get("maxReasons"), "reasonRule.maxReasons", 1, MAX_REASONS);
      int minimumHistory = whole(doc.getOrDefault("minimumHistoryMonths", 0), "minimumHistoryMonths", 0, 120);
      Map<String, String> notScored = new LinkedHashMap<>((Map<String, String>) doc.get("notScored"));
      for (String code : List.of(NO_TRADELINES, INSUFFICIENT_HISTORY)) {
        if (notScored.get(code) == null || notScored.get(code).isBlank()) {
          throw new ConfigException("scorecard: notScored." + code + " has no description");
        }
      }
      Map<String, String> reasons = new LinkedHashMap<>((Map<String, String>) doc.get("reasons"));
      Map<String, Object> attrs = (Map<String, Object>) doc.get("attributes");
      List<Attribute> attributes = new ArrayList<>();
      for (String name : ATTRIBUTES) {
        Map<String, Object> a = (Map<String, Object>) attrs.get(name);
        if (a == null) {
          throw new ConfigException("scorecard: attribute " + name + " is missing");
        }
        List<Band> bs = new ArrayList<>();
        for (Map<String, Object> b : (List<Map<String, Object>>) a.get("bands")) {
          Object upTo = b.get("upTo");
          bs.add(new Band(upTo == null ? null : new BigDecimal(upTo.toString()), ((Number) b.get("points")).intValue()));
        }
        String reason = (String) a.get("reason");
        if (!reasons.containsKey(reason)) {
          throw new ConfigException("scorecard: reason " + reason + " of " + name + " has no description");
        }
        Integer missing = a.get("whenMissing") == null ? null : ((Number) a.get("whenMissing")).intValue();
        int best = bs.stream().mapToInt(Band::points).max().orElse(0);
        // an attribute that does not apply gives no reason, so it may not cost a material share of
        // points either: otherwise a person would lose them with nothing to tell them why
        if (missing != null && best - missing >= minimumCost) {
          throw new ConfigException("scorecard: " + name + ".whenMissing (" + missing + ") costs " + (best - missing)
            + " points against its best band, at least reasonRule.minimumCost (" + minimumCost + "), with no reason to give");
        }
        attributes.add(new Attribute(name, reason, missing, List.copyOf(bs), best));
      }
      return new Scorecard(version, currency, base, ((Number) range.get("min")).intValue(),
        ((Number) range.get("max")).intValue(), minimumCost, maxReasons, minimumHistory, List.copyOf(bands),
        Map.copyOf(reasons), Map.copyOf(notScored), List.copyOf(attributes));
    } catch (ConfigException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new ConfigException("scorecard: malformed (" + e + ")");
    }
  }

  private static String currency(Object value) {
    String code = value == null ? null : value.toString();
    if (code == null || !code.matches("[A-Z]{3}")) {
      throw new ConfigException("scorecard: currency must be an ISO 4217 code such as CNY, got '" + code + "'");
    }
    try {
      Currency.getInstance(code);
    } catch (IllegalArgumentException e) {
      throw new ConfigException("scorecard: currency '" + code + "' is not an ISO 4217 currency");
    }
    return code;
  }

  private static int whole(Object value, String key, int lo, int hi) {
    if (!(value instanceof Number n) || n.doubleValue() != n.intValue() || n.intValue() < lo || n.intValue() > hi) {
      throw new ConfigException("scorecard: " + key + " must be a whole number between " + lo + " and " + hi
        + ", got '" + value + "'");
    }
    return n.intValue();
  }

  /** The score of a person from their inputs, or why they have none. */
  public Result score(ScoreInputs in) {
    if (in.tradelines() == 0) {
      return notScored(NO_TRADELINES);
    }
    if (in.oldestAccountMonths() < minimumHistoryMonths) {
      return notScored(INSUFFICIENT_HISTORY);
    }
    Map<String, BigDecimal> values = in.values();
    int total = base;
    List<Reason> costs = new ArrayList<>();
    for (Attribute a : attributes) {
      BigDecimal value = values.get(a.name());
      int points = a.points(value);
      total += points;
      int cost = a.best() - points;
      // not applicable (value null): no adverse reason; its cost is below minimumCost (checked at load)
      if (value != null && cost >= minimumCost) {
        costs.add(new Reason(a.reason(), reasonTexts.get(a.reason()), cost));
      }
    }
    // by cost, most expensive first; stable for equal costs (attribute order)
    costs.sort(Comparator.comparingInt(Reason::cost).reversed());
    Map<String, Reason> unique = new LinkedHashMap<>();
    for (Reason r : costs) {
      unique.putIfAbsent(r.code(), r);
    }
    List<Reason> reasons = unique.values().stream().limit(maxReasons).toList();
    int value = Math.max(min, Math.min(max, total));
    return new Result(value, band(value), reasons, modelVersion);
  }

  /**
   * Why a person has no score, as {@code {"code", "description"}}, or null when they have one: for
   * an answer whose {@code score} is null (the API keeps {@code score: null} for a thin file). A
   * person the bureau never heard of has no stored score at all: NO_TRADELINES too.
   */
  public io.vertx.core.json.JsonObject whyNoScore(PersonScore s) {
    if (s.value() != null) {
      return null;
    }
    String code = NO_TRADELINES;
    if (s.reasons() != null && !s.reasons().isEmpty()
        && notScoredTexts.containsKey(s.reasons().getJsonObject(0).getString("code"))) {
      code = s.reasons().getJsonObject(0).getString("code");
    }
    return new io.vertx.core.json.JsonObject().put("code", code).put("description", notScoredTexts.get(code));
  }

  private Result notScored(String code) {
    return new Result(null, null, List.of(new Reason(code, notScoredTexts.get(code), 0)), modelVersion);
  }

  public String band(int value) {
    String band = bands.get(0).getKey();
    for (Map.Entry<String, Integer> b : bands) {
      if (value >= b.getValue()) {
        band = b.getKey();
      }
    }
    return band;
  }
}
