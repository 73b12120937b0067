package io.openbureau;

import io.openbureau.config.BureauConfig;

import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.channels.UnresolvedAddressException;

/**
 * Start-up failures of a dependency in words an operator can act on: which dependency, at which
 * address, set by which key, and why ("Postgres at db:5432 (postgres.host, postgres.port): unknown host").
 */
final class Dependencies {
  private Dependencies() {
  }

  static String postgres(BureauConfig.Postgres pg, Throwable e) {
    String where = "Postgres at " + pg.host() + ":" + pg.port();
    String network = networkReason(e, pg.host());
    if (network != null) {
      return where + " (postgres.host, postgres.port): " + network;
    }
    return where + " (database " + pg.database() + "): " + e.getMessage();
  }

  static String redis(BureauConfig.Redis redis, Throwable e) {
    String endpoints = String.join(", ", redis.endpoints());
    String network = networkReason(e, null);
    return "Redis at " + endpoints + " (redis.endpoints): " + (network != null ? network : String.valueOf(e.getMessage()));
  }

  /** The network-level cause in a few words, or null when the failure is not one. */
  static String networkReason(Throwable e, String host) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof UnknownHostException || t instanceof UnresolvedAddressException) {
        return "unknown host" + (host != null ? " '" + host + "'" : t.getMessage() != null ? " " + t.getMessage() : "");
      }
      if (t instanceof ConnectException) {
        return "connection refused (nothing listens there)";
      }
      if (t instanceof NoRouteToHostException) {
        return "no route to host";
      }
      if (t instanceof SocketTimeoutException) {
        return "no answer within the connect timeout";
      }
      String m = t.getMessage();
      if (m != null && m.contains("Connection refused")) {
        return "connection refused (nothing listens there)";
      }
      if (m != null && (m.contains("Failed to resolve") || m.contains("nodename nor servname") || m.contains("Name or service not known"))) {
        return "unknown host" + (host != null ? " '" + host + "'" : "");
      }
    }
    return null;
  }
}
