package io.openbureau.support;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A blocking HTTP client for tests (runs on the test thread, never on an event loop). */
public final class Api {
  private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final String base;

  public Api(String base) {
    this.base = base;
  }

  public String base() {
    return base;
  }

  /** A response with its body parsed when it is JSON. */
  public record Res(int status, String body, HttpResponse<String> raw) {
    public JsonObject json() {
      return new JsonObject(body);
    }

    public JsonArray items() {
      return json().getJsonArray("items");
    }

    public String header(String name) {
      return raw.headers().firstValue(name).orElse(null);
    }

    public String code() {
      return json().getString("code");
    }

    @Override
    public String toString() {
      return status + " " + body;
    }
  }

  public Res get(String path, String token) {
    return send(builder(path, token).GET().build());
  }

  public Res post(String path, String token, Object body) {
    return send(builder(path, token).header("Content-Type", "application/json")
      .POST(HttpRequest.BodyPublishers.ofString(body == null ? "" : body.toString())).build());
  }

  public Res put(String path, String token, Object body) {
    return send(builder(path, token).header("Content-Type", "application/json")
      .PUT(HttpRequest.BodyPublishers.ofString(body.toString())).build());
  }

  public Res delete(String path, String token) {
    return send(builder(path, token).DELETE().build());
  }

  public Res raw(String method, String path, String token, String contentType, String body) {
    HttpRequest.Builder b = builder(path, token);
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    return send(b.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
      : HttpRequest.BodyPublishers.ofString(body)).build());
  }

  public HttpRequest.Builder builder(String path, String token) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return b;
  }

  public Res send(HttpRequest request) {
    try {
      HttpResponse<String> r = CLIENT.send(request, HttpResponse.BodyHandlers.ofString());
      return new Res(r.statusCode(), r.body(), r);
    } catch (Exception e) {
      throw new IllegalStateException("request failed: " + request.uri(), e);
    }
  }
}
