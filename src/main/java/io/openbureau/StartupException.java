package io.openbureau;

/** A start-up failure whose message names what failed (the dependency, the key, the value): logged without a stack trace. */
final class StartupException extends IllegalStateException {
  StartupException(String message, Throwable cause) {
    super(message, cause);
  }

  StartupException(String message) {
    super(message);
  }
}
