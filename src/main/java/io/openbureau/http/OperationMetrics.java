package io.openbureau.http;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.ext.web.RoutingContext;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Per-operation and per-feature metrics, recorded when a request's answer ends. Every label is
 * bounded: an operationId of {@code openapi.yaml}, a status class, or a fixed outcome word; never a
 * path, a member id or a national id.
 *
 * <ul>
 *   <li>{@code bureau_operation_seconds{operation,status}}: every operation (status: 2xx..5xx);</li>
 *   <li>furnishing: {@code bureau_furnishing_lines_total{result=accepted|rejected}} and
 *       {@code bureau_furnishing_batch_seconds{outcome}} (batches and single-line calls);</li>
 *   <li>consent: {@code bureau_consent_grants_total}, {@code bureau_consent_revocations_total}
 *       (successful ones) and {@code bureau_consent_requests_total{operation,outcome}};</li>
 *   <li>compliance: {@code bureau_compliance_exports_seconds{outcome}} and
 *       {@code bureau_compliance_verifies_seconds{kind=chain|checkpoints,outcome}}, a count and a
 *       duration each (an export's duration runs until its last byte).</li>
 * </ul>
 */
public final class OperationMetrics {
  static final String LINES_ACCEPTED = "openbureau.lines.accepted";
  static final String LINES_REJECTED = "openbureau.lines.rejected";

  private final MeterRegistry registry;
  private final Map<String, Timer> timers = new ConcurrentHashMap<>();
  private final Map<String, Counter> counters = new ConcurrentHashMap<>();

  public OperationMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  /** Furnishing says how many lines of the request it accepted and rejected (a batch or one line). */
  public static void lines(RoutingContext ctx, long accepted, long rejected) {
    ctx.put(LINES_ACCEPTED, accepted);
    ctx.put(LINES_REJECTED, rejected);
  }

  void record(RoutingContext ctx, String operation, int status, long nanos) {
    String statusClass = status <= 0 ? "closed" : (status / 100) + "xx";
    String outcome = status >= 200 && status < 300 ? "ok" : status <= 0 ? "closed" : status < 500 ? "refused" : "error";
    String op = operation == null ? "unmatched" : operation;
    timer("bureau.operation", "Requests by operation of openapi.yaml and status class",
      "operation", op, "status", statusClass).record(nanos, TimeUnit.NANOSECONDS);
    if (operation == null) {
      return;
    }
    switch (operation) {
      case "postBatch", "putTradeline", "postRepayment" -> {
        Long accepted = ctx.get(LINES_ACCEPTED);
        Long rejected = ctx.get(LINES_REJECTED);
        if (accepted == null && rejected == null && !"postBatch".equals(operation)) {
          // one line: its answer says what became of it
          accepted = outcome.equals("ok") ? 1L : 0L;
          rejected = status == 409 || status == 404 || status == 400 || status == 422 ? 1L : 0L;
        }
        if (accepted != null && accepted > 0) {
          counter("bureau.furnishing.lines", "Furnished lines accepted and rejected", "result", "accepted")
            .increment(accepted);
        }
        if (rejected != null && rejected > 0) {
          counter("bureau.furnishing.lines", "Furnished lines accepted and rejected", "result", "rejected")
            .increment(rejected);
        }
        if ("postBatch".equals(operation)) {
          timer("bureau.furnishing.batch", "Furnishing batches, from the first byte to the summary", "outcome", outcome)
            .record(nanos, TimeUnit.NANOSECONDS);
        }
      }
      case "grantConsent", "revokeConsent" -> {
        counter("bureau.consent.requests", "Consent grants and revocations by outcome", "operation", operation,
          "outcome", outcome).increment();
        if ("ok".equals(outcome)) {
          if ("grantConsent".equals(operation)) {
            counter("bureau.consent.grants", "Consents granted").increment();
          } else {
            counter("bureau.consent.revocations", "Consents revoked").increment();
          }
        }
      }
      case "accessLogExport" -> timer("bureau.compliance.exports", "Access-log exports, until their last byte",
        "outcome", outcome).record(nanos, TimeUnit.NANOSECONDS);
      case "accessLogVerify" -> timer("bureau.compliance.verifies", "Access-log verifications", "kind", "chain",
        "outcome", outcome).record(nanos, TimeUnit.NANOSECONDS);
      case "accessLogVerifyCheckpoints" -> timer("bureau.compliance.verifies", "Access-log verifications",
        "kind", "checkpoints", "outcome", outcome).record(nanos, TimeUnit.NANOSECONDS);
      default -> {
      }
    }
  }

  private Timer timer(String name, String description, String... tags) {
    return timers.computeIfAbsent(name + String.join("|", tags), k -> Timer.builder(name).description(description)
      .tags(tags).register(registry));
  }

  private Counter counter(String name, String description, String... tags) {
    return counters.computeIfAbsent(name + String.join("|", tags), k -> Counter.builder(name).description(description)
      .tags(tags).register(registry));
  }
}
