package io.openbureau.support;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A throw-away three-master Redis Cluster of local {@code redis-server} processes on free
 * loopback ports, in a temporary directory (no persistence). Closed: processes killed, files gone.
 */
public final class RedisCluster implements AutoCloseable {
  private final List<Process> nodes = new ArrayList<>();
  private final List<Integer> ports = new ArrayList<>();
  private final Path dir;

  public RedisCluster(int masters) {
    try {
      dir = Files.createTempDirectory("ob-redis-cluster");
      for (int i = 0; i < masters; i++) {
        int port = TestBureau.freePort();
        ports.add(port);
        Path nodeDir = Files.createDirectories(dir.resolve(Integer.toString(port)));
        nodes.add(new ProcessBuilder("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
          "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--save", "", "--appendonly", "no",
          "--dir", nodeDir.toString())
          .redirectErrorStream(true).redirectOutput(nodeDir.resolve("log").toFile()).start());
      }
      for (int port : ports) {
        waitFor("redis-cli", "-p", Integer.toString(port), "ping");
      }
      List<String> create = new ArrayList<>(List.of("redis-cli", "--cluster", "create"));
      ports.forEach(p -> create.add("127.0.0.1:" + p));
      create.addAll(List.of("--cluster-replicas", "0", "--cluster-yes"));
      run(create);
      for (int i = 0; i < 100; i++) {
        String info = output(List.of("redis-cli", "-p", Integer.toString(ports.get(0)), "cluster", "info"));
        if (info.contains("cluster_state:ok")) {
          return;
        }
        Thread.sleep(100);
      }
      throw new IllegalStateException("the Redis Cluster did not become ready");
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** {@code redis://127.0.0.1:port} of every node. */
  public List<String> endpoints() {
    return ports.stream().map(p -> "redis://127.0.0.1:" + p).toList();
  }

  /** Deletes every key on every node (what a FLUSHALL of the cluster does). */
  public void flushAll() {
    for (int port : ports) {
      run(List.of("redis-cli", "-p", Integer.toString(port), "flushall"));
    }
  }

  private static void waitFor(String... command) throws InterruptedException {
    for (int i = 0; i < 100; i++) {
      if (output(List.of(command)).contains("PONG")) {
        return;
      }
      Thread.sleep(50);
    }
    throw new IllegalStateException("redis node did not start: " + String.join(" ", command));
  }

  private static void run(List<String> command) {
    output(command);
  }

  private static String output(List<String> command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes());
      p.waitFor(30, TimeUnit.SECONDS);
      return out;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    nodes.forEach(Process::destroyForcibly);
    for (Process p : nodes) {
      try {
        p.waitFor(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    try (var files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
    } catch (IOException e) {
      // temporary files only
    }
  }
}
