package io.openbureau;

import io.openbureau.cli.CliLogging;
import io.openbureau.cli.ConfigCheckCommand;
import io.openbureau.cli.MaintenanceCommand;
import io.openbureau.cli.ImportCommand;
import io.openbureau.cli.TokenCommand;
import io.openbureau.cli.VerifyProofCommand;
import io.openbureau.config.BureauConfig;
import io.openbureau.config.ConfigException;
import io.openbureau.config.ConfigLoader;
import io.openbureau.demo.DemoSeeder;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Entry point. {@code serve} (default) runs the bureau; {@code demo} runs it with demo data and
 * prints development tokens and a curl walk-through; {@code token} prints a development token;
 * {@code import} imports a member's NDJSON furnishing file.
 */
public final class Main {
  private static final Logger LOG = LoggerFactory.getLogger(Main.class);

  private Main() {
  }

  public static void main(String[] args) {
    String command = args.length == 0 ? "serve" : args[0];
    String[] rest = args.length == 0 ? args : Arrays.copyOfRange(args, 1, args.length);
    Map<String, String> env = new HashMap<>(System.getenv());
    try {
      switch (command) {
        case "serve" -> serve(env, false);
        case "demo" -> serve(env, true);
        case "token" -> {
          CliLogging.toStderr();
          System.out.println(TokenCommand.run(loadConfig(env), rest));
        }
        case "maintenance" -> {
          CliLogging.toStderr();
          System.out.println(MaintenanceCommand.run(loadConfig(env), rest));
        }
        case "import" -> importFile(env, rest);
        case "config" -> configCheck(env, rest);
        case "verify-proof" -> {
          CliLogging.toStderr();
          verifyProof(rest);
        }
        case "help", "--help", "-h" -> usage(0);
        default -> usage(2);
      }
    } catch (ConfigException e) {
      System.err.println("openbureau: " + e.getMessage());
      Runtime.getRuntime().halt(2);
    } catch (IllegalArgumentException e) {
      System.err.println("openbureau: " + e.getMessage());
      usage(2);
    } catch (IllegalStateException e) {
      System.err.println("openbureau: " + e.getMessage());
      Runtime.getRuntime().halt(1);
    }
  }

  private static void usage(int status) {
    System.err.println("""
      usage: java -jar openbureau.jar [command]
        serve                              run the bureau (default)
        demo                               run with demo data; print dev tokens and a curl walk-through
        token --role ROLE --sub SUBJECT [--ttl SECONDS]
                                           print a development token (dev issuer only)
        maintenance retention [--dry-run]  drop access-log partitions older than compliance.retentionMonths
                                           (connects as postgres.migrationUser, the tables' owner)
        maintenance ageing [--dry-run]     delete negative data older than ageing.negativeDataYears now (dry run: count only)
        verify-proof PROOF.json --jwks JWKS.json
                                           check an inclusion proof (GET /v1/me/inquiries/{id}/proof)
                                           offline with the bureau's public keys; prints OK or
                                           FAILED: reason; exit 0 OK, 1 FAILED, 2 usage
        config check                       print the effective configuration (secrets masked) and every
                                           problem; exit 0 valid, 2 invalid
        import --member ID [--errors N] FILE.ndjson
                                           import a member's NDJSON furnishing file (same path as the
                                           batch endpoint); exit 0 all accepted, 1 lines rejected,
                                           3 could not run
      configuration: config/application.yaml of BUREAU_HOME (default: the directory with config/ next to
      the jar), BUREAU_CONFIG=overlay.yaml, BUREAU_<KEY> environment variables, PORT; log lines of the
      CLI commands go to stderr, their results to stdout""");
    if (status != 0) {
      Runtime.getRuntime().halt(status);
    }
  }

  static BureauConfig loadConfig(Map<String, String> env) {
    return ConfigLoader.load(baseFile(env), env);
  }

  private static String baseFile(Map<String, String> env) {
    return env.getOrDefault(ConfigLoader.BASE_VAR, ConfigLoader.DEFAULT_FILE);
  }

  private static void configCheck(Map<String, String> env, String[] args) {
    CliLogging.toStderr();
    int status = ConfigCheckCommand.run(baseFile(env), env, args, System.out, System.err);
    System.out.flush();
    System.exit(status);
  }

  private static void importFile(Map<String, String> env, String[] args) {
    CliLogging.toStderr();
    BureauConfig config = loadConfig(env);
    Logging.configure(config.jsonLogging());
    CliLogging.toStderr();
    int status = ImportCommand.run(config, args, System.out, System.err);
    System.out.flush();
    System.exit(status);
  }

  /** Offline: no configuration, no database; only the two files. */
  private static void verifyProof(String[] args) {
    int status = VerifyProofCommand.run(args, System.out, System.err);
    System.out.flush();
    System.exit(status);
  }

  private static void serve(Map<String, String> env, boolean demo) {
    BureauConfig config = loadConfig(env);
    if (demo) {
      JsonObject raw = config.raw().copy();
      raw.put("demo", new JsonObject().put("seed", true));
      config = BureauConfig.from(raw);
    }
    Logging.configure(config.jsonLogging());
    BureauConfig started = config;
    Bureau.start(config).onSuccess(bureau -> {
      installShutdownHook(bureau);
      if (demo) {
        System.out.println(DemoSeeder.walkthrough(started));
      }
    }).onFailure(e -> Runtime.getRuntime().halt(1));
  }

  /** SIGTERM: stop accepting, let in-flight requests finish, close pools, then exit. */
  private static void installShutdownHook(Bureau bureau) {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      LOG.info("shutting down");
      CountDownLatch done = new CountDownLatch(1);
      bureau.close().onComplete(ar -> done.countDown());
      try {
        done.await(bureau.config().http().shutdownGraceSeconds() + 5L, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "openbureau-shutdown"));
  }
}
