package io.openbureau.http;

import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;

/**
 * Answers for requests the router never sees, in the same problem+json form with a request id:
 * requests the HTTP decoder could not parse (400, a request line too long 414, headers too large
 * 431), and an HTTP version other than 1.0 and 1.1 (400 {@code http_version_not_supported}: a
 * client error like any other request line this server cannot take, never a 5xx; Vert.x would send
 * an empty 501). The connection is closed after each: what follows a request that could not be
 * parsed cannot be trusted to be the next request.
 *
 * <p>The API has no WebSocket endpoint: a request with {@code Upgrade: websocket} is served as the
 * plain HTTP request it also is (RFC 9110 §7.8: a server may ignore Upgrade), so it gets the
 * router's answer (a 404, 405 or 401 problem+json, or the resource) and never a bare 404 or 405 from
 * Vert.x's handshake code.
 */
final class LowLevelErrors {
  private LowLevelErrors() {
  }

  /** The request handler: the router for HTTP/1.0 and 1.1, a 400 for any other version. */
  static Handler<HttpServerRequest> versioned(Handler<HttpServerRequest> router) {
    return request -> {
      if (request.version() == null) {
        unsupportedVersion(request);
      } else {
        router.handle(request);
      }
    };
  }

  /**
   * Vert.x puts its own dispatcher in front of the request handler on every HTTP/1.x connection:
   * it answers an empty 501 to an unknown HTTP version and turns {@code Upgrade: websocket} into a
   * handshake (refused with a bare status). Setting the server's request handler on the connection
   * again, before its first request is read, lets every request reach {@link #versioned} instead.
   */
  static void plainHttp(HttpConnection connection, Handler<HttpServerRequest> handler) {
    if (connection instanceof io.vertx.core.http.impl.HttpServerConnection c) {
      c.handler(handler);
    }
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
    answerAndClose(request, new ApiError(400, "http_version_not_supported", "HTTP version not supported",
      "a request line must name HTTP/1.1 or HTTP/1.0 (HTTP/2 is spoken after an h2c upgrade or its connection preface)"));
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
