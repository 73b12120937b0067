package io.openbureau.notifications;

import io.openbureau.http.ApiError;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
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
 * Resolution is blocking: it runs on a worker thread.
 */
final class TargetGuard {
  static final Set<String> METADATA_HOSTS = Set.of("metadata", "metadata.google.internal", "metadata.goog",
    "metadata.azure.com", "instance-data", "instance-data.ec2.internal", "metadata.tencentyun.com");

  private final Vertx vertx;
  private final boolean allowPrivate;

  TargetGuard(Vertx vertx, boolean allowPrivate) {
    this.vertx = vertx;
    this.allowPrivate = allowPrivate;
  }

  /** The URL as given when it may be called; else a 400 naming {@code url}. */
  Future<String> check(String url) {
    URI uri;
    try {
      uri = new URI(url);
    } catch (Exception e) {
      return Future.failedFuture(ApiError.invalid("url", "is not a URL"));
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https") || uri.getHost() == null || uri.getHost().isEmpty()) {
      return Future.failedFuture(ApiError.invalid("url", "must be an http or https URL with a host"));
    }
    if (uri.getRawUserInfo() != null) {
      return Future.failedFuture(ApiError.invalid("url", "must not carry credentials"));
    }
    String host = uri.getHost().toLowerCase(Locale.ROOT);
    if (host.endsWith(".")) {
      host = host.substring(0, host.length() - 1);
    }
    if (METADATA_HOSTS.contains(host)) {
      return Future.failedFuture(ApiError.invalid("url", "points at a cloud metadata service"));
    }
    String lookup = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    return vertx.executeBlocking(() -> {
      InetAddress[] addresses;
      try {
        addresses = InetAddress.getAllByName(lookup);
      } catch (UnknownHostException e) {
        throw ApiError.invalid("url", "its host does not resolve");
      }
      for (InetAddress a : addresses) {
        if (never(a)) {
          throw ApiError.invalid("url", "points at a link-local, metadata or unspecified address");
        }
        if (!allowPrivate && internal(a)) {
          throw ApiError.invalid("url", "points at a loopback, link-local, private or metadata address");
        }
      }
      return url;
    }, false);
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
