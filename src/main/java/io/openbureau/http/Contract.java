package io.openbureau.http;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.openapi.contract.MediaType;
import io.vertx.openapi.contract.OpenAPIContract;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;

import java.util.Map;

/**
 * Loads {@code openapi.yaml}, the published contract, for the router. vertx-openapi 5.0 only knows
 * a few media types (JSON, multipart, octet-stream, text/plain), so the copy given to the router
 * drops the response media types it cannot validate (problem+json, NDJSON, CSV, YAML: responses
 * are not validated anyway) and reads streamed request bodies (NDJSON) as octet-stream. The
 * document served at {@code /openapi.yaml} is the file itself, unchanged.
 */
public final class Contract {
  public static final String RESOURCE = "openapi.yaml";

  private Contract() {
  }

  public static Future<OpenAPIContract> load(Vertx vertx) {
    return vertx.fileSystem().readFile(RESOURCE)
      .map(buffer -> forRouter(parse(buffer.toString())))
      .compose(json -> OpenAPIContract.from(vertx, json));
  }

  @SuppressWarnings("unchecked")
  static JsonObject parse(String yaml) {
    Map<String, Object> map = new Yaml(new LoaderOptions()).load(yaml);
    return new JsonObject(map);
  }

  static JsonObject forRouter(JsonObject spec) {
    JsonObject copy = spec.copy();
    JsonObject paths = copy.getJsonObject("paths", new JsonObject());
    for (String path : paths.fieldNames()) {
      JsonObject item = paths.getJsonObject(path);
      for (String method : item.fieldNames()) {
        if (!(item.getValue(method) instanceof JsonObject op)) {
          continue;
        }
        JsonObject body = op.getJsonObject("requestBody");
        if (body != null) {
          JsonObject content = body.getJsonObject("content", new JsonObject());
          for (String type : content.fieldNames().toArray(new String[0])) {
            if (!MediaType.isMediaTypeSupported(type)) {
              content.remove(type);
              content.put(MediaType.APPLICATION_OCTET_STREAM, new JsonObject());
            }
          }
        }
        JsonObject responses = op.getJsonObject("responses", new JsonObject());
        for (String code : responses.fieldNames()) {
          if (!(responses.getValue(code) instanceof JsonObject response)) {
            continue;
          }
          JsonObject content = response.getJsonObject("content");
          if (content != null) {
            content.fieldNames().removeIf(type -> !MediaType.isMediaTypeSupported(type));
            if (content.isEmpty()) {
              response.remove("content");
            }
          }
        }
      }
    }
    // shared response objects too
    JsonObject responses = copy.getJsonObject("components", new JsonObject()).getJsonObject("responses");
    if (responses != null) {
      for (String name : responses.fieldNames()) {
        JsonObject content = responses.getJsonObject(name).getJsonObject("content");
        if (content != null) {
          content.fieldNames().removeIf(type -> !MediaType.isMediaTypeSupported(type));
          if (content.isEmpty()) {
            responses.getJsonObject(name).remove("content");
          }
        }
      }
    }
    return copy;
  }
}
