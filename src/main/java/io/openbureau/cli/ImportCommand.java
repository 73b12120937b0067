package io.openbureau.cli;

import io.openbureau.cache.RedisStore;
import io.openbureau.config.BureauConfig;
import io.openbureau.db.Database;
import io.openbureau.db.PrivilegeCheck;
import io.openbureau.furnishing.BatchIngest;
import io.openbureau.furnishing.FurnishingService;
import io.openbureau.identity.BorrowerKeys;
import io.openbureau.members.MemberRepository;
import io.openbureau.scoring.ScoreStore;
import io.openbureau.scoring.Scorecard;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.file.AsyncFile;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@code import --member ID [--errors N] FILE.ndjson}: imports a member's NDJSON furnishing file
 * (a bureau onboarding a member's historical book) in-process, through the same code as {@code
 * POST /v1/furnishing/batches} ({@link BatchIngest}): same validation, chunked transactions,
 * scores recomputed and published to Redis. The file is streamed, so its size does not matter.
 *
 * <p>Progress goes to stderr (one line redrawn every 500 ms on a terminal, a log line every 5 s
 * otherwise); the summary goes to stdout. Exit status: 0 every line accepted, 1 some lines
 * rejected (listed with their line numbers), 2 usage, 3 the import could not run (unknown or
 * suspended member, unreadable file, database or Redis failure). A chunk committed while Redis
 * failed keeps its scores marked unpublished in Postgres: the running servers' repair loop
 * ({@link io.openbureau.scoring.ScoreRepublisher}) publishes them, and re-running the import is safe.
 */
public final class ImportCommand {
  public static final int OK = 0;
  public static final int REJECTED_LINES = 1;
  public static final int USAGE = 2;
  public static final int FAILED = 3;
  static final int DEFAULT_LISTED_ERRORS = 20;

  private ImportCommand() {
  }

  /** Thrown for a refusal that is the caller's to fix (no stack trace, its message is the whole story). */
  static final class Refused extends RuntimeException {
    Refused(String message) {
      super(message, null, false, false);
    }
  }

  public static int run(BureauConfig config, String[] args, PrintStream out, PrintStream err) {
    String member = null;
    String file = null;
    int listed = DEFAULT_LISTED_ERRORS;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--member" -> member = value(args, ++i, "--member");
        case "--errors" -> listed = Integer.parseInt(value(args, ++i, "--errors"));
        default -> {
          if (args[i].startsWith("--") || file != null) {
            throw new IllegalArgumentException("import: unexpected argument " + args[i]);
          }
          file = args[i];
        }
      }
    }
    if (member == null || member.isBlank()) {
      throw new IllegalArgumentException("import: --member is required");
    }
    if (file == null) {
      throw new IllegalArgumentException("import: the NDJSON file is required");
    }
    // dates judged in the business zone, late-arriving old data aged with the configured limit (as in the server)
    io.openbureau.config.BusinessTime.configure(io.openbureau.config.BusinessTime.from(config));
    io.openbureau.ageing.AgeingSettings.configure(config);
    Path path = Path.of(file);
    String unreadable = unreadable(path);
    if (unreadable != null) {
      err.println("openbureau import: cannot read " + file + ": " + unreadable);
      return FAILED;
    }
    Vertx vertx = Vertx.vertx();
    try {
      CompletableFuture<Integer> status = new CompletableFuture<>();
      String memberId = member;
      int errorsToList = listed;
      vertx.getOrCreateContext().runOnContext(v -> importFile(vertx, config, memberId, path, out, err, errorsToList)
        .onComplete(ar -> {
          if (ar.succeeded()) {
            status.complete(ar.result());
          } else {
            Throwable e = ar.cause();
            err.println("openbureau import: " + (e instanceof Refused ? "" : "failed: ") + e.getMessage());
            status.complete(FAILED);
          }
        }));
      return status.join();
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().orTimeout(30, TimeUnit.SECONDS).exceptionally(e -> null)
        .join();
    }
  }

  /** Why a file cannot be imported ("no such file", "permission denied", "is a directory"), or null. */
  static String unreadable(Path path) {
    if (Files.isDirectory(path)) {
      return "is a directory";
    }
    if (!Files.exists(path)) {
      return "no such file";
    }
    if (!Files.isReadable(path)) {
      return "permission denied";
    }
    return Files.isRegularFile(path) ? null : "not a regular file";
  }

  private static String value(String[] args, int i, String option) {
    if (i >= args.length) {
      throw new IllegalArgumentException("import: " + option + " needs a value");
    }
    return args[i];
  }

  /** Runs on one Vert.x context. */
  private static Future<Integer> importFile(Vertx vertx, BureauConfig config, String member, Path path,
                                           PrintStream out, PrintStream err, int listed) {
    return Database.prepare(vertx, config.postgres())
      .compose(v -> vertx.executeBlocking(() -> Scorecard.load(Path.of(config.scorecardFile()))))
      .compose(scorecard -> {
        Pool pool = Database.pool(vertx, config.postgres(), 2);
        RedisStore redis = RedisStore.create(vertx, config.redis());
        FurnishingService service = new FurnishingService(pool, new ScoreStore(scorecard, redis, pool));
        BorrowerKeys keys = new BorrowerKeys(config.identity().hmacKeyId(), config.identity().hmacSecret());
        return PrivilegeCheck.run(pool, config)
          .compose(v -> new MemberRepository(pool).find(member))
          .compose(m -> {
            if (m == null) {
              return Future.failedFuture(new Refused("member " + member + " does not exist"));
            }
            if (!m.active()) {
              return Future.failedFuture(new Refused("member " + member + " is " + m.status()
                + "; only an ACTIVE member can furnish"));
            }
            return vertx.fileSystem().open(path.toString(), new OpenOptions().setRead(true).setWrite(false)
              .setCreate(false));
          })
          .compose(file -> run(vertx, file, new BatchIngest(service, keys, member), path, member, out, err, listed)
            .eventually(file::close))
          .eventually(() -> Future.join(pool.close(), redis.close()));
      });
  }

  private static Future<Integer> run(Vertx vertx, AsyncFile file, BatchIngest ingest, Path path, String member,
                                     PrintStream out, PrintStream err, int listed) {
    long size;
    try {
      size = Files.size(path);
    } catch (java.io.IOException e) {
      return Future.failedFuture(new Refused("cannot read " + path + ": " + e.getMessage()));
    }
    Progress progress = new Progress(ingest, size, err, stderrIsTerminal());
    long timer = vertx.setPeriodic(progress.interval(), id -> progress.print(false));
    file.setReadBufferSize(64 * 1024);
    return ingest.run(file)
      .eventually(() -> {
        vertx.cancelTimer(timer);
        progress.print(true);
        return Future.succeededFuture();
      })
      .map(summary -> {
        double seconds = progress.seconds();
        out.println(summaryText(path, member, summary, seconds, listed));
        out.flush();
        return summary.rejected() == 0 ? OK : REJECTED_LINES;
      });
  }

  static String summaryText(Path path, String member, BatchIngest.Summary s, double seconds, int listed) {
    StringBuilder b = new StringBuilder();
    b.append("import of ").append(path).append(" for member ").append(member).append('\n');
    b.append(String.format(Locale.ROOT, "lines     %,d%naccepted  %,d%nrejected  %,d%nseconds   %.1f%nlines/s   %,d",
      s.lines(), s.accepted(), s.rejected(), seconds, Math.round(s.lines() / Math.max(seconds, 0.001))));
    int shown = Math.min(listed, s.errors().size());
    if (shown > 0) {
      b.append(String.format(Locale.ROOT, "%nfirst %d of %,d rejected lines:", shown, s.rejected()));
      for (JsonObject e : s.errors().subList(0, shown)) {
        b.append(String.format(Locale.ROOT, "%n  line %d: %s: %s", e.getInteger("line"), e.getString("code"),
          e.getString("message")));
      }
    }
    return b.toString();
  }

  /** Whether stderr is a terminal (Linux: fd 2 is a tty or pty); otherwise progress is plain log lines. */
  static boolean stderrIsTerminal() {
    try {
      String target = Files.readSymbolicLink(Path.of("/proc/self/fd/2")).toString();
      return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
    } catch (Exception e) {
      return System.console() != null;
    }
  }

  /** The progress line: lines and bytes done, percent of the file, lines/s. */
  static final class Progress {
    private final BatchIngest ingest;
    private final long size;
    private final PrintStream err;
    private final boolean terminal;
    private final long started = System.nanoTime();

    Progress(BatchIngest ingest, long size, PrintStream err, boolean terminal) {
      this.ingest = ingest;
      this.size = size;
      this.err = err;
      this.terminal = terminal;
    }

    long interval() {
      return terminal ? 500 : 5000;
    }

    double seconds() {
      return (System.nanoTime() - started) / 1e9;
    }

    void print(boolean last) {
      double pct = size == 0 ? 100 : Math.min(100.0, ingest.bytes() * 100.0 / size);
      int width = 30;
      int filled = (int) Math.round(pct / 100 * width);
      String line = String.format(Locale.ROOT, "[%s%s] %5.1f%%  %,d lines  %s / %s  %,d lines/s  %,d rejected  %s",
        "#".repeat(filled), ".".repeat(width - filled), pct, ingest.lines(), mb(ingest.bytes()), mb(size),
        Math.round(ingest.lines() / Math.max(seconds(), 0.001)), ingest.rejected(), eta(last));
      if (terminal) {
        err.print("\r" + line + (last ? "\n" : ""));
      } else {
        err.println("import: " + line);
      }
      err.flush();
    }

    /** Time left at the average byte rate so far (bytes, not lines: the file's size is known, its line count is not). */
    private String eta(boolean last) {
      long done = ingest.bytes();
      if (last || size == 0 || done >= size) {
        return "ETA 0:00:00";
      }
      if (done == 0) {
        return "ETA --:--:--";
      }
      long left = Math.round((size - done) * seconds() / done);
      return String.format(Locale.ROOT, "ETA %d:%02d:%02d", left / 3600, left / 60 % 60, left % 60);
    }

    private static String mb(long bytes) {
      return String.format(Locale.ROOT, "%.1f MB", bytes / 1048576.0);
    }
  }
}
