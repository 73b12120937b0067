package io.openbureau.http;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxBootstrap;
import io.vertx.core.spi.VertxServiceProvider;
import io.vertx.core.spi.context.storage.ContextLocal;
import org.slf4j.MDC;
import org.slf4j.Marker;

/**
 * The request id in every log line written while a request is handled, whatever the thread: the id
 * lives on the request's own (duplicated) Vert.x context, which Vert.x carries to every callback of
 * the request (Postgres and Redis replies, timers, {@code executeBlocking} on a worker), and this
 * filter copies it into the MDC ({@code requestId}) just before each log event is made. Every event
 * sets or clears the key, so an id never outlives its request on a thread: an event logged outside
 * any request (a background loop, start-up) has no {@code requestId}.
 *
 * <p>Installed by {@code logback.xml} and {@code logback-json.xml}; {@code %X{requestId}} in a
 * pattern, a top-level {@code requestId} field in JSON (LogstashEncoder writes the MDC).
 */
public final class RequestIdMdc extends TurboFilter {
  public static final String KEY = "requestId";

  /**
   * Registers the context local. A context local must exist before the Vert.x instance whose
   * contexts hold it is built: Vert.x loads this provider (META-INF/services) while it builds its
   * first instance in the JVM, before that instance exists, and the class initializer runs once.
   */
  public static final class Local implements VertxServiceProvider {
    static final ContextLocal<String> ID = ContextLocal.registerLocal(String.class);

    @Override
    public void init(VertxBootstrap bootstrap) {
      // registration is the class initializer's: nothing per instance
    }
  }

  /** Binds {@code id} to the current request's context (a no-op outside a duplicated context). */
  static void bind(String id) {
    if (Vertx.currentContext() instanceof ContextInternal context && context.isDuplicate()) {
      try {
        Local.ID.put(context, id);
      } catch (IllegalArgumentException e) {
        // a context of a Vert.x built before the local was registered (the provider was not loaded)
      }
    }
  }

  /** The id of the request whose context runs now, or null. */
  public static String current() {
    Context context = Vertx.currentContext();
    if (context instanceof ContextInternal internal && internal.isDuplicate()) {
      try {
        return Local.ID.get(internal);
      } catch (IllegalArgumentException e) {
        return null;
      }
    }
    return null;
  }

  @Override
  public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
    if (format == null) {
      return FilterReply.NEUTRAL; // an isXxxEnabled() check: no event is made
    }
    String id = current();
    String held = MDC.get(KEY);
    if (id == null) {
      if (held != null) {
        MDC.remove(KEY);
      }
    } else if (!id.equals(held)) {
      MDC.put(KEY, id);
    }
    return FilterReply.NEUTRAL;
  }
}
