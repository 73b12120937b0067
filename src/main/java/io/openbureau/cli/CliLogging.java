package io.openbureau.cli;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.ConsoleAppender;
import org.slf4j.LoggerFactory;

import java.util.Iterator;

/** The CLI's log lines go to stderr: stdout is for the command's result only (a token, a summary). */
public final class CliLogging {
  private CliLogging() {
  }

  public static void toStderr() {
    if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
      return;
    }
    for (Logger logger : context.getLoggerList()) {
      for (Iterator<Appender<ch.qos.logback.classic.spi.ILoggingEvent>> it = logger.iteratorForAppenders(); it.hasNext(); ) {
        if (it.next() instanceof ConsoleAppender<?> console && !"System.err".equals(console.getTarget())) {
          console.stop();
          console.setTarget("System.err");
          console.start();
        }
      }
    }
  }
}
