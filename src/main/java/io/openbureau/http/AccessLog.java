package io.openbureau.http;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One line per request on the logger {@value #LOGGER} (route it, or turn it off, on its own): method,
 * the operation's path template from {@code openapi.yaml} (never the raw path: it may carry
 * identifiers), status, duration, response bytes and request id. Also feeds {@link OperationMetrics}.
 *
 * <pre>GET /v1/me/consents/{id} 200 3.1ms 412B id=6f0c…</pre>
 *
 * A request whose client went away before the answer ended logs status {@code 0} and
 * {@code closed}.
 */
public final class AccessLog implements Handler<RoutingContext> {
  public static final String LOGGER = "io.openbureau.access";
  static final String OPERATION = "openbureau.operation";
  static final String TEMPLATE = "openbureau.pathTemplate";
  /** The path of a request that matched no operation: a bounded value whatever the client sent. */
  static final String UNMATCHED = "-";
  private static final Logger LOG = LoggerFactory.getLogger(LOGGER);

  private final OperationMetrics metrics;

  public AccessLog(OperationMetrics metrics) {
    this.metrics = metrics;
  }

  /** Called by {@link RouteMounter} when a request reaches an operation of the contract. */
  static void matched(RoutingContext ctx, String operationId, String template) {
    ctx.put(OPERATION, operationId);
    ctx.put(TEMPLATE, template);
  }

  /** The bounded path label of a request: its operation's template, a fixed name, or {@link #UNMATCHED}. */
  static String template(RoutingContext ctx) {
    String template = ctx.get(TEMPLATE);
    return template == null ? UNMATCHED : template;
  }

  @Override
  public void handle(RoutingContext ctx) {
    long started = System.nanoTime();
    // once, when the answer was written whole (a stream: its last byte) or the connection closed before
    ctx.addEndHandler(ar -> done(ctx, started, ctx.response().ended()));
    ctx.next();
  }

  private void done(RoutingContext ctx, long started, boolean ended) {
    {
      long nanos = System.nanoTime() - started;
      String method = ctx.request().method().name();
      if (!MetricLabels.METHODS.contains(method)) {
        method = MetricLabels.OTHER;
      }
      int status = ended ? ctx.response().getStatusCode() : 0;
      String operation = ctx.get(OPERATION);
      if (LOG.isInfoEnabled()) {
        LOG.info("{} {} {} {}ms {}B id={}{}", method, template(ctx), status,
          String.format("%.1f", nanos / 1e6), ctx.response().bytesWritten(), RequestIds.get(ctx),
          ended ? "" : " closed");
      }
      if (metrics != null) {
        metrics.record(ctx, operation, status, nanos);
      }
    }
  }
}
