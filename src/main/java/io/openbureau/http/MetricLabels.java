package io.openbureau.http;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.config.MeterFilter;

import java.util.Set;

/**
 * Keeps the labels of the HTTP metrics bounded whatever clients send: a series is made per label
 * value, so a label must never take a value chosen by a client. The {@code method} label is one of
 * the methods of RFC 9110 (and PATCH) or {@code OTHER}: an unauthenticated client inventing methods
 * would otherwise add series without end. A raw-path label is never kept (Vert.x can add one; the
 * route label, when enabled, holds route templates, which are bounded).
 */
public final class MetricLabels {
  public static final Set<String> METHODS = Set.of("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS",
    "TRACE", "PATCH");
  public static final String OTHER = "OTHER";

  private MetricLabels() {
  }

  /** Installs the filters; call before any meter is registered. */
  public static <R extends MeterRegistry> R bound(R registry) {
    registry.config()
      .meterFilter(MeterFilter.replaceTagValues("method", m -> METHODS.contains(m) ? m : OTHER))
      .meterFilter(MeterFilter.ignoreTags("path"));
    return registry;
  }
}
