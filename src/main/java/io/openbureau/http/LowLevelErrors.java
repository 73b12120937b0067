package io.openbureau.http;

import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.ServerWebSocketHandshake;

/**
 * Answers for requests the router never sees, in the same problem+json form with a request id:
 * requests the HTTP decoder could not parse (400, a request line too long 414, headers too large
 * 431), and an HTTP version other than 1.0 and 1.1 (505; Vert.x would send an empty 501). The
 * connection is closed after each: what follows a request that could not be parsed cannot be
 * trusted to be the next request. WebSocket handshakes are refused (404): the API has none.
 */
final class LowLevelErrors {
  private LowLevelErrors() {
  }

  static void invalidRequest(HttpServerRequest request) {
    Throwable cause = request.decoderResult() == null ? null : request.decoderResult().cause();
    ApiError error;
    if (cause instanceof TooLongHttpLineException) {
      error = new ApiError(414, "uri_too_long", "URI too long", "the request line is too long");
    } else if (cause instanceof TooLongHttpHeaderException) {
      error = new ApiError(431, "headers_too_large", "Request header fields too large",
        "the request headers are too large");
    } else {
      error = new ApiError(400, "malformed_request", "Bad request", "the request is not well-formed HTTP/1.1");
    }
    answerAndClose(request, error);
  }

  static void unsupportedVersion(HttpServerRequest request) {
    answerAndClose(request, new ApiError(505, "http_version_not_supported", "HTTP version not supported",
      "this server speaks HTTP/1.1 (and HTTP/1.0)"));
  }

  static void webSocket(ServerWebSocketHandshake handshake) {
    handshake.reject(404);
  }

  private static void answerAndClose(HttpServerRequest request, ApiError error) {
    String id = RequestIds.newId();
    var response = request.response();
    response.putHeader(RequestIds.HEADER, id).putHeader("Connection", "close");
    FailureHandler.send(response, error, id);
    // as Vert.x's own handler does: the answer is queued before the close, so it is sent
    request.connection().close();
  }
}
