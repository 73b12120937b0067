package io.openbureau.ops;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.openbureau.demo.DemoSeeder;
import io.openbureau.support.TestBureau;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class QuietStartTest {
  @Test
  @DisplayName("a demo start, its walk-through and a stop log no WARN or ERROR (no gauge registered twice, no second Vert.x)")
  void quiet() {
    ListAppender<ILoggingEvent> log = new ListAppender<>();
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    log.setContext(root.getLoggerContext());
    log.start();
    root.addAppender(log);
    try {
      JsonObject overrides = new JsonObject().put("demo", new JsonObject().put("seed", true));
      try (TestBureau bureau = TestBureau.start("quiet", overrides)) {
        assertEquals(200, bureau.api.get("/health/ready", null).status());
        CompletableFuture<String> text = new CompletableFuture<>();
        // as Main does: from the bureau's start-up callback, on its event loop
        bureau.bureau().vertx().runOnContext(v -> {
          try {
            text.complete(DemoSeeder.walkthrough(bureau.config()));
          } catch (Throwable e) {
            text.completeExceptionally(e);
          }
        });
        assertTrue(TestBureau.await(text).contains("export LENDER="));
      }
    } finally {
      root.detachAppender(log);
    }
    List<String> loud;
    synchronized (log) {
      loud = log.list.stream().filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
        .map(e -> e.getLevel() + " " + e.getLoggerName() + " - " + e.getFormattedMessage()).toList();
    }
    assertEquals(List.of(), loud);
  }
}
