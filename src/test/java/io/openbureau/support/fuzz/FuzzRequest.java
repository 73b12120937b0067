package io.openbureau.support.fuzz;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * One generated request, rendered to the exact bytes sent. {@code fresh} ones get a connection of
 * their own (byte-level cases that may leave a connection unusable); {@code mustBeRefused} ones
 * carry a credential that may not be honoured on a secured operation (any 2xx is a violation);
 * {@code mayClose} ones break the body's framing after the head, so no answer is a fair answer.
 */
public record FuzzRequest(int index, String operation, String mutation, String method, String target, String version,
                          List<String[]> headers, byte[] body, boolean fresh, boolean mustBeRefused, boolean head,
                          boolean mayClose, String repr) {

  /** The request head and body as sent on the wire. */
  public byte[] bytes() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    StringBuilder h = new StringBuilder();
    h.append(method).append(' ').append(target);
    if (!version.isEmpty()) {
      h.append(' ').append(version);
    }
    h.append("\r\n");
    for (String[] header : headers) {
      if (header.length == 1) {
        h.append(header[0]).append("\r\n"); // a raw line, e.g. a header without a colon
      } else {
        h.append(header[0]).append(": ").append(header[1]).append("\r\n");
      }
    }
    h.append("\r\n");
    out.writeBytes(h.toString().getBytes(StandardCharsets.UTF_8));
    if (body != null) {
      out.writeBytes(body);
    }
    return out.toByteArray();
  }

  @Override
  public String toString() {
    return repr;
  }
}
