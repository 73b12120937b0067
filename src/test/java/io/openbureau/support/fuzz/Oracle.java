package io.openbureau.support.fuzz;

import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The contract every answer must keep, whatever was sent: no 5xx, an answer at all, every 4xx an
 * RFC 9457 problem+json with a request id, nothing internal in a body, a request id of a safe
 * form, and no 2xx for a credential that must be refused.
 */
public final class Oracle {
  private static final Pattern SAFE_ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");
  /** What a stack trace, a Java class name or SQL text looks like in a body. */
  private static final Pattern LEAK = Pattern.compile(
    "\\tat |\\bat [a-z]+\\.[a-z]+\\.[A-Za-z.$]+\\(|Exception\\b|Throwable|\\bjava\\.[a-z]+\\.|\\bio\\.vertx\\.|"
      + "\\bio\\.openbureau\\.|\\borg\\.postgresql|\\bcom\\.fasterxml|\\bnetty\\b|SQLSTATE|\\bERROR: |\\bsyntax error at");

  private Oracle() {
  }

  /** The broken rules, each a short stable phrase (empty when the answer keeps the contract). */
  public static List<String> violations(FuzzRequest request, FuzzResponse response) {
    List<String> out = new ArrayList<>();
    if (response.error() != null && request.mayClose() && response.error().startsWith("connection")) {
      return out;
    }
    if (response.error() != null) {
      out.add(response.error().startsWith("no answer") ? "no answer (timeout)" : "no HTTP response");
      return out;
    }
    int status = response.status();
    if (status >= 500) {
      out.add("status " + status);
    }
    if (request.mustBeRefused() && status >= 200 && status < 300) {
      out.add("honoured a credential that must be refused (" + status + ")");
    }
    String requestId = response.header("x-request-id");
    if (requestId != null && !SAFE_ID.matcher(requestId).matches()) {
      out.add("unsafe X-Request-Id echoed");
    }
    if (status >= 400) {
      if (requestId == null || requestId.isEmpty()) {
        out.add(status + " without X-Request-Id");
      }
      String type = response.header("content-type");
      if (type == null || !type.toLowerCase().startsWith("application/problem+json")) {
        out.add(status + " not problem+json (" + (type == null ? "no Content-Type" : type) + ")");
      } else if (!request.head()) {
        try {
          JsonObject problem = new JsonObject(response.bodyText());
          if (!Integer.valueOf(status).equals(problem.getInteger("status")) || problem.getString("code") == null) {
            out.add(status + " problem without matching status and code");
          }
        } catch (RuntimeException e) {
          out.add(status + " problem+json body is not a JSON object");
        }
      }
    }
    if (!request.operation().equals("openapiSpec") && !request.operation().equals("metrics")
      && LEAK.matcher(response.bodyText()).find()) {
      out.add("internal detail in body");
    }
    return out;
  }
}
