package io.openbureau.db;

import io.vertx.core.Completable;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxException;
import io.vertx.core.net.NetClientOptions;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.spi.PgDriver;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.spi.ConnectionFactory;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The Postgres driver with a bound on opening a connection (TCP connect plus the startup and
 * authentication exchange). The client's own connect timeout covers only the TCP connect: against
 * a frozen server (or a network that swallows packets) the handshake waits for ever and holds a
 * pool slot, so after a few such attempts the pool hands out nothing even once the server is back.
 * An attempt that gives up frees its slot; a connection that completes after that is closed.
 * (The transport options a pool is built with, which could time out idle reads, are not passed to
 * the connections by this client version, so the handshake is bounded here.)
 */
final class BoundedPgDriver extends PgDriver {
  private final long connectTimeoutMillis;

  BoundedPgDriver(long connectTimeoutMillis) {
    this.connectTimeoutMillis = connectTimeoutMillis;
  }

  /** A connection that could not be opened in time: Postgres is unreachable or not answering. */
  public static final class ConnectTimeoutException extends VertxException {
    ConnectTimeoutException(long millis) {
      super("Postgres did not complete the connection handshake within " + millis + " ms", true);
    }
  }

  @Override
  public ConnectionFactory<PgConnectOptions> createConnectionFactory(Vertx vertx, NetClientOptions transport) {
    ConnectionFactory<PgConnectOptions> factory = super.createConnectionFactory(vertx, transport);
    return new ConnectionFactory<>() {
      @Override
      public Future<SqlConnection> connect(Context context, PgConnectOptions options) {
        Promise<SqlConnection> bounded = Promise.promise();
        AtomicBoolean gaveUp = new AtomicBoolean();
        long timer = context.owner().setTimer(connectTimeoutMillis, t -> {
          gaveUp.set(true);
          bounded.tryFail(new ConnectTimeoutException(connectTimeoutMillis));
        });
        factory.connect(context, options).onComplete(ar -> {
          context.owner().cancelTimer(timer);
          if (ar.succeeded() && (gaveUp.get() || !bounded.tryComplete(ar.result()))) {
            ar.result().close(); // too late: the pool already counted this attempt as failed
          } else if (ar.failed()) {
            bounded.tryFail(ar.cause());
          }
        });
        return bounded.future();
      }

      @Override
      public void close(Completable<Void> completion) {
        factory.close(completion);
      }
    };
  }
}
