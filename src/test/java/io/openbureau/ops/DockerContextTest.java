package io.openbureau.ops;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Docker does not run here: the Dockerfile and .dockerignore are read instead. The build context is
 * the repository minus what .dockerignore excludes; the production image (the last stage and the
 * stages it is built FROM) must take nothing from it that is a development key.
 */
class DockerContextTest {
  private static final Path ROOT = Path.of("").toAbsolutePath();

  private record Stage(String name, String from, List<String> lines) {
  }

  @Test
  @DisplayName("the production image's COPY lines take no development key from the build context, which has none")
  void noDevelopmentKeysInProduction() throws IOException {
    List<Path> context = context();
    assertFalse(context.isEmpty());
    List<Path> keys = context.stream().filter(DockerContextTest::isKey).toList();
    assertEquals(List.of(), keys, "private keys in the build context (see .dockerignore)");

    List<Stage> lineage = productionLineage();
    for (Stage stage : lineage) {
      for (String line : stage.lines()) {
        String[] words = line.trim().split("\\s+");
        if (!words[0].equalsIgnoreCase("COPY") && !words[0].equalsIgnoreCase("ADD")) {
          continue;
        }
        List<String> args = new ArrayList<>();
        String from = null;
        for (int i = 1; i < words.length; i++) {
          if (words[i].startsWith("--from=")) {
            from = words[i].substring("--from=".length());
          } else if (!words[i].startsWith("--")) {
            args.add(words[i]);
          }
        }
        if (from != null) {
          String source = from;
          assertTrue(stages().stream().anyMatch(s -> s.name().equals(source)),
            "stage " + stage.name() + " copies from the named context " + from + " (dev keys come that way)");
          continue;
        }
        for (String source : args.subList(0, args.size() - 1)) {
          List<Path> copied = context.stream().filter(p -> p.startsWith(Path.of(source).normalize()) || p.equals(Path.of(source)))
            .toList();
          assertFalse(copied.isEmpty(), line + ": " + source + " is not in the build context");
          for (Path p : copied) {
            assertFalse(isKey(p) || p.startsWith("config/dev"), stage.name() + ": " + line + " copies " + p);
          }
        }
      }
    }
  }

  @Test
  @DisplayName("the production image has a HEALTHCHECK on /health/ready, and the demo image is a separate target")
  void healthCheckAndTargets() throws IOException {
    assertTrue(productionLineage().stream().flatMap(s -> s.lines().stream())
      .anyMatch(l -> l.startsWith("HEALTHCHECK") && l.contains("/health/ready")), "no HEALTHCHECK against /health/ready");
    List<Stage> stages = stages();
    assertFalse(stages.get(stages.size() - 1).name().equals("demo"), "the default target is the demo image");
    assertTrue(stages.stream().anyMatch(s -> s.name().equals("demo")));
    String compose = Files.readString(ROOT.resolve("docker/compose.yaml"));
    assertTrue(compose.contains("target: demo"), "compose runs demo mode: it must build the demo target");
  }

  private static boolean isKey(Path p) {
    if (p.toString().endsWith(".key.pem")) {
      return true;
    }
    try {
      return Files.size(ROOT.resolve(p)) < 1_000_000 && Files.readString(ROOT.resolve(p)).contains("PRIVATE KEY-----\n")
        && !p.toString().endsWith(".java");
    } catch (IOException | java.io.UncheckedIOException e) {
      return false; // binary
    }
  }

  /** The last stage and the stages it is FROM, in order. */
  private static List<Stage> productionLineage() throws IOException {
    List<Stage> stages = stages();
    Map<String, Stage> byName = new LinkedHashMap<>();
    stages.forEach(s -> byName.put(s.name(), s));
    List<Stage> lineage = new ArrayList<>();
    Stage s = stages.get(stages.size() - 1);
    while (s != null) {
      lineage.add(0, s);
      s = byName.get(s.from());
    }
    return lineage;
  }

  private static List<Stage> stages() throws IOException {
    List<Stage> stages = new ArrayList<>();
    List<String> current = null;
    String joined = Files.readString(ROOT.resolve("docker/Dockerfile")).replaceAll("\\\\\n\\s*", " ");
    for (String raw : joined.split("\n")) {
      String line = raw.trim();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      if (line.regionMatches(true, 0, "FROM ", 0, 5)) {
        String[] w = line.split("\\s+");
        String name = w.length >= 4 && w[2].equalsIgnoreCase("AS") ? w[3] : "stage" + stages.size();
        current = new ArrayList<>();
        stages.add(new Stage(name, w[1], current));
      } else if (current != null) {
        current.add(line);
      }
    }
    return stages;
  }

  /** The files of the build context: the repository's files (as git sees them) not excluded by .dockerignore. */
  private static List<Path> context() throws IOException {
    List<String[]> rules = new ArrayList<>(); // {negated?, pattern}
    for (String raw : Files.readAllLines(ROOT.resolve(".dockerignore"))) {
      String line = raw.trim();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      boolean negated = line.startsWith("!");
      rules.add(new String[] {negated ? "!" : "", (negated ? line.substring(1) : line).replaceAll("^/+", "")});
    }
    try (Stream<Path> files = Files.walk(ROOT)) {
      return files.filter(Files::isRegularFile).map(ROOT::relativize)
        .filter(p -> !p.startsWith(".git") && !p.startsWith("target"))
        .filter(p -> !excluded(p, rules)).toList();
    }
  }

  private static boolean excluded(Path p, List<String[]> rules) {
    boolean out = false;
    for (String[] rule : rules) {
      PathMatcher m = FileSystems.getDefault().getPathMatcher("glob:" + rule[1]);
      boolean matches = false;
      // a pattern that matches a directory excludes what is under it
      for (Path prefix = p; prefix != null; prefix = prefix.getParent()) {
        if (m.matches(prefix) || (rule[1].startsWith("**/") && FileSystems.getDefault()
          .getPathMatcher("glob:" + rule[1].substring(3)).matches(prefix))) {
          matches = true;
          break;
        }
      }
      if (matches) {
        out = rule[0].isEmpty();
      }
    }
    return out;
  }
}
