package io.openbureau.config;

import java.util.List;

/** A configuration problem, reported at start-up with a message that names the key. */
public class ConfigException extends RuntimeException {
  private final List<String> problems;

  public ConfigException(String message) {
    super(message);
    this.problems = List.of(message);
  }

  /** Several problems in one message ("invalid configuration:" and one line each). */
  public ConfigException(List<String> problems) {
    super("invalid configuration:\n  - " + String.join("\n  - ", problems));
    this.problems = List.copyOf(problems);
  }

  /** Each problem on its own, naming its key. */
  public List<String> problems() {
    return problems;
  }
}
