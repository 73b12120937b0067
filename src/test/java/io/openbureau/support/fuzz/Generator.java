package io.openbureau.support.fuzz;

import io.openbureau.identity.NationalId;
import io.openbureau.support.fuzz.ApiSpec.Operation;
import io.openbureau.support.fuzz.ApiSpec.Param;
import io.openbureau.support.fuzz.Fixtures.Cred;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.ByteArrayOutputStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.function.BiFunction;

/**
 * Generates requests from the operations of {@code openapi.yaml}: first a valid one derived from
 * the schemas and the fixtures (the right role's token, real ids), then, for most, one or two
 * mutations of it: bodies, parameters, encodings, headers, credentials, methods, the request line.
 *
 * <p>Request {@code i} depends only on the seed and {@code i} (its own {@link Random}), so any
 * case can be regenerated alone, and the order of sending does not change what is sent.
 */
public final class Generator {
  public static final String REQUEST_ID_PREFIX = "fzreq-";
  private static final java.util.Set<String> COSTLY = java.util.Set.of("accessLogVerify", "accessLogExport", "alerts");
  private static final long CLOCK = Instant.parse("2026-11-01T00:00:00Z").getEpochSecond();
  private final ApiSpec spec;
  private final Fixtures fx;
  private final List<Operation> operations;
  private final Map<String, Object> tradelineSchema;
  private final Map<String, Object> repaymentSchema;

  public Generator(ApiSpec spec, Fixtures fixtures) {
    this.spec = spec;
    this.fx = fixtures;
    // operations that walk or stream the whole access log are drawn half as often: each costs
    // tens of times a plain request and the log grows with the run (they still get hundreds)
    List<Operation> weighted = new ArrayList<>();
    for (Operation op : spec.operations()) {
      weighted.add(op);
      if (!COSTLY.contains(op.id())) {
        weighted.add(op);
      }
    }
    this.operations = weighted;
    this.tradelineSchema = spec.component("TradelineInput");
    this.repaymentSchema = spec.component("RepaymentInput");
  }

  public List<FuzzRequest> generate(long seed, int count) {
    List<FuzzRequest> out = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      out.add(one(seed, i));
    }
    return out;
  }

  /** Request {@code index} of the run with this seed. */
  public FuzzRequest one(long seed, int index) {
    Random rnd = new Random(seed * 0x9E3779B97F4A7C15L + index * 0xBF58476D1CE4E5B9L);
    Operation op = operations.get(rnd.nextInt(operations.size()));
    Draft d = valid(op, rnd);
    double mode = rnd.nextDouble();
    if (mode >= 0.25) {
      mutate(d, rnd);
      if (mode >= 0.85) {
        mutate(d, rnd);
      }
    }
    return d.render(index);
  }

  // ---- the role an operation needs (the contract has one bearer scheme; the tags say who calls)

  static String role(Operation op) {
    if (!op.secured()) {
      return null;
    }
    if (op.id().equals("getOwnMember")) {
      return "lender";
    }
    String tag = op.tags().isEmpty() ? "" : op.tags().get(0);
    return switch (tag) {
      case "members" -> "admin";
      case "furnishing", "inquiry" -> "lender";
      case "consent", "borrower", "rights" -> "borrower";
      case "compliance" -> "compliance";
      default -> throw new IllegalStateException("no role known for operation " + op.id() + " (tag " + tag + ")");
    };
  }

  // ---- valid requests

  private Draft valid(Operation op, Random rnd) {
    Draft d = new Draft(op, fx);
    d.role = role(op);
    List<Cred> creds = fx.validFor(d.role == null ? "borrower" : d.role);
    if (d.role != null || rnd.nextInt(4) == 0) {
      d.cred = pick(rnd, creds);
    }
    for (Param p : op.params("path")) {
      d.pathValues.put(p.name(), enc(pathValue(d, p, rnd)));
    }
    for (Param p : op.params("query")) {
      if (p.required() || rnd.nextInt(2) == 0) {
        d.query.add(new String[] {p.name(), enc(queryValue(op, p, rnd))});
      }
    }
    // a witness polling again with the ETag of an answer that cannot change (the oldest checkpoints): 304
    if (op.id().equals("auditCheckpoints") && fx.feedEtag != null && rnd.nextInt(6) == 0) {
      d.query.clear();
      d.query.add(new String[] {"after", "0"});
      d.query.add(new String[] {"limit", Integer.toString(fx.checkpoints.size())});
      d.headers.add(new String[] {"If-None-Match", fx.feedEtag});
    }
    // the witness feed's after pages oldest first, cursor newest first: together they are a 400 (documented)
    if (d.query.stream().anyMatch(q -> q[0].equals("after")) && d.query.stream().anyMatch(q -> q[0].equals("cursor"))) {
      String gone = rnd.nextBoolean() ? "after" : "cursor";
      d.query.removeIf(q -> q[0].equals(gone));
    }
    if (op.hasBody()) {
      d.contentType = op.bodyType();
      if (op.bodyType().equals("application/x-ndjson")) {
        d.ndjson = new ArrayList<>();
        int lines = 1 + rnd.nextInt(4);
        for (int i = 0; i < lines; i++) {
          d.ndjson.add(batchLine(rnd).encode());
        }
      } else {
        Object body = value(op.bodySchema(), bodyName(op), rnd);
        if (body instanceof JsonArray array) {
          d.jsonArray = array; // e.g. the outsider's copy of the checkpoints
        } else {
          d.json = plausible((JsonObject) body, d.pathValues.get("accountRef"), rnd);
        }
      }
    }
    return d;
  }

  /**
   * The name a body's schema is read with: a hint for what its values are when the schema alone
   * does not say (an array of strings that are the bureau's checkpoints).
   */
  static String bodyName(Operation op) {
    return op.id().equals("accessLogVerifyCheckpoints") ? "checkpoints" : "body";
  }

  private JsonObject batchLine(Random rnd) {
    boolean tradeline = rnd.nextInt(3) > 0;
    JsonObject line = new JsonObject().put("type", tradeline ? "tradeline" : "repayment")
      .put("accountRef", pick(rnd, fx.accountRefs));
    line.mergeIn((JsonObject) value(tradeline ? tradelineSchema : repaymentSchema, "line", rnd));
    return plausible(line, line.getString("accountRef"), rnd);
  }

  /**
   * The rules of a tradeline the schema cannot say, kept so valid ones reach the furnishing code: an
   * existing account keeps its person, a balance within 110% of the principal (or a card's credit
   * limit), a card has a limit.
   */
  private JsonObject plausible(JsonObject o, String accountRef, Random rnd) {
    int account = accountRef == null ? -1 : fx.accountRefs.indexOf(accountRef);
    if (account >= 0 && o.containsKey("nationalId") && account < fx.people.size()) {
      o.put("nationalId", fx.people.get(account));
    }
    if (o.getValue("principal") instanceof String principal && o.getValue("balance") instanceof String) {
      boolean card = "CREDIT_CARD".equals(o.getValue("productType"));
      if (card && !(o.getValue("creditLimit") instanceof String)) {
        o.put("creditLimit", principal);
      }
      java.math.BigDecimal cap = new java.math.BigDecimal(card ? o.getString("creditLimit") : principal);
      o.put("balance", cap.multiply(java.math.BigDecimal.valueOf(rnd.nextInt(101)))
        .divide(java.math.BigDecimal.valueOf(100), 2, java.math.RoundingMode.DOWN).toPlainString());
    }
    return o;
  }

  private String pathValue(Draft d, Param p, Random rnd) {
    Operation op = d.op;
    if (op.id().equals("myInquiryProof") && p.name().equals("id")) {
      return proofRow(d, rnd);
    }
    return switch (p.name()) {
      case "id" -> pick(rnd, fx.victimMembers);
      case "accountRef" -> rnd.nextInt(4) == 0 ? "fz-" + base36(rnd, 6) : pick(rnd, fx.accountRefs);
      case "consentId" -> rnd.nextInt(5) == 0 ? new UUID(rnd.nextLong(), rnd.nextLong()).toString() : pick(rnd, fx.consentIds);
      // no dispute is seeded: an unknown UUID (404), or not a UUID at all (404 too)
      case "disputeId" -> rnd.nextInt(4) == 0 ? "fz-" + base36(rnd, 6) : new UUID(rnd.nextLong(), rnd.nextLong()).toString();
      default -> String.valueOf(value(p.schema(), p.name(), rnd));
    };
  }

  /**
   * An access-log entry id for a proof: mostly one about the caller's subject, all of them
   * checkpointed before the run (so the answer is a proof); otherwise someone else's entry or an
   * id that is no entry (404 for both).
   */
  private String proofRow(Draft d, Random rnd) {
    List<String> own = d.cred == null ? List.of() : fx.rowsByCred.getOrDefault(d.cred.name(), List.of());
    int r = rnd.nextInt(10);
    if (r < 7 && !own.isEmpty()) {
      return pick(rnd, own);
    }
    if (r < 9 && !fx.rows.isEmpty()) {
      return pick(rnd, fx.rows);
    }
    return pick(rnd, List.of("0", "1", Long.toString(1 + rnd.nextInt(1_000_000)), "999999999999999999"));
  }

  private String queryValue(Operation op, Param p, Random rnd) {
    return switch (p.name()) {
      case "cursor" -> Cursors.valid(op.id(), fx, rnd);
      case "lenderId" -> pick(rnd, fx.activeMembers);
      case "nationalId" -> person(rnd);
      case "action" -> pick(rnd, List.of("INQUIRY", "COMPLIANCE_READ", "SELF_REPORT", "COMPLIANCE_EXPORT"));
      case "chainId" -> {
        int r = rnd.nextInt(3);
        yield r == 0 && !fx.chainIds.isEmpty() ? pick(rnd, fx.chainIds)
          : r == 1 ? "w-" + base36(rnd, 8) : new UUID(rnd.nextLong(), rnd.nextLong()).toString();
      }
      case "after" -> {
        int r = rnd.nextInt(4);
        yield r == 0 ? "0" : r == 1 || fx.checkpointIds.isEmpty() ? Long.toString(rnd.nextInt(100_000))
          : pick(rnd, fx.checkpointIds);
      }
      case "from" -> Instant.ofEpochSecond(CLOCK + 30L * 86400 - rnd.nextInt(60 * 86400)).toString();
      case "to" -> Instant.ofEpochSecond(CLOCK + 31L * 86400 + rnd.nextInt(86400 * 60)).toString();
      default -> String.valueOf(value(p.schema(), p.name(), rnd));
    };
  }

  /** A value that fits the schema, with the names of the contract's fields as hints. */
  @SuppressWarnings("unchecked")
  private Object value(Map<String, Object> schema, String name, Random rnd) {
    if (schema.get("enum") instanceof List<?> values) {
      return values.get(rnd.nextInt(values.size()));
    }
    Object type = schema.get("type");
    if ("array".equals(type)) {
      Map<String, Object> items = (Map<String, Object>) schema.getOrDefault("items", Map.of());
      int min = schema.get("minItems") instanceof Number n ? n.intValue() : 0;
      int max = schema.get("maxItems") instanceof Number n ? Math.min(n.intValue(), min + 4) : min + 4;
      int size = min + rnd.nextInt(max - min + 1);
      JsonArray a = new JsonArray();
      for (int i = 0; i < size; i++) {
        a.add(value(items, name + "[]", rnd));
      }
      return a;
    }
    if ("object".equals(type)) {
      JsonObject o = new JsonObject();
      List<String> required = (List<String>) schema.getOrDefault("required", List.of());
      Map<String, Object> props = (Map<String, Object>) schema.getOrDefault("properties", Map.of());
      for (var e : props.entrySet()) {
        if (required.contains(e.getKey()) || rnd.nextInt(10) < 6) {
          o.put(e.getKey(), value((Map<String, Object>) e.getValue(), e.getKey(), rnd));
        }
      }
      return o;
    }
    if ("integer".equals(type)) {
      int min = schema.get("minimum") instanceof Number n ? n.intValue() : 0;
      int max = schema.get("maximum") instanceof Number n ? n.intValue() : 1000;
      return min + rnd.nextInt(max - min + 1);
    }
    if ("boolean".equals(type)) {
      return rnd.nextBoolean();
    }
    String pattern = (String) schema.get("pattern");
    String format = (String) schema.get("format");
    if ("date".equals(format)) {
      return LocalDate.of(2015 + rnd.nextInt(11), 1 + rnd.nextInt(12), 1 + rnd.nextInt(28)).toString();
    }
    if ("date-time".equals(format)) {
      return Instant.ofEpochSecond(CLOCK - rnd.nextInt(60 * 86400)).toString();
    }
    if (pattern != null && pattern.startsWith("^[0-9]{1,16}")) {
      return money(rnd);
    }
    if (pattern != null && pattern.equals("^[A-Z]{3}$")) {
      return pick(rnd, List.of("CNY", "USD", "EUR", "HKD"));
    }
    if (pattern != null && pattern.matches("\\^\\[0-9\\]\\{1,[0-9]+\\}\\$")) {
      return Long.toString(rnd.nextInt(1_000_000)); // an id of digits
    }
    if (pattern != null && pattern.startsWith("^[0-9]{4}-")) {
      return (2018 + rnd.nextInt(8)) + "-" + String.format("%02d", 1 + rnd.nextInt(12));
    }
    return switch (name) {
      case "nationalId" -> person(rnd);
      case "lenderId" -> rnd.nextInt(8) == 0 ? fx.suspendedMember : pick(rnd, fx.activeMembers);
      case "id" -> "fz-" + base36(rnd, 8);
      case "name" -> "Fuzz Member " + rnd.nextInt(100000);
      case "accountRef" -> pick(rnd, fx.accountRefs);
      case "checkpoints[]" -> fx.checkpoints.isEmpty() ? "fz" + rnd.nextInt(1000) : pick(rnd, fx.checkpoints);
      // member webhooks: a public address given literally (no DNS), or ones the bureau must refuse
      case "url" -> pick(rnd, List.of("https://93.184.216.34/hook", "http://93.184.216.34:8080/h?x=1",
        "http://169.254.169.254/latest/meta-data", "ftp://93.184.216.34/x", "http://127.0.0.1/x"));
      case "secret" -> rnd.nextInt(5) == 0 ? base36(rnd, 8) : base36(rnd, 40);
      default -> "fz" + rnd.nextInt(1000);
    };
  }

  private String person(Random rnd) {
    if (rnd.nextInt(10) < 7) {
      return pick(rnd, fx.people);
    }
    return NationalId.of(pick(rnd, List.of("110101", "310104", "440305", "510107")),
      LocalDate.of(1950 + rnd.nextInt(55), 1 + rnd.nextInt(12), 1 + rnd.nextInt(28)), rnd.nextInt(1000));
  }

  private static String money(Random rnd) {
    String whole = Integer.toString(rnd.nextInt(2_000_000));
    return rnd.nextBoolean() ? whole : whole + "." + String.format("%02d", rnd.nextInt(100));
  }

  // ---- mutations

  private record Family(String name, int weight, BiFunction<Draft, Random, String> apply) {
  }

  private void mutate(Draft d, Random rnd) {
    List<Family> families = new ArrayList<>();
    if (d.op.hasBody()) {
      families.add(new Family("body", 30, this::body));
      families.add(new Family("content-type", 6, Mutations::contentType));
    }
    families.add(new Family("path", d.op.params("path").isEmpty() ? 8 : 16, Mutations::path));
    families.add(new Family("query", d.op.params("query").isEmpty() ? 4 : 16, this::query));
    families.add(new Family("auth", d.op.secured() ? 14 : 3, this::auth));
    families.add(new Family("header", 10, Mutations::header));
    families.add(new Family("accept", 3, Mutations::accept));
    families.add(new Family("method", 5, Mutations::method));
    families.add(new Family("protocol", 4, Mutations::protocol));
    int total = families.stream().mapToInt(Family::weight).sum();
    int r = rnd.nextInt(total);
    for (Family f : families) {
      r -= f.weight();
      if (r < 0) {
        d.labels.add(f.name() + ":" + f.apply().apply(d, rnd));
        return;
      }
    }
  }

  private String body(Draft d, Random rnd) {
    if (d.ndjson != null) {
      return Mutations.ndjson(d, rnd, batchLine(rnd));
    }
    if (d.jsonArray != null) {
      return Mutations.jsonArray(d, rnd, d.op.bodySchema());
    }
    return Mutations.json(d, rnd, d.op.bodySchema());
  }

  private String query(Draft d, Random rnd) {
    List<Param> params = d.op.params("query");
    if (params.isEmpty() || rnd.nextInt(6) == 0) {
      return Mutations.queryStructure(d, rnd);
    }
    Param p = pick(rnd, params);
    if (p.name().equals("cursor") && rnd.nextInt(3) > 0) {
      String c = Cursors.mutated(d.op.id(), fx, rnd);
      d.setQuery("cursor", c.startsWith("raw:") ? c.substring(4) : enc(c));
      return "cursor";
    }
    if ((p.name().equals("from") || p.name().equals("to")) && rnd.nextInt(5) == 0) {
      d.setQuery("from", enc(Instant.ofEpochSecond(CLOCK).toString()));
      d.setQuery("to", enc(Instant.ofEpochSecond(CLOCK - 3600).toString()));
      return "inverted range";
    }
    return Mutations.queryValue(d, rnd, p);
  }

  private String auth(Draft d, Random rnd) {
    int r = rnd.nextInt(10);
    if (r < 6 && !fx.refused.isEmpty()) {
      d.cred = pick(rnd, fx.refused);
    } else if (r < 9 && d.role != null && !fx.notEntitled(d.role).isEmpty()) {
      d.cred = pick(rnd, fx.notEntitled(d.role));
    } else {
      d.cred = null;
      return "none";
    }
    return d.cred.name();
  }

  // ---- helpers

  static <T> T pick(Random rnd, List<T> values) {
    return values.get(rnd.nextInt(values.size()));
  }

  static String base36(Random rnd, int n) {
    String alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < n; i++) {
      sb.append(alphabet.charAt(rnd.nextInt(alphabet.length())));
    }
    return sb.toString();
  }

  /** Percent-encoding as a well-behaved client does it (for paths and queries alike). */
  static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  /** The request being built: valid first, then mutated in place. */
  static final class Draft {
    final Operation op;
    final Fixtures fx;
    String role;
    String method;
    String version = "HTTP/1.1";
    String path;
    /** Replaces the whole request target when set (request-line cases). */
    String target;
    final Map<String, String> pathValues = new LinkedHashMap<>();
    final List<String[]> query = new ArrayList<>();
    final List<String[]> headers = new ArrayList<>();
    Cred cred;
    boolean host = true;
    String contentType;
    JsonObject json;
    /** A body whose schema is an array (set instead of {@link #json}). */
    JsonArray jsonArray;
    List<String> ndjson;
    /** Replaces the JSON/NDJSON body when set. */
    byte[] rawBody;
    boolean chunked;
    boolean contentLength = true;
    boolean fresh;
    /** The request line no longer names the operation's route: what a credential may get is not known. */
    boolean offRoute;
    /** The body's framing is broken after the head: the server may close without an answer. */
    boolean mayClose;
    final List<String> labels = new ArrayList<>();

    Draft(Operation op, Fixtures fx) {
      this.op = op;
      this.fx = fx;
      this.method = op.method();
      this.path = op.path();
    }

    void setQuery(String name, String encodedValue) {
      query.removeIf(q -> q[0].equals(name));
      query.add(new String[] {name, encodedValue});
    }

    String renderPath() {
      String p = path;
      for (var e : pathValues.entrySet()) {
        p = p.replace("{" + e.getKey() + "}", e.getValue());
      }
      return p;
    }

    byte[] body() {
      if (rawBody != null) {
        return rawBody;
      }
      if (json != null) {
        return json.encode().getBytes(StandardCharsets.UTF_8);
      }
      if (jsonArray != null) {
        return jsonArray.encode().getBytes(StandardCharsets.UTF_8);
      }
      if (ndjson != null) {
        return (String.join("\n", ndjson) + "\n").getBytes(StandardCharsets.UTF_8);
      }
      return null;
    }

    FuzzRequest render(int index) {
      String t = target != null ? target : renderPath() + (query.isEmpty() ? "" : "?" + String.join("&",
        query.stream().map(q -> q.length == 1 || q[1] == null ? q[0] : q[0] + "=" + q[1]).toList()));
      List<String[]> hs = new ArrayList<>();
      if (host) {
        hs.add(new String[] {"Host", fx.host + ":" + fx.port});
      }
      boolean mustBeRefused = op.secured() && !offRoute && (cred == null || !cred.entitledTo(role));
      if (cred != null) {
        cred.authorization().forEach(a -> hs.add(new String[] {"Authorization", a}));
      }
      if (contentType != null) {
        hs.add(new String[] {"Content-Type", contentType});
      }
      if (headers.stream().noneMatch(h -> h[0].equalsIgnoreCase("X-Request-Id"))) {
        hs.add(new String[] {"X-Request-Id", REQUEST_ID_PREFIX + index}); // ties the server's log lines to the request
      }
      hs.addAll(headers);
      byte[] b = body();
      if (b != null && chunked) {
        hs.add(new String[] {"Transfer-Encoding", "chunked"});
        b = chunk(b);
      } else if (b != null && contentLength) {
        hs.add(new String[] {"Content-Length", Integer.toString(b.length)});
      }
      if (fresh) {
        hs.add(new String[] {"Connection", "close"});
      }
      String mutation = labels.isEmpty() ? "valid" : String.join(" + ", labels);
      String repr = Repr.of(index, op.id(), mutation, method, t, version, hs, b, cred, fx);
      return new FuzzRequest(index, op.id(), mutation, method, t, version, List.copyOf(hs), b, fresh, mustBeRefused,
        // (empty lines before the request line are skipped, RFC 9112 2.2: "\r\nHEAD" is a HEAD)
        method.replaceFirst("^(\r\n)+", "").equals("HEAD"), mayClose, repr);
    }

    private static byte[] chunk(byte[] b) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      int step = Math.max(1, b.length / 3 + 1);
      for (int i = 0; i < b.length; i += step) {
        int n = Math.min(step, b.length - i);
        out.writeBytes((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(b, i, n);
        out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
      }
      out.writeBytes("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      return out.toByteArray();
    }
  }

  /** Cursor values: the shapes this server returns, and broken ones. */
  static final class Cursors {
    private Cursors() {
    }

    static JsonObject shape(String operation, Fixtures fx, Random rnd) {
      long micros = (CLOCK - rnd.nextInt(30 * 86400)) * 1_000_000L;
      return switch (operation) {
        case "listMembers" -> new JsonObject().put("id", pick(rnd, fx.activeMembers));
        case "listConsents" -> new JsonObject().put("g", Instant.ofEpochSecond(CLOCK).minus(rnd.nextInt(30), ChronoUnit.DAYS).toString())
          .put("i", new UUID(rnd.nextLong(), rnd.nextLong()).toString());
        case "myInquiries" -> new JsonObject().put("a", micros).put("i", (long) rnd.nextInt(100000));
        case "myDisputes" -> new JsonObject().put("o", Instant.ofEpochSecond(CLOCK).minus(rnd.nextInt(30), ChronoUnit.DAYS).toString())
          .put("i", new UUID(rnd.nextLong(), rnd.nextLong()).toString());
        case "furnisherDisputes", "complianceDisputes" -> new JsonObject()
          .put("d", Instant.ofEpochSecond(CLOCK).plus(rnd.nextInt(30), ChronoUnit.DAYS).toString())
          .put("i", new UUID(rnd.nextLong(), rnd.nextLong()).toString());
        case "accessLog" -> new JsonObject().put("a", micros).put("i", (long) rnd.nextInt(100000))
          .put("f", micros - 86400_000_000L * 30).put("t", micros + 86400_000_000L).put("c", false);
        default -> new JsonObject().put("i", (long) rnd.nextInt(100000));
      };
    }

    static String valid(String operation, Fixtures fx, Random rnd) {
      return b64(shape(operation, fx, rnd).encode());
    }

    /** A broken cursor; "raw:" marks one to put in the query as it is (not percent-encoded). */
    static String mutated(String operation, Fixtures fx, Random rnd) {
      JsonObject s = shape(operation, fx, rnd);
      int r = rnd.nextInt(16);
      switch (r) {
        case 0:
          return pick(rnd, List.of("!!!", "====", "e30", "raw:%", "raw:%zz", "raw:%00", "a", "-_-_", "raw:%u002e"));
        case 1:
          return b64(pick(rnd, List.of("null", "[]", "1", "\"x\"", "{", "{}", "{\"i\":}", "true", "1e309")));
        case 2:
          return "x".repeat(513 + rnd.nextInt(2000));
        case 3:
          return Base64.getEncoder().encodeToString(s.encode().getBytes(StandardCharsets.UTF_8)); // +, / and =
        case 4:
          return b64(s.encode()) + "=";
        default:
          break;
      }
      List<String> keys = new ArrayList<>(s.fieldNames());
      String key = pick(rnd, keys);
      Object v = pick(rnd, List.of(Long.MAX_VALUE, Long.MIN_VALUE, -1L, 0L, 253_402_300_800_000_000L,
        -62_135_596_800_000_001L, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 1.5, "\u0000", "a\u0000b", "", "x".repeat(300), "\u202e\ud83d\ude00",
        "not-a-date", "0000-01-01T00:00:00Z", "+999999999-12-31T23:59:59Z", true, new JsonObject().put("a", 1),
        new JsonArray().add(1), "99999999999999999999999", "NaN"));
      if (v instanceof Double dbl && dbl.isInfinite()) {
        return b64(s.encode().replace("\"" + key + "\":", "\"" + key + "\":" + (dbl > 0 ? "1e309" : "-1e309") + ",\"_\":"));
      }
      if (r == 15) {
        s.remove(key);
        return b64(s.encode());
      }
      s.put(key, v);
      return b64(s.encode());
    }

    static String b64(String s) {
      return Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }
  }
}
