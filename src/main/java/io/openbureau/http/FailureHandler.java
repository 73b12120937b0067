package io.openbureau.http;

import io.openbureau.config.BureauConfig;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;
import io.vertx.json.schema.OutputUnit;
import io.vertx.openapi.validation.SchemaValidationException;
import io.vertx.openapi.validation.ValidatorException;
import io.vertx.pgclient.PgException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one place where failures become RFC 9457 problem+json. Clients see a code and a message we
 * wrote; the cause of a 5xx is logged with the request id and never sent.
 */
public final class FailureHandler implements Handler<RoutingContext> {
  private static final Logger LOG = LoggerFactory.getLogger(FailureHandler.class);
  public static final String PROBLEM_JSON = "application/problem+json";
  private static final String TYPE_BASE = "https://openbureau.dev/problems/";
  private static final Pattern REQUIRED = Pattern.compile("required property \"?'?([A-Za-z0-9_]+)");
  private static final Pattern ADDITIONAL = Pattern.compile("(?:additional|unevaluated) propert(?:y|ies) \"?'?([A-Za-z0-9_]+)",
    Pattern.CASE_INSENSITIVE);
  private static final Pattern PARAMETER = Pattern.compile("(query|path|header|cookie) parameter ([A-Za-z0-9_-]+)");

  /** Ports of Postgres and Redis, to name the dependency of a bare "connection refused". */
  private final int postgresPort;
  private final Set<Integer> redisPorts;

  public FailureHandler() {
    this(-1, Set.of());
  }

  public FailureHandler(BureauConfig config) {
    this(config.postgres().port(), redisPorts(config.redis().endpoints()));
  }

  private FailureHandler(int postgresPort, Set<Integer> redisPorts) {
    this.postgresPort = postgresPort;
    this.redisPorts = redisPorts;
  }

  private static Set<Integer> redisPorts(List<String> endpoints) {
    Set<Integer> ports = new java.util.HashSet<>();
    for (String e : endpoints) {
      Matcher m = Pattern.compile(":(\\d+)(?:/|$)").matcher(e.replaceFirst("^[a-z]+://", ""));
      ports.add(m.find() ? Integer.parseInt(m.group(1)) : 6379);
    }
    return Set.copyOf(ports);
  }

  @Override
  public void handle(RoutingContext ctx) {
    if (ctx.failure() instanceof io.vertx.core.http.HttpClosedException || ctx.response().closed()
      || ctx.failure() instanceof io.netty.handler.codec.http2.Http2Exception.StreamException) {
      // the client went away mid-answer (a file or stream being sent; an HTTP/2 stream it reset):
      // nobody to answer, nothing of ours broke
      LOG.debug("request {}: the client closed the connection before the answer ended", RequestIds.get(ctx));
      return;
    }
    ApiError error = toApiError(ctx);
    HttpServerResponse response = ctx.response();
    if (response.headWritten()) {
      // a streamed response broke half-way: nothing sensible can be sent any more
      String dependency = unavailableDependency(ctx.failure());
      if (dependency != null) {
        OutageLog.of(dependency).failed(ctx.request().method() + " " + ctx.normalizedPath(), ctx.failure());
      } else {
        LOG.warn("request {} failed after the response started", RequestIds.get(ctx), ctx.failure());
      }
      response.reset();
      return;
    }
    send(ctx, error);
  }

  public static void send(RoutingContext ctx, ApiError error) {
    send(ctx.response(), error, RequestIds.ensure(ctx));
  }

  /** The problem+json answer itself, also for requests that never reach the router (see {@link LowLevelErrors}). */
  static void send(HttpServerResponse response, ApiError error, String requestId) {
    JsonObject body = new JsonObject()
      .put("type", TYPE_BASE + error.code())
      .put("title", error.title())
      .put("status", error.status())
      .put("code", error.code())
      .put("detail", error.getMessage())
      .put("requestId", requestId);
    if (!error.errors().isEmpty()) {
      JsonArray errs = new JsonArray();
      error.errors().forEach(f -> errs.add(new JsonObject().put("field", f.field()).put("message", f.message())));
      body.put("errors", errs);
    }
    error.headers().forEach(response::putHeader);
    response.setStatusCode(error.status())
      .putHeader("Content-Type", PROBLEM_JSON)
      .putHeader("Cache-Control", "no-store")
      .end(body.toBuffer());
  }

  private ApiError toApiError(RoutingContext ctx) {
    Throwable failure = ctx.failure();
    if (failure instanceof ApiError api) {
      return api;
    }
    // a 503 someone answered with ctx.fail(503, cause): name the dependency when the cause does
    if (failure instanceof HttpException http && http.getStatusCode() == 503 && unavailableDependency(http.getCause()) != null) {
      failure = http.getCause();
    }
    if (failure instanceof HttpException http && http.getCause() instanceof ValidatorException v) {
      return fromValidation(v);
    }
    if (failure instanceof ValidatorException v) {
      return fromValidation(v);
    }
    if (failure instanceof DecodeException) {
      return ApiError.invalid("body", "is not valid JSON");
    }
    if (brokenInTransit(ctx, failure)) {
      // the HTTP decoder refused the body (bad chunking, ...); Vert.x closes the connection too
      return ApiError.invalid("body", "could not be read: it is not well-formed HTTP/1.1");
    }
    if (failure instanceof PgException pg) {
      ApiError mapped = fromPostgres(pg);
      if (mapped != null) {
        return mapped;
      }
    }
    String dependency = unavailableDependency(failure);
    if (dependency != null) {
      // an outage is logged once (OutageLog), not once per request, and without a stack trace
      OutageLog.of(dependency).failed(ctx.request().method() + " " + ctx.normalizedPath(), failure);
      return ApiError.dependencyUnavailable(dependency);
    }
    int status = ctx.statusCode();
    if (failure instanceof HttpException http) {
      status = http.getStatusCode();
    }
    return switch (status) {
      case 400 -> ApiError.invalid("body", "is malformed");
      case 401 -> ApiError.unauthenticated("authentication required");
      case 403 -> ApiError.forbidden("not allowed");
      case 404 -> ApiError.notFound("not_found", "no such resource: " + ctx.request().path());
      case 405 -> new ApiError(405, "method_not_allowed", "Method not allowed",
        ctx.request().method() + " is not allowed on " + ctx.request().path());
      case 413 -> new ApiError(413, "payload_too_large", "Payload too large", "the request body is too large");
      case 415 -> new ApiError(415, "unsupported_media_type", "Unsupported media type",
        "Content-Type must be application/json");
      default -> internal(ctx, failure, status);
    };
  }

  /** A body the HTTP decoder failed on while it was being read: the client's error, not ours. */
  private static boolean brokenInTransit(RoutingContext ctx, Throwable failure) {
    if (failure == null || ctx.request().isEnded()) {
      return false;
    }
    StackTraceElement[] trace = failure.getStackTrace();
    return trace.length > 0 && trace[0].getClassName().startsWith("io.netty.handler.codec.");
  }

  private ApiError internal(RoutingContext ctx, Throwable failure, int status) {
    if (status == 503) {
      return ApiError.unavailable("unavailable", "a dependency is unavailable; retry later");
    }
    LOG.error("request {} {} {} failed", RequestIds.get(ctx), ctx.request().method(), ctx.request().path(), failure);
    return new ApiError(500, "internal_error", "Internal error",
      "the request could not be completed; quote the request id when reporting it");
  }

  /** Constraint violations that reach here are client errors we did not pre-check; others are ours. */
  private static ApiError fromPostgres(PgException pg) {
    return switch (String.valueOf(pg.getSqlState())) {
      case "23505" -> ApiError.conflict("conflict", "the resource already exists");
      case "23503" -> ApiError.notFound("not_found", "a referenced resource does not exist");
      default -> null;
    };
  }

  /**
   * SQLSTATEs that say the database, not the request, is the problem: connection exceptions (08),
   * too many connections (53300), statement timeout or cancel (57014), admin / crash shutdown and
   * "cannot connect now" (57P01-57P04), a lock not granted within lock_timeout (55P03).
   */
  static boolean postgresUnavailable(String sqlState) {
    return sqlState != null && (sqlState.startsWith("08") || sqlState.startsWith("57P")
      || sqlState.equals("57014") || sqlState.equals("53300") || sqlState.equals("55P03"));
  }

  /**
   * The dependency ({@code postgres}, {@code redis}) a connection-level failure comes from, or null
   * when the failure is not one: refused, reset or closed connections, a pool that handed out no
   * connection in time, a statement cut by statement_timeout, a server shutting down. Vert.x
   * reports most of them as stackless exceptions whose class names no dependency, so the client
   * library's package, the message and the refused port decide.
   */
  public String unavailableDependency(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      String dependency = dependencyOf(t);
      if (dependency != null) {
        return dependency;
      }
    }
    return null;
  }

  private String dependencyOf(Throwable t) {
    String type = t.getClass().getName();
    String message = t.getMessage() == null ? "" : t.getMessage();
    if (t instanceof ApiError api) {
      return api.status() == 503 ? api.dependency() : null;
    }
    if (t instanceof PgException pg) {
      return postgresUnavailable(pg.getSqlState()) ? "postgres" : null;
    }
    if (t instanceof io.vertx.sqlclient.ClosedConnectionException || type.startsWith("io.vertx.pgclient.")
      || type.startsWith("io.openbureau.db.")
      || type.startsWith("io.vertx.sqlclient.")) {
      return "postgres";
    }
    if (t instanceof java.sql.SQLException sql) { // JDBC: verify's fast pass
      return postgresUnavailable(sql.getSQLState()) ? "postgres" : null;
    }
    if (t instanceof io.vertx.core.impl.NoStackTraceThrowable && "Timeout".equals(message)) {
      return "postgres"; // the SQL pool's connection wait, as reported through withTransaction
    }
    if (type.startsWith("io.vertx.redis.")) {
      return "redis";
    }
    if (message.startsWith("Connection is not active now") || message.startsWith("Timeout waiting for connection")) {
      return "postgres"; // the SQL client's pool and socket (the Redis client words its own differently)
    }
    if (t instanceof java.net.ConnectException || t instanceof io.netty.channel.ConnectTimeoutException
      || t instanceof java.nio.channels.ClosedChannelException || t instanceof java.net.SocketException
      || (t instanceof java.io.IOException && message.contains("Connection reset"))) {
      Matcher port = Pattern.compile(":(\\d+)\\b").matcher(message);
      while (port.find()) {
        int p = Integer.parseInt(port.group(1));
        if (p == postgresPort) {
          return "postgres";
        }
        if (redisPorts.contains(p)) {
          return "redis";
        }
      }
      // the SQL client wraps its closed sockets (ClosedConnectionException): a bare closed channel is Redis's
      return t instanceof java.nio.channels.ClosedChannelException ? "redis" : "a dependency";
    }
    if (t instanceof io.vertx.core.impl.NoStackTraceTimeoutException || t instanceof java.util.concurrent.TimeoutException) {
      return "a dependency";
    }
    return null;
  }

  static ApiError fromValidation(ValidatorException v) {
    List<ApiError.FieldError> errors = new ArrayList<>();
    if (v instanceof SchemaValidationException s && s.getOutputUnit() != null) {
      Map<String, String> byField = new LinkedHashMap<>();
      collect(s.getOutputUnit(), byField, parameterName(v.getMessage()));
      byField.forEach((f, m) -> errors.add(new ApiError.FieldError(f, m)));
    }
    if (errors.isEmpty()) {
      String param = parameterName(v.getMessage());
      String field = param != null ? param : "body";
      String message = switch (v.type()) {
        case MISSING_REQUIRED_PARAMETER -> field.equals("body") ? "a JSON body is required" : "is required";
        case INVALID_VALUE_FORMAT, ILLEGAL_VALUE -> "is malformed";
        case UNSUPPORTED_VALUE_FORMAT -> "has an unsupported content type";
        default -> "is invalid";
      };
      if (field.equals("body") && v.getMessage() != null && v.getMessage().contains("content type")) {
        return new ApiError(415, "unsupported_media_type", "Unsupported media type",
          "Content-Type must be application/json");
      }
      errors.add(new ApiError.FieldError(field, message));
    }
    return ApiError.invalid(errors);
  }

  private static String parameterName(String message) {
    if (message == null) {
      return null;
    }
    Matcher m = PARAMETER.matcher(message);
    return m.find() ? m.group(2) : null;
  }

  /**
   * Flattens the schema library's output into one message per field. Its quirks: a failing known
   * property is reported three times (the leaf error, a "does not match schema" wrapper and an
   * "additional properties" error), so the leaf wins and "not a known field" is kept only for
   * properties with no other error.
   */
  private static void collect(OutputUnit root, Map<String, String> out, String parameter) {
    List<OutputUnit> leaves = new ArrayList<>();
    flatten(root, leaves);
    Map<String, String> specific = new LinkedHashMap<>();
    Map<String, String> unknown = new LinkedHashMap<>();
    for (OutputUnit unit : leaves) {
      String error = unit.getError().replaceAll("\\s+", " ").trim();
      String field = pointerToField(unit.getInstanceLocation());
      Matcher req = REQUIRED.matcher(error);
      Matcher add = ADDITIONAL.matcher(error);
      if (req.find()) {
        specific.putIfAbsent(join(field, req.group(1)), "is required");
      } else if (add.find()) {
        unknown.putIfAbsent(field.isEmpty() ? add.group(1) : field, "is not a known field");
      } else if (!error.matches("Property \".*\" does not match schema") && !error.startsWith("A subschema had errors")) {
        specific.putIfAbsent(field.isEmpty() ? (parameter != null ? parameter : "body") : field, humanize(error));
      }
    }
    out.putAll(specific);
    unknown.forEach(out::putIfAbsent);
  }

  private static void flatten(OutputUnit unit, List<OutputUnit> leaves) {
    if (unit.getErrors() != null && !unit.getErrors().isEmpty()) {
      unit.getErrors().forEach(child -> flatten(child, leaves));
    } else if (unit.getError() != null) {
      leaves.add(unit);
    }
  }

  private static String join(String parent, String child) {
    return parent.isEmpty() ? child : parent + "." + child;
  }

  private static String pointerToField(String pointer) {
    if (pointer == null || pointer.isEmpty() || pointer.equals("#") || pointer.equals("/")) {
      return "";
    }
    String p = pointer.startsWith("#") ? pointer.substring(1) : pointer;
    p = p.startsWith("/") ? p.substring(1) : p;
    return p.replace('/', '.').replace("~1", "/").replace("~0", "~");
  }

  /** The schema library's messages are fine for people; strip anything that looks internal. */
  private static String humanize(String error) {
    String e = error.replaceAll("\\s+", " ").trim();
    if (e.equals("String does not match pattern")) {
      return "has an invalid format";
    }
    if (e.length() > 200) {
      e = e.substring(0, 200);
    }
    return e;
  }
}
