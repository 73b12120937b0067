package io.openbureau.http;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.json.schema.Draft;
import io.vertx.json.schema.JsonSchema;
import io.vertx.json.schema.JsonSchemaOptions;
import io.vertx.json.schema.OutputUnit;
import io.vertx.json.schema.SchemaRepository;
import io.vertx.json.schema.Validator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** openapi.yaml as people read it: a summary on every operation, the errors each can give, examples that are valid. */
class OpenApiDocsTest {
  private static final Set<String> NO_DEPENDENCY = Set.of("live", "metrics", "openapiSpec", "jwks");
  private static JsonObject doc;

  private record Op(String id, String method, String path, JsonObject op) {
    boolean secured() {
      JsonArray security = op.getJsonArray("security", doc.getJsonArray("security"));
      return security != null && !security.isEmpty();
    }
  }

  @BeforeAll
  @SuppressWarnings("unchecked")
  static void load() throws Exception {
    doc = new JsonObject((Map<String, Object>) new Yaml().load(Files.readString(Path.of("src/main/resources/openapi.yaml"))));
  }

  private static List<Op> operations() {
    List<Op> ops = new ArrayList<>();
    JsonObject paths = doc.getJsonObject("paths");
    for (String path : paths.fieldNames()) {
      JsonObject item = paths.getJsonObject(path);
      for (String method : item.fieldNames()) {
        if (item.getValue(method) instanceof JsonObject op && op.containsKey("operationId")) {
          ops.add(new Op(op.getString("operationId"), method, path, op));
        }
      }
    }
    return ops;
  }

  @Test
  @DisplayName("every operation has a summary, and lists 401 and 403 when secured, 400/413/415 when it reads a JSON body, 404 with a path id, 503 when it needs a dependency")
  void summariesAndErrors() {
    List<String> missing = new ArrayList<>();
    for (Op op : operations()) {
      JsonObject responses = op.op().getJsonObject("responses");
      if (op.op().getString("summary", "").isBlank()) {
        missing.add(op.id() + ": summary");
      }
      List<String> want = new ArrayList<>();
      if (op.secured()) {
        want.addAll(List.of("401", "403"));
      }
      JsonObject body = op.op().getJsonObject("requestBody");
      if (body != null && body.getJsonObject("content").containsKey("application/json")) {
        want.addAll(List.of("400", "413", "415"));
      }
      if (body != null) {
        want.add("415");
      }
      if (op.path().contains("{") && !op.id().equals("putTradeline")) {
        want.add("404");
      }
      if (!NO_DEPENDENCY.contains(op.id())) {
        want.add("503");
      }
      for (String code : want) {
        if (!responses.containsKey(code)) {
          missing.add(op.id() + ": " + code);
        }
      }
      for (String code : responses.fieldNames()) {
        JsonObject r = resolve(responses.getJsonObject(code));
        // readiness' 503 is its health document, not a problem
        if ((code.startsWith("4") || code.startsWith("5")) && !op.id().equals("ready")) {
          JsonObject problem = r.getJsonObject("content", new JsonObject()).getJsonObject("application/problem+json");
          if (problem == null || !"#/components/schemas/Problem".equals(problem.getJsonObject("schema").getString("$ref"))) {
            missing.add(op.id() + " " + code + ": not the shared Problem schema");
          }
        }
      }
    }
    assertEquals(List.of(), missing);
  }

  @Test
  @DisplayName("the main request and response bodies have examples, and each example is valid against its schema")
  void examplesAreValid() {
    SchemaRepository repository = SchemaRepository.create(new JsonSchemaOptions().setDraft(Draft.DRAFT202012)
      .setBaseUri("app:///"));
    repository.dereference("app:///openapi.yaml", JsonSchema.of(doc.copy())); // it annotates what it is given
    List<String> problems = new ArrayList<>();
    int examples = 0;
    for (Op op : operations()) {
      String base = "/paths/" + op.path().replace("~", "~0").replace("/", "~1") + "/" + op.method();
      JsonObject body = op.op().getJsonObject("requestBody");
      if (body != null) {
        examples += check(repository, body.getJsonObject("content"), base + "/requestBody/content", op.id() + " request",
          problems);
      }
      JsonObject responses = op.op().getJsonObject("responses");
      for (String code : responses.fieldNames()) {
        JsonObject content = responses.getJsonObject(code).getJsonObject("content");
        if (content != null) {
          examples += check(repository, content, base + "/responses/" + code + "/content", op.id() + " " + code, problems);
        }
      }
    }
    JsonObject shared = doc.getJsonObject("components").getJsonObject("responses");
    for (String name : shared.fieldNames()) {
      examples += check(repository, shared.getJsonObject(name).getJsonObject("content"),
        "/components/responses/" + name + "/content", name, problems);
    }
    assertEquals(List.of(), problems);
    assertTrue(examples >= 18, examples + " examples");
    for (String id : List.of("createMember", "putTradeline", "postRepayment", "postBatch", "grantConsent", "createInquiry",
      "openDispute", "resolveDispute")) {
      Op op = operations().stream().filter(o -> o.id().equals(id)).findFirst().orElseThrow();
      JsonObject content = op.op().getJsonObject("requestBody").getJsonObject("content");
      assertTrue(content.stream().anyMatch(e -> ((JsonObject) e.getValue()).containsKey("example")), id + " has no example");
    }
  }

  private static int check(SchemaRepository repository, JsonObject content, String pointer, String what, List<String> problems) {
    int n = 0;
    for (String type : content.fieldNames()) {
      JsonObject media = content.getJsonObject(type);
      if (!media.containsKey("example") || !type.contains("json")) {
        continue;
      }
      n++;
      String ref = "app:///openapi.yaml#" + pointer + "/" + type.replace("/", "~1") + "/schema";
      Validator validator = repository.validator(ref, new JsonSchemaOptions().setDraft(Draft.DRAFT202012)
        .setBaseUri("app:///").setOutputFormat(io.vertx.json.schema.OutputFormat.Basic));
      OutputUnit result = validator.validate(media.getValue("example"));
      if (!result.getValid()) {
        problems.add(what + ": " + result.getErrors());
      }
    }
    return n;
  }

  private static JsonObject resolve(JsonObject response) {
    String ref = response.getString("$ref");
    if (ref == null) {
      return response;
    }
    return doc.getJsonObject("components").getJsonObject("responses").getJsonObject(ref.substring(ref.lastIndexOf('/') + 1));
  }
}
