package io.openbureau.support.fuzz;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.StackTraceElementProxy;
import ch.qos.logback.core.AppenderBase;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Listens to the in-process server's log for warnings and errors about fuzz requests (their
 * request ids are {@code fzreq-<index>}) and keeps, per request, the exception and the first frame
 * in the bureau's own code: the probable place of the bug.
 */
public final class ServerLog extends AppenderBase<ILoggingEvent> implements AutoCloseable {
  private static final Pattern ID = Pattern.compile("\\bfzreq-(\\d+)\\b");
  private final Map<Integer, String> causes = new ConcurrentHashMap<>();
  private final List<String> unattributed = java.util.Collections.synchronizedList(new ArrayList<>());

  public static ServerLog attach() {
    ServerLog log = new ServerLog();
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    log.setContext(root.getLoggerContext());
    log.start();
    root.addAppender(log);
    return log;
  }

  @Override
  protected void append(ILoggingEvent event) {
    if (!event.getLevel().isGreaterOrEqual(Level.WARN)) {
      return;
    }
    String message = event.getFormattedMessage();
    String cause = describe(event);
    Matcher m = ID.matcher(message == null ? "" : message);
    if (m.find()) {
      causes.merge(Integer.parseInt(m.group(1)), cause, (a, b) -> a);
    } else if (event.getThrowableProxy() != null && unattributed.size() < 200) {
      unattributed.add(event.getLoggerName() + ": " + cause);
    }
  }

  /** The exception class and message, and where in io.openbureau it was thrown or passed through. */
  static String describe(ILoggingEvent event) {
    IThrowableProxy t = event.getThrowableProxy();
    String message = event.getFormattedMessage();
    if (t == null) {
      return Repr.escape(message == null ? "" : message, 160);
    }
    IThrowableProxy root = t;
    while (root.getCause() != null) {
      root = root.getCause();
    }
    String where = frame(root);
    if (where == null) {
      where = frame(t);
    }
    return Repr.escape(root.getClassName() + ": " + root.getMessage(), 200) + (where == null ? "" : " at " + where);
  }

  private static String frame(IThrowableProxy t) {
    StackTraceElementProxy[] frames = t.getStackTraceElementProxyArray();
    if (frames == null) {
      return null;
    }
    for (StackTraceElementProxy f : frames) {
      StackTraceElement e = f.getStackTraceElement();
      if (e.getClassName().startsWith("io.openbureau.")) {
        return e.getClassName().replace("io.openbureau.", "") + "." + e.getMethodName() + "(" + e.getFileName() + ":"
          + e.getLineNumber() + ")";
      }
    }
    return frames.length == 0 ? null : frames[0].getStackTraceElement().toString();
  }

  public String cause(int index) {
    return causes.get(index);
  }

  public List<String> unattributed() {
    return List.copyOf(unattributed);
  }

  @Override
  public void close() {
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.detachAppender(this);
    stop();
  }
}
