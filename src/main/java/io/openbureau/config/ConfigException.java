package io.openbureau.config;

/** A configuration problem, reported at start-up with a message that names the key. */
public class ConfigException extends RuntimeException {
  public ConfigException(String message) {
    super(message);
  }
}
