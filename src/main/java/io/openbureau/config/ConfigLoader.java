package io.openbureau.config;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Loads the configuration: {@code config/application.yaml} of the bureau's home, then the optional
 * {@code BUREAU_CONFIG} overlay file, then environment variables ({@code BUREAU_<PATH_IN_UPPER_SNAKE>},
 * and {@code PORT}), and validates the result as a whole ({@link BureauConfig#from}).
 *
 * <p>The home ({@link #home}) is {@code BUREAU_HOME}, else the directory holding
 * {@code config/application.yaml} nearest the jar (the jar's own directory or its parent, as in
 * {@code target/openbureau.jar}), else the working directory. Relative file paths inside the
 * configuration (keys, the scorecard) are resolved against it, so the CLI runs from any directory;
 * paths given on the command line or in {@code BUREAU_CONFIG} are the user's, relative to the working
 * directory.
 */
public final class ConfigLoader {

  public static final String DEFAULT_FILE = "config/application.yaml";
  public static final String ENV_PREFIX = "BUREAU_";
  /** The overlay file merged over the base file. */
  public static final String OVERLAY_VAR = "BUREAU_CONFIG";
  /** The bureau's home directory (config/application.yaml and relative key paths are found there). */
  public static final String HOME_VAR = "BUREAU_HOME";
  /** Another base file instead of config/application.yaml (tests, packaging). */
  public static final String BASE_VAR = "BUREAU_BASE_CONFIG";
  /** {@code BUREAU_} variables that are not configuration keys: the loader's own. */
  public static final Set<String> NOT_KEYS = Set.of(OVERLAY_VAR, HOME_VAR, BASE_VAR);
  /** Keys holding file names, resolved against the home when relative ({@code []}: every item of a list). */
  static final List<String> FILE_KEYS = List.of("auth.issuers[].publicKeyPem", "auth.issuers[].jwks",
    "auth.devSigningKeyPem", "signing.privateKeyPem", "signing.publicKeyPem", "signing.previousPublicKeys[].publicKeyPem",
    "scoring.scorecardFile");

  private ConfigLoader() {
  }

  /** Loads base file + overlay + environment, and validates the result (on a worker thread). */
  public static Future<BureauConfig> load(Vertx vertx, String baseFile, Map<String, String> env) {
    return vertx.executeBlocking(() -> load(baseFile, env));
  }

  /** Loads base file + overlay + environment, and validates the result; blocking. */
  public static BureauConfig load(String baseFile, Map<String, String> env) {
    Merged m = merge(baseFile, env);
    return BureauConfig.from(m.json(), m.problems());
  }

  /** The configuration as the files and the environment make it, before validation, with the problems met so far. */
  public record Merged(JsonObject json, List<String> problems, Path home) {
  }

  /**
   * Reads and merges the files and the environment. Throws {@link ConfigException} when a file
   * cannot be read or parsed (naming it and why); every other problem is returned.
   */
  public static Merged merge(String baseFile, Map<String, String> env) {
    Path home = home(env);
    Path base = DEFAULT_FILE.equals(baseFile) ? home.resolve(baseFile) : Path.of(baseFile);
    JsonObject json = readYaml(base, "the configuration file");
    String overlay = env.get(OVERLAY_VAR);
    if (overlay != null && !overlay.isBlank()) {
      json.mergeIn(readYaml(Path.of(overlay), OVERLAY_VAR + " file"), true);
    }
    List<String> problems = applyEnvironment(json, env);
    resolveFiles(json, home);
    problems.addAll(fileProblems(json));
    return new Merged(json, problems, home);
  }

  /** {@code BUREAU_HOME}, else the directory with config/application.yaml nearest the code, else the working directory. */
  public static Path home(Map<String, String> env) {
    String configured = env.get(HOME_VAR);
    if (configured != null && !configured.isBlank()) {
      Path p = Path.of(configured).toAbsolutePath().normalize();
      if (!Files.isDirectory(p)) {
        throw new ConfigException(HOME_VAR + "=" + configured + " is not a directory");
      }
      return p;
    }
    try {
      Path code = Path.of(ConfigLoader.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      Path dir = Files.isDirectory(code) ? code : code.getParent();
      for (int up = 0; dir != null && up < 3; up++, dir = dir.getParent()) {
        if (Files.isRegularFile(dir.resolve(DEFAULT_FILE))) {
          return dir;
        }
      }
    } catch (URISyntaxException | RuntimeException e) {
      // no usable code location: the working directory
    }
    return Path.of("").toAbsolutePath();
  }

  /** A YAML file that must be a mapping; the message names the file and the reason. */
  static JsonObject readYaml(Path file, String what) {
    String text;
    try {
      text = Files.readString(file);
    } catch (IOException e) {
      throw new ConfigException("cannot read " + what + " " + file + ": " + reason(e));
    }
    Object parsed;
    try {
      parsed = new Yaml().load(text);
    } catch (MarkedYAMLException e) {
      throw new ConfigException("cannot parse " + what + " " + file + ": " + e.getProblem()
        + " at line " + (e.getProblemMark() == null ? "?" : e.getProblemMark().getLine() + 1));
    } catch (YAMLException e) {
      throw new ConfigException("cannot parse " + what + " " + file + ": " + e.getMessage());
    }
    if (parsed == null) {
      return new JsonObject();
    }
    if (!(parsed instanceof Map<?, ?>)) {
      throw new ConfigException(what + " " + file + " must be a YAML mapping (key: value lines), got "
        + (parsed instanceof List<?> ? "a list" : "'" + parsed + "'"));
    }
    return (JsonObject) json(parsed);
  }

  /** SnakeYAML's tree as JSON values (a date or any other scalar becomes text). */
  private static Object json(Object v) {
    if (v instanceof Map<?, ?> m) {
      JsonObject o = new JsonObject();
      m.forEach((k, val) -> o.put(String.valueOf(k), json(val)));
      return o;
    }
    if (v instanceof List<?> l) {
      JsonArray a = new JsonArray();
      l.forEach(item -> a.add(json(item)));
      return a;
    }
    if (v == null || v instanceof String || v instanceof Boolean || v instanceof Integer || v instanceof Long
      || v instanceof Double) {
      return v;
    }
    if (v instanceof Number n) {
      return n.doubleValue() == n.longValue() ? (Object) n.longValue() : (Object) n.doubleValue();
    }
    return String.valueOf(v);
  }

  /** Why a file could not be read, in a few words ("no such file", "permission denied"). */
  public static String reason(IOException e) {
    if (e instanceof NoSuchFileException) {
      return "no such file";
    }
    if (e instanceof AccessDeniedException) {
      return "permission denied";
    }
    if (e.getMessage() != null && e.getMessage().toLowerCase(Locale.ROOT).contains("is a directory")) {
      return "is a directory";
    }
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }

  /**
   * Every key can be set by an environment variable: {@code postgres.poolSize} by
   * {@code BUREAU_POSTGRES_POOL_SIZE}, parsed as the key's own type ({@link ConfigSchema}: a whole
   * number, a number, true/false, a comma-separated list, text), whether or not the files hold it.
   * A {@code BUREAU_} variable that names no key (and is not one of {@link #NOT_KEYS}) is a problem,
   * with the nearest variable suggested. {@code PORT} sets {@code http.port}.
   */
  public static List<String> applyEnvironment(JsonObject config, Map<String, String> env) {
    ConfigSchema schema = ConfigSchema.get();
    List<String> problems = new ArrayList<>();
    for (Map.Entry<String, String> e : new TreeMap<>(env).entrySet()) {
      String name = e.getKey();
      if (!name.startsWith(ENV_PREFIX) || NOT_KEYS.contains(name)) {
        continue;
      }
      ConfigSchema.Key key = schema.byEnv(name);
      if (key == null) {
        problems.add(name + " names no configuration key" + envSuggestion(name, schema));
        continue;
      }
      set(config, key, e.getValue(), name, problems);
    }
    String port = env.get("PORT");
    if (port != null && !port.isBlank()) {
      set(config, schema.key("http.port"), port, "PORT", problems);
    }
    return problems;
  }

  private static String envSuggestion(String name, ConfigSchema schema) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String known : schema.envNames()) {
      int d = ConfigSchema.distance(name, known);
      if (d < bestDistance) {
        best = known;
        bestDistance = d;
      }
    }
    if (best != null && bestDistance <= Math.max(2, (name.length() - ENV_PREFIX.length()) / 4)) {
      return "; did you mean " + best + " (" + schema.byEnv(best).path() + ")?";
    }
    return "; the variables that are not keys are " + new java.util.TreeSet<>(NOT_KEYS) + " and PORT";
  }

  private static void set(JsonObject config, ConfigSchema.Key key, String raw, String name, List<String> problems) {
    Object value;
    String v = raw.trim();
    String at = name + " (" + key.path() + ")";
    switch (key.type()) {
      case WHOLE -> {
        if (!v.matches("[-+]?\\d{1,18}")) {
          problems.add(at + " must be a whole number, got '" + raw + "'");
          return;
        }
        value = Long.parseLong(v);
      }
      case NUMBER -> {
        try {
          double d = Double.parseDouble(v);
          if (!Double.isFinite(d)) {
            throw new NumberFormatException();
          }
          value = d;
        } catch (NumberFormatException ex) {
          problems.add(at + " must be a number, got '" + raw + "'");
          return;
        }
      }
      case BOOLEAN -> {
        String b = v.toLowerCase(Locale.ROOT);
        if (!b.equals("true") && !b.equals("false")) {
          problems.add(at + " must be true or false, got '" + raw + "'");
          return;
        }
        value = Boolean.parseBoolean(b);
      }
      case LIST -> {
        JsonArray list = new JsonArray();
        for (String part : raw.split(",")) {
          if (!part.isBlank()) {
            list.add(part.trim());
          }
        }
        value = list;
      }
      case MAPPINGS -> {
        problems.add(at + " is a list of mappings and cannot be set from the environment; set it in a "
          + OVERLAY_VAR + " overlay file");
        return;
      }
      default -> value = raw;
    }
    JsonObject node = config;
    String[] parts = key.path().split("\\.");
    for (int i = 0; i < parts.length - 1; i++) {
      Object child = node.getValue(parts[i]);
      if (child == null) {
        child = new JsonObject();
        node.put(parts[i], child);
      }
      if (!(child instanceof JsonObject o)) {
        return; // reported by the schema: a section that is not a mapping
      }
      node = o;
    }
    node.put(parts[parts.length - 1], value);
  }

  /** Relative file names in the configuration become paths under the home. */
  static void resolveFiles(JsonObject config, Path home) {
    for (String key : FILE_KEYS) {
      forEachFile(config, key, (holder, field) -> {
        if (holder.getValue(field) instanceof String f && !f.isBlank() && !Path.of(f).isAbsolute()) {
          holder.put(field, home.resolve(f).normalize().toString());
        }
      });
    }
  }

  /** Every file the configuration names that cannot be read: the key, the file and why. */
  static List<String> fileProblems(JsonObject config) {
    List<String> problems = new ArrayList<>();
    for (String key : FILE_KEYS) {
      int[] index = {0};
      forEachFile(config, key, (holder, field) -> {
        String at = key.contains("[]") ? key.replace("[]", "[" + index[0]++ + "]") : key;
        if (holder.getValue(field) instanceof String f && !f.isBlank()) {
          Path p = Path.of(f);
          if (Files.isDirectory(p)) {
            problems.add(at + ": cannot read " + f + ": is a directory");
          } else if (!Files.isReadable(p)) {
            problems.add(at + ": cannot read " + f + ": " + (Files.exists(p) ? "permission denied" : "no such file"));
          }
        }
      });
    }
    return problems;
  }

  private interface FileField {
    void visit(JsonObject holder, String field);
  }

  private static void forEachFile(JsonObject config, String key, FileField visit) {
    int list = key.indexOf("[]");
    if (list < 0) {
      int dot = key.lastIndexOf('.');
      Object holder = path(config, key.substring(0, dot));
      if (holder instanceof JsonObject o) {
        visit.visit(o, key.substring(dot + 1));
      }
      return;
    }
    Object items = path(config, key.substring(0, list));
    if (items instanceof JsonArray arr) {
      for (int i = 0; i < arr.size(); i++) {
        if (arr.getValue(i) instanceof JsonObject item) {
          visit.visit(item, key.substring(list + 3));
        }
      }
    }
  }

  private static Object path(JsonObject config, String path) {
    Object node = config;
    for (String part : path.split("\\.")) {
      if (!(node instanceof JsonObject o)) {
        return null;
      }
      node = o.getValue(part);
    }
    return node;
  }

  static String upperSnake(String camel) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < camel.length(); i++) {
      char c = camel.charAt(i);
      if (Character.isUpperCase(c) && i > 0) {
        sb.append('_');
      }
      sb.append(Character.toUpperCase(c));
    }
    return sb.toString();
  }
}
