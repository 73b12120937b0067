package io.openbureau.http;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;

/**
 * JVM, GC and process metrics on the Prometheus endpoint: heap and non-heap pools
 * ({@code jvm_memory_*}), GC pauses and allocation ({@code jvm_gc_*}), threads, classes, CPU
 * ({@code process_cpu_usage}, {@code system_cpu_*}), open file descriptors ({@code process_files_*})
 * and uptime. The GC binder listens to JVM notifications: it is closed with the Vert.x instance.
 */
public final class JvmMetrics {
  private JvmMetrics() {
  }

  public static void bind(Vertx vertx, MeterRegistry registry) {
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    new FileDescriptorMetrics().bindTo(registry);
    JvmGcMetrics gc = new JvmGcMetrics();
    gc.bindTo(registry);
    if (vertx instanceof VertxInternal internal) {
      internal.addCloseHook(completion -> {
        gc.close();
        completion.succeed();
      });
    }
  }
}
