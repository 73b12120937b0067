package io.openbureau.config;

import io.vertx.config.ConfigRetriever;
import io.vertx.config.ConfigRetrieverOptions;
import io.vertx.config.ConfigStoreOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.Locale;
import java.util.Map;

/**
 * Loads the configuration: {@code config/application.yaml}, then the optional {@code BUREAU_CONFIG}
 * overlay file, then environment variables ({@code BUREAU_<PATH_IN_UPPER_SNAKE>}, and {@code PORT}).
 */
public final class ConfigLoader {

  public static final String DEFAULT_FILE = "config/application.yaml";
  public static final String ENV_PREFIX = "BUREAU_";

  private ConfigLoader() {
  }

  /** Loads base file + overlay + environment, and validates the result. */
  public static Future<BureauConfig> load(Vertx vertx, String baseFile, Map<String, String> env) {
    ConfigRetrieverOptions options = new ConfigRetrieverOptions().setScanPeriod(-1)
      .addStore(yamlStore(baseFile, false));
    String overlay = env.get("BUREAU_CONFIG");
    if (overlay != null && !overlay.isBlank()) {
      options.addStore(yamlStore(overlay, false));
    }
    ConfigRetriever retriever = ConfigRetriever.create(vertx, options);
    return retriever.getConfig()
      .eventually(retriever::close)
      .map(json -> applyEnvironment(json, env))
      .map(BureauConfig::from);
  }

  private static ConfigStoreOptions yamlStore(String path, boolean optional) {
    return new ConfigStoreOptions().setType("file").setFormat("yaml").setOptional(optional)
      .setConfig(new JsonObject().put("path", path));
  }

  /**
   * Every leaf key can be overridden by an environment variable: {@code postgres.poolSize} by
   * {@code BUREAU_POSTGRES_POOL_SIZE}. Lists of scalars take a comma-separated value. Values are
   * coerced to the type of the key they replace, so a typo fails validation instead of silently
   * becoming a string.
   */
  static JsonObject applyEnvironment(JsonObject config, Map<String, String> env) {
    JsonObject result = config.copy();
    overrideLeaves(result, ENV_PREFIX, env);
    String port = env.get("PORT");
    if (port != null && !port.isBlank()) {
      result.getJsonObject("http", new JsonObject()).put("port", coerce(port, 0, "PORT"));
    }
    return result;
  }

  private static void overrideLeaves(JsonObject node, String prefix, Map<String, String> env) {
    for (String key : node.fieldNames().toArray(new String[0])) {
      String name = prefix + upperSnake(key);
      Object current = node.getValue(key);
      if (current instanceof JsonObject child) {
        overrideLeaves(child, name + "_", env);
      } else if (env.containsKey(name) && !(current instanceof JsonArray arr && !arr.isEmpty() && arr.getValue(0) instanceof JsonObject)) {
        String raw = env.get(name);
        if (current instanceof JsonArray) {
          JsonArray list = new JsonArray();
          for (String part : raw.split(",")) {
            if (!part.isBlank()) {
              list.add(part.trim());
            }
          }
          node.put(key, list);
        } else {
          node.put(key, coerce(raw, current, name));
        }
      }
    }
  }

  private static Object coerce(String raw, Object like, String name) {
    try {
      if (like instanceof Integer || like instanceof Long) {
        return Long.parseLong(raw.trim());
      }
      if (like instanceof Boolean) {
        String v = raw.trim().toLowerCase(Locale.ROOT);
        if (!v.equals("true") && !v.equals("false")) {
          throw new ConfigException(name + " must be true or false, got '" + raw + "'");
        }
        return Boolean.parseBoolean(v);
      }
      if (like instanceof Double) {
        return Double.parseDouble(raw.trim());
      }
    } catch (NumberFormatException e) {
      throw new ConfigException(name + " must be a number, got '" + raw + "'");
    }
    return raw;
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
