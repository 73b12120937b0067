package io.openbureau.notifications;

import io.openbureau.http.ApiError;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A member's webhook URL must not make the bureau call into its own network: http(s) only, no
 * credentials in it, and every address its host resolves to outside loopback, link-local
 * (169.254.0.0/16 with the clouds' metadata services, fe80::/10), "this host" (0.0.0.0, ::),
 * private and carrier-grade ranges (10/8, 172.16/12, 192.168/16, 100.64/10 — Alibaba Cloud's
 * metadata is 100.100.100.200 —, fc00::/7) and multicast; metadata host names are refused by name.
 * {@code notifications.allowPrivateTargets} lifts the loopback and private rules (tests, development);
 * link-local, "this host" and metadata targets are refused whatever it says.
 * Checked at PUT ({@link #check}) and again at every delivery ({@link #target}): the host is
 * resolved anew, every address it resolves to must pass, and the delivery connects to the address
 * checked (the HTTP client does no resolution of its own), so a name re-pointed after the PUT (DNS
 * rebinding) is refused as a failed attempt, never called. Resolution is blocking: it runs on a
 * worker thread. {@code notifications.hostsFile} pins names before DNS (tests, pinned deployments).
 */
final class TargetGuard {
  static final Set<String> METADATA_HOSTS = Set.of("metadata", "metadata.google.internal", "metadata.goog",
    "metadata.azure.com", "instance-data", "instance-data.ec2.internal", "metadata.tencentyun.com");

  /**
   * A URL that may be called, resolved: connect to {@code address} (the one checked, never a second
   * resolution), send {@code host} (and {@code port}) as the Host header and the TLS SNI name,
   * request {@code requestUri}.
   */
  record Target(String host, int port, boolean ssl, String requestUri, InetAddress address) {
  }

  /** A URL that must not be called: why, in words fit for a 400 or a delivery's last_error. */
  static final class Refused extends RuntimeException {
    Refused(String reason) {
      super(reason, null, false, false);
    }
  }

  private final Vertx vertx;
  private final boolean allowPrivate;
  private final Path hostsFile;

  TargetGuard(Vertx vertx, boolean allowPrivate) {
    this(vertx, allowPrivate, "");
  }

  /** {@code hostsFile}: {@code address name...} lines consulted before DNS at every resolution; empty: none. */
  TargetGuard(Vertx vertx, boolean allowPrivate, String hostsFile) {
    this.vertx = vertx;
    this.allowPrivate = allowPrivate;
    this.hostsFile = hostsFile == null || hostsFile.isEmpty() ? null : Path.of(hostsFile);
  }

  /** The URL as given when it may be called (at PUT); else a 400 naming {@code url}. */
  Future<String> check(String url) {
    return target(url).map(t -> url).recover(e -> Future.failedFuture(e instanceof Refused
      ? ApiError.invalid("url", e.getMessage()) : e));
  }

  /**
   * The URL resolved now and checked (at every delivery: a name that pointed at the internet when
   * it was PUT may point at the bureau's own network by now); fails with {@link Refused}.
   */
  Future<Target> target(String url) {
    URI uri;
    try {
      uri = new URI(url);
    } catch (Exception e) {
      return Future.failedFuture(new Refused("is not a URL"));
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https") || uri.getHost() == null || uri.getHost().isEmpty()) {
      return Future.failedFuture(new Refused("must be an http or https URL with a host"));
    }
    if (uri.getRawUserInfo() != null) {
      return Future.failedFuture(new Refused("must not carry credentials"));
    }
    String host = uri.getHost().toLowerCase(Locale.ROOT);
    if (host.endsWith(".")) {
      host = host.substring(0, host.length() - 1);
    }
    if (METADATA_HOSTS.contains(host)) {
      return Future.failedFuture(new Refused("points at a cloud metadata service"));
    }
    String lookup = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    boolean ssl = scheme.equals("https");
    int port = uri.getPort() > 0 ? uri.getPort() : ssl ? 443 : 80;
    String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
    String requestUri = uri.getRawQuery() == null ? path : path + "?" + uri.getRawQuery();
    return vertx.executeBlocking(() -> {
      InetAddress[] addresses = resolve(lookup);
      for (InetAddress a : addresses) {
        if (never(a)) {
          throw new Refused("points at a link-local, metadata or unspecified address");
        }
        if (!allowPrivate && internal(a)) {
          throw new Refused("points at a loopback, link-local, private or metadata address");
        }
      }
      return new Target(lookup, port, ssl, requestUri, addresses[0]);
    }, false);
  }

  /** Every address of {@code name}: from the hosts file when it names it, else from DNS (blocking). */
  private InetAddress[] resolve(String name) {
    if (hostsFile != null) {
      List<InetAddress> pinned = new ArrayList<>();
      try {
        for (String line : Files.readAllLines(hostsFile)) {
          int hash = line.indexOf('#');
          String[] f = (hash >= 0 ? line.substring(0, hash) : line).trim().split("\\s+");
          for (int i = 1; i < f.length; i++) {
            if (f[i].toLowerCase(Locale.ROOT).equals(name) && literal(f[0])) {
              pinned.add(InetAddress.getByName(f[0])); // a literal: no lookup
            }
          }
        }
      } catch (java.io.IOException e) {
        throw new Refused("its host cannot be resolved (hosts file unreadable)");
      }
      if (!pinned.isEmpty()) {
        return pinned.toArray(InetAddress[]::new);
      }
    }
    try {
      InetAddress[] all = InetAddress.getAllByName(name);
      if (all.length == 0) {
        throw new Refused("its host does not resolve");
      }
      return all;
    } catch (UnknownHostException e) {
      throw new Refused("its host does not resolve");
    }
  }

  private static boolean literal(String s) {
    return s.matches("[0-9.]+") && s.chars().filter(c -> c == '.').count() == 3 || s.contains(":") && s.matches("[0-9a-fA-F:.]+");
  }

  /** Refused whatever allowPrivateTargets says: no test needs them, and metadata services live there. */
  static boolean never(InetAddress a) {
    InetAddress v4 = mappedV4(a);
    if (v4 != null) {
      return never(v4);
    }
    byte[] b = a.getAddress();
    boolean alibabaMetadata = a instanceof Inet4Address && (b[0] & 0xff) == 100 && (b[1] & 0xff) == 100
      && (b[2] & 0xff) == 100 && (b[3] & 0xff) == 200;
    return a.isLinkLocalAddress() || a.isAnyLocalAddress() || alibabaMetadata;
  }

  private static InetAddress mappedV4(InetAddress a) {
    if (!(a instanceof Inet6Address)) {
      return null;
    }
    byte[] b = a.getAddress();
    for (int i = 0; i < 10; i++) {
      if (b[i] != 0) {
        return null;
      }
    }
    if ((b[10] & 0xff) != 0xff || (b[11] & 0xff) != 0xff) {
      return null;
    }
    try {
      return InetAddress.getByAddress(new byte[] {b[12], b[13], b[14], b[15]});
    } catch (UnknownHostException e) {
      return null;
    }
  }

  static boolean internal(InetAddress a) {
    if (a.isLoopbackAddress() || a.isLinkLocalAddress() || a.isAnyLocalAddress() || a.isSiteLocalAddress()
      || a.isMulticastAddress()) {
      return true;
    }
    byte[] b = a.getAddress();
    if (a instanceof Inet4Address) {
      int first = b[0] & 0xff;
      int second = b[1] & 0xff;
      return first == 0 || (first == 100 && second >= 64 && second < 128) || first >= 240;
    }
    if (a instanceof Inet6Address) {
      if ((b[0] & 0xfe) == 0xfc) {
        return true; // fc00::/7 unique local (AWS's fd00:ec2::254 metadata among them)
      }
      boolean mapped = true; // ::ffff:a.b.c.d is the IPv4 address
      for (int i = 0; i < 10; i++) {
        mapped &= b[i] == 0;
      }
      if (mapped && (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff) {
        try {
          return internal(InetAddress.getByAddress(new byte[] {b[12], b[13], b[14], b[15]}));
        } catch (UnknownHostException e) {
          return true;
        }
      }
    }
    return false;
  }
}
