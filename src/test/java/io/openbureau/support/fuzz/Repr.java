package io.openbureau.support.fuzz;

import io.openbureau.support.fuzz.Fixtures.Cred;

import java.nio.charset.StandardCharsets;
import java.util.List;

/** A short, printable, reproducible rendering of a request for failure messages. */
final class Repr {
  private static final int MAX = 160;

  private Repr() {
  }

  static String of(int index, String operation, String mutation, String method, String target, String version,
                   List<String[]> headers, byte[] body, Cred cred, Fixtures fx) {
    StringBuilder sb = new StringBuilder();
    sb.append('#').append(index).append(' ').append(operation).append(" [").append(mutation).append("] ")
      .append(escape(method, 40)).append(' ').append(escape(target, MAX)).append(' ').append(escape(version, 20));
    StringBuilder hs = new StringBuilder();
    boolean authShown = false;
    for (String[] h : headers) {
      if (hs.length() > 300) {
        hs.append("... (").append(headers.size()).append(" headers); ");
        break;
      }
      String name = h[0];
      if (name.equalsIgnoreCase("Host") && h.length > 1 && h[1].equals(fx.host + ":" + fx.port)
        || name.equalsIgnoreCase("Content-Length") && h.length > 1 && body != null && h[1].equals(Integer.toString(body.length))) {
        continue;
      }
      if (name.equalsIgnoreCase("X-Request-Id") && h.length > 1 && h[1].equals(Generator.REQUEST_ID_PREFIX + index)) {
        continue;
      }
      if (name.equalsIgnoreCase("Authorization") && cred != null) {
        if (!authShown) {
          hs.append("Authorization: <").append(cred.name()).append(">; ");
          authShown = true;
        }
        continue;
      }
      hs.append(escape(name, 40));
      if (h.length > 1) {
        hs.append(": ").append(escape(h[1], 60));
      }
      hs.append("; ");
    }
    if (hs.length() > 0) {
      sb.append(" H{").append(hs, 0, hs.length() - 2).append('}');
    }
    if (body != null) {
      sb.append(" B[").append(body.length).append("]{").append(escape(new String(body, StandardCharsets.UTF_8), MAX))
        .append('}');
    }
    return sb.toString();
  }

  /** Java-style escapes for anything unprintable; long values shortened with their length. */
  static String escape(String s, int max) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < s.length() && sb.length() < max; i++) {
      char c = s.charAt(i);
      if (c == '\\') {
        sb.append("\\\\");
      } else if (c >= 0x20 && c < 0x7f) {
        sb.append(c);
      } else {
        sb.append(String.format("\\u%04x", (int) c));
      }
    }
    if (sb.length() >= max && s.length() > max) {
      sb.append("...(").append(s.length()).append(" chars)");
    }
    return sb.toString();
  }
}
