package io.openbureau.support;

import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;

import java.util.ArrayList;
import java.util.List;

/**
 * A loopback TCP proxy in front of Postgres or Redis that a test can cut: {@link #cut()} closes
 * every open connection and refuses new ones, like a dependency that became unreachable.
 */
public final class TcpProxy implements AutoCloseable {
  private final Vertx vertx = Vertx.vertx();
  private final NetServer server;
  private final NetClient client;
  private final List<NetSocket> sockets = new ArrayList<>();
  private volatile boolean cut;
  private volatile boolean blackhole;
  private volatile boolean frozen;

  public TcpProxy(int targetPort) {
    client = vertx.createNetClient();
    server = vertx.createNetServer().connectHandler(in -> {
      if (cut) {
        in.close();
        return;
      }
      in.pause();
      client.connect(targetPort, "127.0.0.1").onSuccess(out -> {
        synchronized (sockets) {
          sockets.add(in);
          sockets.add(out);
        }
        in.handler(b -> {
          if (!blackhole) {
            out.write(b);
          }
        });
        out.handler(b -> {
          if (!blackhole) {
            in.write(b);
          }
        });
        in.closeHandler(v -> out.close());
        out.closeHandler(v -> in.close());
        if (frozen) {
          out.pause();
        } else {
          in.resume();
        }
      }).onFailure(e -> in.close());
    });
    TestBureau.await(server.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture());
  }

  public int port() {
    return server.actualPort();
  }

  public void cut() {
    cut = true;
    synchronized (sockets) {
      sockets.forEach(NetSocket::close);
      sockets.clear();
    }
  }

  public void restore() {
    cut = false;
    blackhole = false;
    if (frozen) {
      thaw();
    }
  }

  /**
   * Connections stay open and nothing moves until {@link #thaw()}, then everything sent meanwhile
   * is delivered (TCP over a link that froze and came back: nothing is lost, all of it is late).
   */
  public void freeze() {
    frozen = true;
    synchronized (sockets) {
      sockets.forEach(NetSocket::pause);
    }
  }

  public void thaw() {
    frozen = false;
    synchronized (sockets) {
      sockets.forEach(NetSocket::resume);
    }
  }

  /** Connections stay open but nothing gets through (a stalled server or a network partition). */
  public void blackhole() {
    blackhole = true;
  }

  @Override
  public void close() {
    cut();
    vertx.close();
  }
}
