package io.openbureau.scoring;

import io.openbureau.config.ConfigException;
import org.yaml.snakeyaml.Yaml;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A transparent, versioned scorecard (config/scorecard.yaml): points per band of each attribute,
 * summed onto base points and clamped to the range. A reason is an attribute that earned fewer
 * than its best points; reasons are ordered by the points they cost.
 */
public final class Scorecard {
  public static final List<String> ATTRIBUTES = List.of("worstDaysPastDue24m", "currentDaysPastDue", "latePeriods24m",
    "revolvingUtilisationPct", "totalOutstanding", "activeLoans", "openedLast6m", "oldestAccountMonths", "anyDefault");
  public static final int MAX_REASONS = 4;

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

  public record Reason(String code, String description, int cost) {
  }

  public record Result(int value, String band, List<Reason> reasons, String modelVersion) {
  }

  private final String modelVersion;
  private final int base;
  private final int min;
  private final int max;
  private final List<Map.Entry<String, Integer>> bands;
  private final Map<String, String> reasonTexts;
  private final List<Attribute> attributes;

  private Scorecard(String modelVersion, int base, int min, int max, List<Map.Entry<String, Integer>> bands,
                    Map<String, String> reasonTexts, List<Attribute> attributes) {
    this.modelVersion = modelVersion;
    this.base = base;
    this.min = min;
    this.max = max;
    this.bands = bands;
    this.reasonTexts = reasonTexts;
    this.attributes = attributes;
  }

  public String modelVersion() {
    return modelVersion;
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
      int base = ((Number) doc.get("basePoints")).intValue();
      Map<String, Object> range = (Map<String, Object>) doc.get("range");
      List<Map.Entry<String, Integer>> bands = new ArrayList<>();
      for (Map<String, Object> b : (List<Map<String, Object>>) doc.get("bands")) {
        bands.add(Map.entry((String) b.get("name"), ((Number) b.get("min")).intValue()));
      }
      bands.sort(Map.Entry.comparingByValue());
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
        attributes.add(new Attribute(name, reason, missing, List.copyOf(bs), best));
      }
      return new Scorecard(version, base, ((Number) range.get("min")).intValue(), ((Number) range.get("max")).intValue(),
        List.copyOf(bands), Map.copyOf(reasons), List.copyOf(attributes));
    } catch (ConfigException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new ConfigException("scorecard: malformed (" + e + ")");
    }
  }

  /** The score of a person with at least one tradeline. */
  public Result score(ScoreInputs in) {
    Map<String, BigDecimal> values = in.values();
    int total = base;
    List<Reason> costs = new ArrayList<>();
    for (Attribute a : attributes) {
      int points = a.points(values.get(a.name()));
      total += points;
      int cost = a.best() - points;
      if (cost > 0) {
        costs.add(new Reason(a.reason(), reasonTexts.get(a.reason()), cost));
      }
    }
    // by cost, most expensive first; stable for equal costs (attribute order)
    costs.sort(Comparator.comparingInt(Reason::cost).reversed());
    Map<String, Reason> unique = new LinkedHashMap<>();
    for (Reason r : costs) {
      unique.putIfAbsent(r.code(), r);
    }
    List<Reason> reasons = unique.values().stream().limit(MAX_REASONS).toList();
    int value = Math.max(min, Math.min(max, total));
    return new Result(value, band(value), reasons, modelVersion);
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
