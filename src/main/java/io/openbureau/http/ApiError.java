package io.openbureau.http;

import java.util.List;
import java.util.Map;

/**
 * A failure meant for the client: becomes an RFC 9457 problem+json body in {@link FailureHandler}.
 * Its message is written by us for the client, never taken from an exception.
 */
public class ApiError extends RuntimeException {

  /** One invalid field of a 400 {@code invalid_request}. */
  public record FieldError(String field, String message) {
  }

  private final int status;
  private final String code;
  private final String title;
  private final List<FieldError> errors;
  private final Map<String, String> headers;
  /** The dependency ({@code postgres}, {@code redis}) a 503 is about, or null. */
  private final String dependency;

  public ApiError(int status, String code, String title, String detail, List<FieldError> errors,
                  Map<String, String> headers) {
    this(status, code, title, detail, errors, headers, null);
  }

  private ApiError(int status, String code, String title, String detail, List<FieldError> errors,
                   Map<String, String> headers, String dependency) {
    super(detail, null, false, false);
    this.dependency = dependency;
    this.status = status;
    this.code = code;
    this.title = title;
    this.errors = errors == null ? List.of() : List.copyOf(errors);
    this.headers = headers == null ? Map.of() : Map.copyOf(headers);
  }

  public ApiError(int status, String code, String title, String detail) {
    this(status, code, title, detail, null, null);
  }

  public static ApiError invalid(List<FieldError> errors) {
    String detail = errors.size() == 1
      ? errors.get(0).field() + ": " + errors.get(0).message()
      : errors.size() + " fields are invalid";
    return new ApiError(400, "invalid_request", "Invalid request", detail, errors, null);
  }

  public static ApiError invalid(String field, String message) {
    return invalid(List.of(new FieldError(field, message)));
  }

  public static ApiError unauthenticated(String detail) {
    return new ApiError(401, "unauthenticated", "Unauthenticated", detail, null,
      Map.of("WWW-Authenticate", "Bearer realm=\"openbureau\""));
  }

  public static ApiError forbidden(String detail) {
    return new ApiError(403, "forbidden", "Forbidden", detail);
  }

  public static ApiError notFound(String code, String detail) {
    return new ApiError(404, code, "Not found", detail);
  }

  public static ApiError conflict(String code, String detail) {
    return new ApiError(409, code, "Conflict", detail);
  }

  /** Seconds a client told 503 should wait before retrying (every 503 says so in {@code Retry-After}). */
  public static final int RETRY_AFTER_SECONDS = 2;

  public static ApiError unavailable(String code, String detail) {
    return new ApiError(503, code, "Service unavailable", detail, null,
      Map.of("Retry-After", Integer.toString(RETRY_AFTER_SECONDS)));
  }

  /** 503 {@code unavailable} naming the dependency that failed ({@code postgres}, {@code redis}). */
  public static ApiError dependencyUnavailable(String dependency) {
    return dependencyUnavailable("unavailable", dependency, "is unavailable; retry later");
  }

  /**
   * 503 {@code code} whose detail starts with the dependency's name ({@code postgres} is also called
   * the database), followed by {@code what}; {@link #dependency()} names it for whoever maps it further.
   */
  public static ApiError dependencyUnavailable(String code, String dependency, String what) {
    return new ApiError(503, code, "Service unavailable", named(dependency) + " " + what, null,
      Map.of("Retry-After", Integer.toString(RETRY_AFTER_SECONDS)), dependency);
  }

  private static String named(String dependency) {
    return "postgres".equals(dependency) ? "postgres (the database)" : dependency;
  }

  /** The dependency ({@code postgres}, {@code redis}) this 503 is about, or null when it names none. */
  public String dependency() {
    return dependency;
  }

  public int status() {
    return status;
  }

  public String code() {
    return code;
  }

  public String title() {
    return title;
  }

  public List<FieldError> errors() {
    return errors;
  }

  public Map<String, String> headers() {
    return headers;
  }
}
