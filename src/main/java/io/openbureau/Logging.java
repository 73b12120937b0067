package io.openbureau;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import org.slf4j.LoggerFactory;

/** Switches to one JSON object per log line when {@code logging.json} is set. */
final class Logging {
  private Logging() {
  }

  static void configure(boolean json) {
    if (!json || !(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
      return;
    }
    try {
      context.reset();
      JoranConfigurator configurator = new JoranConfigurator();
      configurator.setContext(context);
      configurator.doConfigure(Logging.class.getResource("/logback-json.xml"));
    } catch (Exception e) {
      System.err.println("openbureau: cannot switch to JSON logging: " + e.getMessage());
    }
  }
}
