package io.openbureau.cli;

import io.openbureau.config.BureauConfig;
import io.openbureau.config.ConfigException;
import io.openbureau.config.ConfigLoader;
import io.openbureau.config.ConfigSchema;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code config check}: loads the configuration as {@code serve} would (home, base file, overlay,
 * environment), prints every key with its effective value (secrets masked; {@code # default} when
 * nothing set it) on stdout, and every problem on stderr. Exit 0 valid, 2 invalid.
 */
public final class ConfigCheckCommand {
  public static final int OK = 0;
  public static final int INVALID = 2;
  static final String MASK = "********";

  private ConfigCheckCommand() {
  }

  public static int run(String baseFile, Map<String, String> env, String[] args, PrintStream out, PrintStream err) {
    if (args.length != 1 || !"check".equals(args[0])) {
      throw new IllegalArgumentException("config: the only subcommand is `config check`");
    }
    ConfigLoader.Merged merged;
    try {
      merged = ConfigLoader.merge(baseFile, env);
    } catch (ConfigException e) {
      err.println("openbureau config check: " + e.getMessage());
      return INVALID;
    }
    List<String> problems = new ArrayList<>();
    try {
      BureauConfig config = BureauConfig.from(merged.json(), merged.problems());
      problems.addAll(keyFileProblems(config));
    } catch (ConfigException e) {
      problems.addAll(e.problems());
    }
    out.println("# effective configuration (home " + merged.home() + "); secrets masked");
    for (ConfigSchema.Key key : ConfigSchema.get().keys()) {
      Object value = value(merged.json(), key.path());
      boolean dflt = value == null;
      Object shown = dflt ? key.dflt() : value;
      out.println(key.path() + ": " + render(key, shown) + (dflt ? "   # default" : ""));
    }
    out.flush();
    if (problems.isEmpty()) {
      err.println("openbureau config check: OK");
      return OK;
    }
    err.println("openbureau config check: " + problems.size() + " problem" + (problems.size() == 1 ? "" : "s") + ":");
    for (String p : problems) {
      err.println("  - " + p);
    }
    return INVALID;
  }

  /** The key files and the scorecard parsed as start-up parses them: a file that is there but not a key is a problem too. */
  static List<String> keyFileProblems(BureauConfig config) {
    List<String> problems = new ArrayList<>();
    io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
    try {
      io.openbureau.auth.TrustedIssuers.load(vertx, config.auth());
    } catch (RuntimeException e) {
      problems.add(String.valueOf(e.getMessage()));
    } finally {
      vertx.close();
    }
    try {
      io.openbureau.consent.ReceiptSigner.load(config.signing());
    } catch (RuntimeException e) {
      problems.add(String.valueOf(e.getMessage()));
    }
    try {
      io.openbureau.scoring.Scorecard.load(java.nio.file.Path.of(config.scorecardFile()));
    } catch (RuntimeException e) {
      problems.add("scoring.scorecardFile " + config.scorecardFile() + ": " + e.getMessage());
    }
    return problems;
  }

  private static String render(ConfigSchema.Key key, Object v) {
    if (v == null) {
      return "~";
    }
    if (key.secret()) {
      return v.toString().isEmpty() ? "\"\"" : MASK;
    }
    if (v instanceof JsonArray || v instanceof JsonObject) {
      return maskUserInfo(v.toString());
    }
    if (v instanceof List<?> l) {
      return maskUserInfo(new JsonArray(new ArrayList<>(l)).encode());
    }
    return v instanceof String s ? "\"" + maskUserInfo(s).replace("\"", "\\\"") + "\"" : v.toString();
  }

  /** {@code redis://user:pw@host} -> {@code redis://********@host}: credentials in a URL are secrets too. */
  static String maskUserInfo(String s) {
    return s.replaceAll("(://)[^/@\\s\"]+@", "$1" + MASK + "@");
  }

  private static Object value(JsonObject json, String path) {
    Object node = json;
    for (String part : path.split("\\.")) {
      if (!(node instanceof JsonObject o)) {
        return null;
      }
      node = o.getValue(part);
    }
    return node;
  }
}
