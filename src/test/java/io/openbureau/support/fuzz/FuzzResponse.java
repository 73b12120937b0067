package io.openbureau.support.fuzz;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * What came back: status and headers (names lower-cased, every value kept), the first bytes of
 * the body; or {@code error} when no complete response arrived (timeout, connection closed).
 */
public record FuzzResponse(int status, Map<String, List<String>> headers, byte[] body, String error) {
  public static FuzzResponse failed(String error) {
    return new FuzzResponse(0, Map.of(), new byte[0], error);
  }

  public String header(String name) {
    List<String> values = headers.get(name.toLowerCase());
    return values == null || values.isEmpty() ? null : values.get(0);
  }

  public String bodyText() {
    return new String(body, StandardCharsets.UTF_8);
  }
}
