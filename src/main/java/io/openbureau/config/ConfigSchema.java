package io.openbureau.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Every configuration key the bureau knows, with its type and default. Nothing is listed by hand:
 * the keys are the ones the code reads. Whatever {@link Reader} reads while the whole configuration
 * (the core of {@link BureauConfig} and every {@link ConfigSections section}) is read once over an
 * empty tree is a key, typed by the accessor that read it ({@code intIn} a whole number,
 * {@code doubleIn} a number, ...). So a key a feature reads can never be "unknown", a key nobody
 * reads always is, and the environment variable of every key has the key's own type.
 */
public final class ConfigSchema {

  /** What a key holds, and so how its environment variable is parsed. */
  public enum Type {
    TEXT("text"), WHOLE("a whole number"), NUMBER("a number"), BOOLEAN("true or false"),
    LIST("a comma-separated list"), MAPPINGS("a list of mappings");

    final String description;

    Type(String description) {
      this.description = description;
    }
  }

  /** One key: its dotted path, type and default ({@code null}: none). */
  public record Key(String path, Type type, Object dflt) {
    /** {@code postgres.poolSize} -> {@code BUREAU_POSTGRES_POOL_SIZE}. */
    public String envName() {
      return envName(path);
    }

    /** Passwords, secrets: masked by {@code config check}. */
    public boolean secret() {
      return SECRET.matcher(path).find();
    }

    public static String envName(String path) {
      StringBuilder sb = new StringBuilder(ConfigLoader.ENV_PREFIX);
      String[] parts = path.split("\\.");
      for (int p = 0; p < parts.length; p++) {
        if (p > 0) {
          sb.append('_');
        }
        sb.append(ConfigLoader.upperSnake(parts[p]));
      }
      return sb.toString();
    }
  }

  private static final Pattern SECRET = Pattern.compile("(?i)(password|secret)$");

  private static final ThreadLocal<Map<String, Key>> RECORDING = new ThreadLocal<>();
  private static final ThreadLocal<Map<String, Set<String>>> RECORDING_ITEMS = new ThreadLocal<>();
  private static volatile ConfigSchema instance;

  private final Map<String, Key> keys;
  private final Map<String, Set<String>> itemKeys;
  private final Map<String, Key> byEnv = new TreeMap<>();
  /** Every mapping on the way to a key ({@code inquiry}, {@code inquiry.rateLimit}) -> its children's names. */
  private final Map<String, Set<String>> children = new TreeMap<>();

  private ConfigSchema(Map<String, Key> keys, Map<String, Set<String>> itemKeys) {
    this.keys = Map.copyOf(keys);
    this.itemKeys = Map.copyOf(itemKeys);
    children.put("", new TreeSet<>());
    for (Key k : keys.values()) {
      byEnv.put(k.envName(), k);
      String parent = "";
      for (String part : k.path().split("\\.")) {
        children.computeIfAbsent(parent, p -> new TreeSet<>()).add(part);
        parent = parent.isEmpty() ? part : parent + "." + part;
      }
    }
  }

  /** The schema of this build, discovered once. */
  public static ConfigSchema get() {
    ConfigSchema s = instance;
    if (s == null) {
      synchronized (ConfigSchema.class) {
        s = instance;
        if (s == null) {
          s = discover();
          instance = s;
        }
      }
    }
    return s;
  }

  private static ConfigSchema discover() {
    Map<String, Key> found = new LinkedHashMap<>();
    Map<String, Set<String>> items = new LinkedHashMap<>();
    RECORDING.set(found);
    RECORDING_ITEMS.set(items);
    try {
      BureauConfig.read(new JsonObject(), new ArrayList<>(), false);
    } finally {
      RECORDING.remove();
      RECORDING_ITEMS.remove();
    }
    return new ConfigSchema(found, items);
  }

  /** Called by {@link Reader} for every key it reads; recorded while the schema is discovered. */
  static void declare(String path, Type type, Object dflt) {
    Map<String, Key> rec = RECORDING.get();
    if (rec != null) {
      rec.putIfAbsent(path, new Key(path, type, dflt));
    }
  }

  /** A list of mappings (auth.issuers) and the keys its items may hold. */
  static void declareItems(String path, Set<String> keys) {
    declare(path, Type.MAPPINGS, null);
    Map<String, Set<String>> rec = RECORDING_ITEMS.get();
    if (rec != null) {
      rec.putIfAbsent(path, Set.copyOf(keys));
    }
  }

  public Collection<Key> keys() {
    return new TreeMap<>(keys).values();
  }

  public Key key(String path) {
    return keys.get(path);
  }

  public Key byEnv(String name) {
    return byEnv.get(name);
  }

  public Set<String> envNames() {
    return byEnv.keySet();
  }

  /**
   * Every key of {@code json} that no code reads, each with the nearest known key suggested, and
   * every section that is not a mapping.
   */
  public List<String> unknownKeys(JsonObject json) {
    List<String> problems = new ArrayList<>();
    walk("", json, problems);
    return problems;
  }

  private void walk(String at, JsonObject node, List<String> problems) {
    Set<String> known = children.getOrDefault(at, Set.of());
    for (String name : node.fieldNames()) {
      String path = at.isEmpty() ? name : at + "." + name;
      Object value = node.getValue(name);
      Key key = keys.get(path);
      if (key != null) {
        if (key.type() == Type.MAPPINGS && value instanceof JsonArray arr) {
          items(path, arr, problems);
        }
        continue;
      }
      if (children.containsKey(path)) {
        if (value instanceof JsonObject child) {
          walk(path, child, problems);
        } else if (value != null) {
          problems.add(path + " must be a mapping (keys " + children.get(path) + "), got '" + value + "'");
        }
        continue;
      }
      problems.add(path + " is not a known key" + suggestion(at, name, known));
    }
  }

  private void items(String path, JsonArray arr, List<String> problems) {
    Set<String> allowed = itemKeys.getOrDefault(path, Set.of());
    for (int i = 0; i < arr.size(); i++) {
      if (arr.getValue(i) instanceof JsonObject item) {
        for (String name : item.fieldNames()) {
          if (!allowed.contains(name)) {
            problems.add(path + "[" + i + "]." + name + " is not a known key" + suggestion(path + "[" + i + "]", name, allowed));
          }
        }
      }
    }
  }

  private static String suggestion(String at, String name, Collection<String> known) {
    String near = nearest(name, known);
    if (near != null) {
      return "; did you mean `" + (at.isEmpty() ? "" : at + ".") + near + "`?";
    }
    return known.isEmpty() ? "" : "; known" + (at.isEmpty() ? "" : " under " + at) + ": " + new TreeSet<>(known);
  }

  /** The known name closest to {@code name} (edit distance, case-insensitive), if it is close enough. */
  public static String nearest(String name, Collection<String> known) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String k : known) {
      int d = distance(name.toLowerCase(java.util.Locale.ROOT), k.toLowerCase(java.util.Locale.ROOT));
      if (d < bestDistance) {
        best = k;
        bestDistance = d;
      }
    }
    int allowed = Math.max(2, name.length() / 3);
    return bestDistance <= allowed ? best : null;
  }

  static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
