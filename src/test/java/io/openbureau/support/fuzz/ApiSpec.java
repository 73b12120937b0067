package io.openbureau.support.fuzz;

import org.yaml.snakeyaml.Yaml;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The operations of {@code openapi.yaml}, read with SnakeYAML (the same file the router is built
 * from), with every {@code $ref} resolved: what the fuzzer generates requests from.
 */
public final class ApiSpec {
  /** One parameter: where it goes, its name and its (resolved) schema. */
  public record Param(String in, String name, boolean required, Map<String, Object> schema) {
  }

  /** One operation of the contract. */
  public record Operation(String id, String method, String path, List<String> tags, boolean secured, List<Param> params,
                          String bodyType, Map<String, Object> bodySchema) {
    public List<Param> params(String in) {
      return params.stream().filter(p -> p.in().equals(in)).toList();
    }

    public boolean hasBody() {
      return bodyType != null;
    }
  }

  private final Map<String, Object> root;
  private final List<Operation> operations = new ArrayList<>();

  @SuppressWarnings("unchecked")
  private ApiSpec(Map<String, Object> root) {
    this.root = root;
    boolean securedByDefault = root.get("security") instanceof List<?> l && !l.isEmpty();
    Map<String, Object> paths = (Map<String, Object>) root.get("paths");
    for (var path : paths.entrySet()) {
      Map<String, Object> item = (Map<String, Object>) path.getValue();
      for (var op : item.entrySet()) {
        if (!(op.getValue() instanceof Map<?, ?>)) {
          continue;
        }
        Map<String, Object> o = (Map<String, Object>) op.getValue();
        boolean secured = o.containsKey("security") ? !((List<?>) o.get("security")).isEmpty() : securedByDefault;
        List<Param> params = new ArrayList<>();
        for (Object p : (List<Object>) o.getOrDefault("parameters", List.of())) {
          Map<String, Object> param = resolve((Map<String, Object>) p);
          params.add(new Param((String) param.get("in"), (String) param.get("name"),
            Boolean.TRUE.equals(param.get("required")), schema(param.get("schema"))));
        }
        String bodyType = null;
        Map<String, Object> bodySchema = null;
        if (o.get("requestBody") instanceof Map<?, ?> rb) {
          Map<String, Object> content = (Map<String, Object>) ((Map<String, Object>) rb).get("content");
          var first = content.entrySet().iterator().next();
          bodyType = first.getKey();
          bodySchema = schema(((Map<String, Object>) first.getValue()).get("schema"));
        }
        operations.add(new Operation((String) o.get("operationId"), op.getKey().toUpperCase(), path.getKey(),
          List.copyOf((List<String>) o.getOrDefault("tags", List.of())), secured,
          List.copyOf(params), bodyType, bodySchema));
      }
    }
  }

  public static ApiSpec load(Path file) {
    try {
      Map<String, Object> root = new Yaml().load(Files.readString(file));
      return new ApiSpec(root);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  public List<Operation> operations() {
    return operations;
  }

  public Operation operation(String id) {
    return operations.stream().filter(o -> o.id().equals(id)).findFirst()
      .orElseThrow(() -> new IllegalArgumentException("no operation " + id));
  }

  /** A schema of {@code components/schemas}, resolved. */
  public Map<String, Object> component(String name) {
    return schema(Map.of("$ref", "#/components/schemas/" + name));
  }

  /** A schema with its {@code $ref}s resolved all the way down (the contract has no cycles). */
  @SuppressWarnings("unchecked")
  public Map<String, Object> schema(Object node) {
    if (!(node instanceof Map<?, ?>)) {
      return Map.of();
    }
    Map<String, Object> s = resolve((Map<String, Object>) node);
    Map<String, Object> out = new LinkedHashMap<>();
    for (var e : s.entrySet()) {
      Object v = e.getValue();
      if (e.getKey().equals("properties") && v instanceof Map<?, ?> props) {
        Map<String, Object> resolved = new LinkedHashMap<>();
        ((Map<String, Object>) props).forEach((k, p) -> resolved.put(k, schema(p)));
        out.put("properties", resolved);
      } else if (e.getKey().equals("items") && v instanceof Map<?, ?>) {
        out.put("items", schema(v));
      } else {
        out.put(e.getKey(), v);
      }
    }
    return out;
  }

  @SuppressWarnings("unchecked")
  private Map<String, Object> resolve(Map<String, Object> node) {
    Map<String, Object> n = node;
    while (n.get("$ref") instanceof String ref) {
      Object target = root;
      for (String part : ref.substring(2).split("/")) {
        target = ((Map<String, Object>) target).get(part);
      }
      n = (Map<String, Object>) target;
    }
    return n;
  }
}
