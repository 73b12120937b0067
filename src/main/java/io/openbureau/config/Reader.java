package io.openbureau.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** Reads dotted keys from a JSON tree, collecting every problem so start-up reports them all at once. */
public final class Reader {
  private final JsonObject root;
  private final List<String> problems = new ArrayList<>();

  public Reader(JsonObject root) {
    this.root = root;
  }

  public Object value(String path) {
    Object node = root;
    for (String part : path.split("\\.")) {
      if (!(node instanceof JsonObject o)) {
        return null;
      }
      node = o.getValue(part);
    }
    return node;
  }

  public void problem(String message) {
    problems.add(message);
  }

  public String string(String path, String dflt) {
    ConfigSchema.declare(path, ConfigSchema.Type.TEXT, dflt);
    Object v = value(path);
    if (v == null) {
      return dflt;
    }
    if (v instanceof String || v instanceof Number || v instanceof Boolean) {
      return v.toString();
    }
    problem(path + " must be a string");
    return dflt;
  }

  public String required(String path, String dflt) {
    String v = string(path, dflt);
    if (v == null || v.isBlank()) {
      problem(path + " is required");
    }
    return v;
  }

  public String oneOf(String path, String dflt, Set<String> allowed) {
    String v = string(path, dflt);
    if (!allowed.contains(v)) {
      problem(path + " must be one of " + allowed + ", got '" + v + "'");
    }
    return v;
  }

  public long longIn(String path, long dflt, long min, long max) {
    ConfigSchema.declare(path, ConfigSchema.Type.WHOLE, dflt);
    Object v = value(path);
    long n;
    if (v == null) {
      n = dflt;
    } else if (v instanceof Number num && num.doubleValue() == num.longValue()) {
      n = num.longValue();
    } else if (v instanceof String s && s.trim().matches("-?\\d+")) {
      n = Long.parseLong(s.trim());
    } else {
      problem(path + " must be a whole number, got '" + v + "'");
      return dflt;
    }
    if (n < min || n > max) {
      problem(path + " must be between " + min + " and " + max + ", got " + n);
    }
    return n;
  }

  public int intIn(String path, int dflt, int min, int max) {
    return (int) longIn(path, dflt, min, max);
  }

  public double doubleIn(String path, double dflt, double min, double max) {
    ConfigSchema.declare(path, ConfigSchema.Type.NUMBER, dflt);
    Object v = value(path);
    double d;
    if (v == null) {
      d = dflt;
    } else if (v instanceof Number num) {
      d = num.doubleValue();
    } else {
      problem(path + " must be a number, got '" + v + "'");
      return dflt;
    }
    if (d < min || d > max) {
      problem(path + " must be between " + min + " and " + max + ", got " + d);
    }
    return d;
  }

  public boolean bool(String path, boolean dflt) {
    ConfigSchema.declare(path, ConfigSchema.Type.BOOLEAN, dflt);
    Object v = value(path);
    if (v == null) {
      return dflt;
    }
    if (v instanceof Boolean b) {
      return b;
    }
    problem(path + " must be true or false, got '" + v + "'");
    return dflt;
  }

  public List<String> stringList(String path, List<String> dflt) {
    ConfigSchema.declare(path, ConfigSchema.Type.LIST, dflt);
    Object v = value(path);
    if (v == null) {
      return dflt;
    }
    if (v instanceof String s) {
      return List.of(s.split("\\s*,\\s*"));
    }
    if (!(v instanceof JsonArray arr)) {
      problem(path + " must be a list");
      return dflt;
    }
    List<String> out = new ArrayList<>();
    for (Object o : arr) {
      out.add(String.valueOf(o));
    }
    return List.copyOf(out);
  }

  /**
   * A list of mappings ({@code auth.issuers}) whose items may hold only {@code itemKeys}; empty
   * when absent, a problem when it is not a list.
   */
  public JsonArray mappings(String path, Set<String> itemKeys) {
    ConfigSchema.declareItems(path, itemKeys);
    Object v = value(path);
    if (v == null) {
      return new JsonArray();
    }
    if (!(v instanceof JsonArray arr)) {
      problem(path + " must be a list of mappings");
      return new JsonArray();
    }
    return arr;
  }

  public List<String> problems() {
    return List.copyOf(problems);
  }

  public void throwIfProblems() {
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
  }
}
