package io.openbureau.support.fuzz;

import io.openbureau.support.fuzz.ApiSpec.Param;
import io.openbureau.support.fuzz.Generator.Draft;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static io.openbureau.support.fuzz.Generator.enc;
import static io.openbureau.support.fuzz.Generator.pick;

/** The ways a valid request is broken; each returns a short label for the report. */
final class Mutations {
  private static final String RAW = "__FZRAW__";

  /** Bad or surprising percent-encodings and characters for a path segment or a query value (already "encoded"). */
  static final List<String> BAD_ENCODINGS = List.of("%", "%zz", "%u002e", "%00", "a%00b", "%2e%2e", "..", ".", "%2F",
    "%252F", "%C0%AE", "%ff", "%e2%82", "%0a", "%0d%0a", "%20", "%%", "%1", "%G0", "%F0%9F%92%A9", "%E2%80%AE",
    "%5C", "~", "%27", "%22", "%3Cx%3E", "%7Bid%7D", ";x=1", "a;b", "%3B", "*", "%2A", "%EF%BF%BF", "%ED%A0%80",
    "%01", "%7F", "%C3%A9");

  /** The encodings known to have hurt before: drawn far more often than their share of the list. */
  static final List<String> CORE_ENCODINGS = List.of("%", "%zz", "%u002e", "%00");
  /** NUL and control characters: drawn far more often than their share of the list. */
  static final List<String> CORE_STRINGS = List.of("\u0000", "a\u0000b", "\u0001\u0002\u0003", " \u0001 ");

  /** A bad encoding: four times in ten one of the core ones. */
  static String badEncoding(Random rnd) {
    return rnd.nextInt(10) < 4 ? pick(rnd, CORE_ENCODINGS) : pick(rnd, BAD_ENCODINGS);
  }

  /** A hostile string: four times in ten NUL or control characters. */
  static String hostile(Random rnd) {
    return rnd.nextInt(10) < 4 ? pick(rnd, CORE_STRINGS) : pick(rnd, HOSTILE_STRINGS);
  }

  /** Strings that are valid JSON but hostile (NUL, controls, unicode edge cases). */
  static final List<String> HOSTILE_STRINGS = List.of("\u0000", "a\u0000b", "\u0001\u0002\u0003", " \u0001 ", "\u007f",
    "\t\n\r", " ", "", "\ud83d\ude00", "\u202eabc", "e\u0301\u0301\u0301", "\uFFFE", "\uFEFFx", "\u00a0lender-a",
    "\uff11\uff11\uff10\uff11\uff10\uff11", "lender-a\u0000", "' OR 1=1 --", "${jndi:ldap://x}", "%00", "\\u0000",
    "..\\..\\", "<script>", "\u2028\u2029", "x".repeat(65), "\u0085", "lender-A");

  private Mutations() {
  }

  // ---- path

  static String path(Draft d, Random rnd) {
    if (!d.pathValues.isEmpty() && rnd.nextInt(3) > 0) {
      String name = pick(rnd, new ArrayList<>(d.pathValues.keySet()));
      int r = rnd.nextInt(10);
      String bad;
      String label;
      if (r < 7) {
        bad = badEncoding(rnd);
        label = bad;
      } else if (r < 8) {
        String suffix = badEncoding(rnd);
        bad = d.pathValues.get(name) + suffix;
        label = "<valid>" + suffix; // the valid part may be a server-made id: not in the label
      } else if (r < 9) {
        bad = "a".repeat(pick(rnd, List.of(65, 300, 3000)));
        label = "a*" + bad.length();
      } else {
        bad = enc(hostile(rnd));
        label = bad;
      }
      if (bad.isEmpty()) {
        bad = "%20";
        label = bad;
      }
      d.pathValues.put(name, bad);
      return name + "=" + Repr.escape(label, 16);
    }
    String p = d.path;
    int r = rnd.nextInt(11);
    switch (r) {
      case 0 -> d.path = p + "/";
      case 1 -> d.path = p.replaceFirst("/", "//");
      case 2 -> d.path = p.replaceFirst("/([^/]+)/", "/$1//");
      case 3 -> d.path = p.replaceFirst("/([^/]+)$", "/./$1");
      case 4 -> d.path = p + "/../" + p.substring(p.lastIndexOf('/') + 1);
      case 5 -> d.path = p.toUpperCase();
      case 6 -> d.path = p + "/" + badEncoding(rnd);
      case 7 -> d.path = p + badEncoding(rnd);
      case 8 -> d.path = p + ";jsessionid=fz";
      case 9 -> d.path = p.replace("/", "%2F");
      default -> d.path = p + "/extra";
    }
    return "structure:" + Repr.escape(d.path.substring(Math.max(0, d.path.length() - 16)), 16);
  }

  // ---- query

  static String queryStructure(Draft d, Random rnd) {
    int r = rnd.nextInt(8);
    switch (r) {
      case 0 -> d.query.add(new String[] {"fz", "1"});
      case 1 -> d.query.add(new String[] {badEncoding(rnd) + "x", "1"});
      case 2 -> d.query.add(new String[] {"", ""});
      case 3 -> d.query.add(new String[] {"&&&"});
      case 4 -> d.query.add(new String[] {"a", "1#frag"});
      case 5 -> d.query.add(new String[] {"x".repeat(pick(rnd, List.of(2000, 5000))), "1"});
      case 6 -> d.query.add(new String[] {"%"});
      default -> d.query.add(new String[] {"limit", "1&limit=2&limit=%zz"});
    }
    return "structure" + r;
  }

  @SuppressWarnings("unchecked")
  static String queryValue(Draft d, Random rnd, Param p) {
    Map<String, Object> s = p.schema();
    int r = rnd.nextInt(12);
    String v;
    if (r < 4) {
      v = badEncoding(rnd);
    } else if (r < 5) {
      String existing = d.query.stream().filter(q -> q[0].equals(p.name())).map(q -> q[1]).findFirst().orElse("1");
      d.query.add(new String[] {p.name(), existing});
      d.query.add(new String[] {p.name(), pick(rnd, List.of("2", "%zz", ""))});
      return p.name() + " twice";
    } else if (r < 7) {
      v = enc(hostile(rnd));
    } else if ("integer".equals(s.get("type"))) {
      v = pick(rnd, List.of("0", "-1", "1001", "2147483648", "9223372036854775808", "99999999999999999999", "1e309",
        "-1e309", "NaN", "Infinity", "1.5", "1e2", "%201", "0x10", "%2B5", "", "-0", "1e-400", "%D9%A1%D9%A2", "1.0"));
    } else if ("date-time".equals(s.get("format"))) {
      v = enc(pick(rnd, List.of("0000-01-01T00:00:00Z", "-999999999-01-01T00:00:00Z", "+999999999-12-31T23:59:59.999999999Z",
        "9999-12-31T23:59:59Z", "1970-01-01T00:00:00Z", "1000-01-01T00:00:00Z", "2026-02-30T00:00:00Z",
        "2026-11-22T08:15:30+25:00", "2026-11-22T08:15:30+14:00", "2026-11-22", "now", "2026-11-22T08:15:30.1234567891Z",
        "2026-11-22T24:00:00Z", "0001-01-01T00:00:00Z", "-0001-01-01T00:00:00Z", "294247-01-10T04:00:54.775807Z",
        "-290308-12-21T19:59:05.224192Z", "2026-11-22t08:15:30z", "")));
      if (rnd.nextBoolean()) {
        v = v.replace("%2B", "+"); // a raw plus: a space once decoded
      }
    } else if (s.get("enum") instanceof List<?> values) {
      v = pick(rnd, List.of("", String.valueOf(values.get(0)).toLowerCase(), values.get(0) + "%00", "%20" + values.get(0),
        "GRANTED,DENIED", "*"));
    } else if (s.get("maxLength") instanceof Integer max) {
      v = "x".repeat(pick(rnd, List.of(max + 1, max * 4, 3000)));
    } else {
      v = pick(rnd, List.of("", "%00", "x".repeat(2000)));
    }
    d.setQuery(p.name(), v);
    return p.name() + "=" + Repr.escape(v, 16);
  }

  // ---- JSON bodies

  @SuppressWarnings("unchecked")
  static String json(Draft d, Random rnd, Map<String, Object> schema) {
    JsonObject body = d.json == null ? new JsonObject() : d.json;
    Map<String, Object> props = (Map<String, Object>) schema.getOrDefault("properties", Map.of());
    List<String> names = new ArrayList<>(props.keySet());
    String field = names.isEmpty() ? "x" : pick(rnd, names);
    Map<String, Object> fieldSchema = (Map<String, Object>) props.getOrDefault(field, Map.of());
    List<String> strings = names.stream().filter(n -> "string".equals(((Map<String, Object>) props.get(n)).get("type")))
      .toList();
    int r = rnd.nextInt(17);
    if (r >= 14) {
      // hostile strings are what reached Postgres before: a string field, or every one of them
      if (r == 16) {
        String s = hostile(rnd);
        strings.forEach(f -> body.put(f, s));
        return "hostile every string=" + Repr.escape(s, 12);
      }
      field = strings.isEmpty() ? field : pick(rnd, strings);
      r = 3;
    }
    switch (r) {
      case 0 -> {
        body.put(field, pick(rnd, List.of(123, -1, 1.5, true, false, new JsonArray(), new JsonObject(), "str",
          new JsonArray().add(1).add(2), new JsonObject().put("a", 1), "")));
        if (rnd.nextInt(4) == 0) {
          body.putNull(field);
        }
        return "wrong type " + field;
      }
      case 1 -> {
        String literal = pick(rnd, List.of("0", "-1", "2147483648", "9223372036854775808", "-9223372036854775809",
          "1e309", "-1e309", "1.0", "1e2", "-0", "0.0000001", "123456789012345678901234567890", "\"NaN\"",
          "\"Infinity\"", "1E400", "1" + "0".repeat(1200), "NaN", "-"));
        String target = "integer".equals(fieldSchema.get("type")) || rnd.nextBoolean() ? field : "daysPastDue";
        body.put(target, RAW);
        d.rawBody = raw(body, literal);
        return "number " + target + "=" + Repr.escape(literal, 12);
      }
      case 2 -> {
        int max = fieldSchema.get("maxLength") instanceof Integer m ? m : 64;
        int n = pick(rnd, List.of(max + 1, 10_000, 200_000));
        body.put(field, "x".repeat(n));
        return "long " + field + " (" + n + ")";
      }
      case 3, 4 -> {
        String s = hostile(rnd);
        body.put(field, rnd.nextBoolean() ? s : body.getValue(field) + s);
        return "hostile " + field + "=" + Repr.escape(s, 12);
      }
      case 5 -> {
        String key = pick(rnd, List.of("\u0000", "fz", "__proto__", "constructor", "", "\ud83d\ude00", "x".repeat(300),
          field.toUpperCase(), field + " "));
        body.put(key, pick(rnd, List.of(1, "x", new JsonObject(), "\u0000")));
        return "extra field " + Repr.escape(key, 12);
      }
      case 6 -> {
        List<String> required = (List<String>) schema.getOrDefault("required", List.of());
        if (rnd.nextInt(5) == 0 || required.isEmpty()) {
          d.json = new JsonObject();
          return "empty object";
        }
        String gone = pick(rnd, required);
        body.remove(gone);
        return "missing " + gone;
      }
      case 7 -> {
        String text = body.encode();
        String dup = "\"" + field + "\":" + pick(rnd, List.of("1", "\"other\"", "null", "\"\\u0000\"")) + ",";
        d.rawBody = (text.startsWith("{}") ? "{" + dup.substring(0, dup.length() - 1) + "}" : "{" + dup + text.substring(1))
          .getBytes(StandardCharsets.UTF_8);
        return "duplicate key " + field;
      }
      case 8 -> {
        int depth = pick(rnd, List.of(100, 1001, 5000, 20000));
        String nested = rnd.nextBoolean() ? "[".repeat(depth) + "]".repeat(depth)
          : "{\"a\":".repeat(depth) + "1" + "}".repeat(depth);
        if (rnd.nextInt(3) == 0) {
          d.rawBody = nested.getBytes(StandardCharsets.UTF_8);
          return "deep nesting top " + depth;
        }
        body.put(field, RAW);
        d.rawBody = raw(body, nested);
        return "deep nesting " + field + " " + depth;
      }
      case 9 -> {
        byte[] text = body.encode().getBytes(StandardCharsets.UTF_8);
        int cut = text.length <= 1 ? 0 : rnd.nextInt(text.length - 1);
        d.rawBody = java.util.Arrays.copyOf(text, cut);
        return "truncated at " + cut;
      }
      case 10 -> {
        String text = body.encode();
        String bad = pick(rnd, List.of("", "null", "[]", "\"str\"", "123", "{", "}", "{,}", text.replace("}", ",}"),
          text.replace('"', '\''), "/* c */" + text, text.replace(":", ":NaN,\"z\":"), "{a:1}", text + " x", text + text,
          "   ", "\n", "true", "[" + text + "]", text.replaceFirst("\"", "")));
        d.rawBody = bad.getBytes(StandardCharsets.UTF_8);
        return "invalid JSON " + Repr.escape(bad, 12);
      }
      case 11 -> {
        String text = body.encode();
        int k = rnd.nextInt(4);
        d.rawBody = switch (k) {
          case 0 -> concat(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}, text.getBytes(StandardCharsets.UTF_8));
          case 1 -> text.getBytes(StandardCharsets.UTF_16LE);
          case 2 -> raw(body.put(field, RAW), "\"a" + new String(new byte[] {(byte) 0xC3, (byte) 0x28}, StandardCharsets.ISO_8859_1) + "\"", true);
          default -> raw(body.put(field, RAW), "\"" + new String(new byte[] {(byte) 0xC0, (byte) 0xA2, (byte) 0xFF}, StandardCharsets.ISO_8859_1) + "\"", true);
        };
        return "encoding " + k;
      }
      case 12 -> {
        // a raw control character (not escaped) inside a string: invalid JSON
        body.put(field, RAW);
        d.rawBody = raw(body, "\"a" + (char) (int) pick(rnd, List.of(0, 1, 9, 10, 31)) + "b\"");
        return "raw control in " + field;
      }
      default -> {
        // a NUL as a key, as in the issue: {"\u0000":1}
        d.json = new JsonObject().put("\u0000", 1);
        if (rnd.nextBoolean()) {
          body.put("\u0000", 1);
          d.json = body;
        }
        return "NUL key";
      }
    }
  }

  /**
   * Breaks a body whose schema is an array (the outsider's copy of the checkpoints: compact JWS
   * strings): its size, its items' types and lengths, hostile strings, JWS that are forged,
   * re-signed by someone else, cut, or the bureau's but not checkpoints, and the JSON text itself.
   */
  @SuppressWarnings("unchecked")
  static String jsonArray(Draft d, Random rnd, Map<String, Object> schema) {
    JsonArray body = d.jsonArray;
    Map<String, Object> items = (Map<String, Object>) schema.getOrDefault("items", Map.of());
    int max = schema.get("maxItems") instanceof Integer m ? m : 1000;
    int maxLength = items.get("maxLength") instanceof Integer m ? m : 16384;
    String sample = body.isEmpty() || !(body.getValue(0) instanceof String first) ? "e30.e30.e30" : first;
    int at = body.isEmpty() ? 0 : rnd.nextInt(body.size());
    int r = rnd.nextInt(16);
    switch (r) {
      case 0 -> {
        d.jsonArray = new JsonArray();
        return "array empty";
      }
      case 1 -> {
        int n = pick(rnd, List.of(max, max + 1, 5000));
        JsonArray many = new JsonArray();
        for (int i = 0; i < n; i++) {
          many.add(sample);
        }
        d.jsonArray = many;
        return "array of " + n;
      }
      case 2 -> {
        Object v = pick(rnd, List.of(123, -1, 1.5, true, new JsonArray(), new JsonObject(), new JsonArray().add(sample),
          new JsonObject().put("signature", sample)));
        set(body, at, v);
        if (rnd.nextInt(4) == 0) {
          body.addNull();
        }
        return "item wrong type";
      }
      case 3 -> {
        int n = pick(rnd, List.of(maxLength + 1, 100_000));
        set(body, at, "x".repeat(n));
        return "long item (" + n + ")";
      }
      case 4, 5 -> {
        String h = hostile(rnd);
        set(body, at, rnd.nextBoolean() ? h : sample + h);
        return "hostile item=" + Repr.escape(h, 12);
      }
      case 6, 7 -> {
        set(body, at, forged(sample, rnd));
        return "forged checkpoint";
      }
      case 8 -> {
        List<String> receipts = d.fx.receipts;
        set(body, at, receipts.isEmpty() ? sample : pick(rnd, receipts));
        return "bureau JWS not a checkpoint";
      }
      case 9 -> {
        // signed correctly, but by an issuer of tokens: the kid and the key are not the bureau's
        List<String> foreign = d.fx.foreignCheckpoints;
        set(body, at, foreign.isEmpty() ? sample : pick(rnd, foreign));
        return "checkpoint signed by another key";
      }
      case 10 -> {
        for (int i = 0; i < 1 + rnd.nextInt(20); i++) {
          body.add(sample);
        }
        return "duplicates";
      }
      case 11 -> {
        d.rawBody = pick(rnd, List.of("{}", "\"" + sample + "\"", "null", "[", "[\"a\",]", "[,]", "[\"a\" \"b\"]",
          "[null]", "[[]]", "[1e309]", "[\"\\ud800\"]", body.encode() + " x", body.encode() + body.encode(),
          "[" + body.encode() + "]", body.encode().replace('"', '\''))).getBytes(StandardCharsets.UTF_8);
        return "invalid array " + Repr.escape(new String(d.rawBody, StandardCharsets.UTF_8), 12);
      }
      case 12 -> {
        byte[] text = body.encode().getBytes(StandardCharsets.UTF_8);
        int cut = text.length <= 1 ? 0 : rnd.nextInt(text.length - 1);
        d.rawBody = java.util.Arrays.copyOf(text, cut);
        return "truncated at " + cut;
      }
      case 13 -> {
        int depth = pick(rnd, List.of(100, 1001, 5000, 20000));
        d.rawBody = ("[".repeat(depth) + "]".repeat(depth)).getBytes(StandardCharsets.UTF_8);
        return "deep nesting top " + depth;
      }
      case 14 -> {
        String text = body.encode();
        int k = rnd.nextInt(3);
        d.rawBody = switch (k) {
          case 0 -> concat(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}, text.getBytes(StandardCharsets.UTF_8));
          case 1 -> text.getBytes(StandardCharsets.UTF_16LE);
          default -> ("[\"a" + new String(new byte[] {(byte) 0xC3, (byte) 0x28}, StandardCharsets.ISO_8859_1) + "\"]")
            .getBytes(StandardCharsets.ISO_8859_1);
        };
        return "array encoding " + k;
      }
      default -> {
        // a raw control character (not escaped) inside an item: invalid JSON
        d.rawBody = ("[\"" + sample.substring(0, Math.min(8, sample.length())) + (char) (int) pick(rnd, List.of(0, 1, 10, 31))
          + "\"]").getBytes(StandardCharsets.UTF_8);
        return "raw control in item";
      }
    }
  }

  /** A checkpoint JWS with one part changed: the signature no longer holds, or its header asks for trust it has no right to. */
  private static String forged(String jws, Random rnd) {
    String[] parts = jws.split("\\.", -1);
    if (parts.length != 3) {
      return jws + ".x";
    }
    JsonObject header = decodeJson(parts[0]);
    JsonObject claims = decodeJson(parts[1]);
    int r = rnd.nextInt(9);
    switch (r) {
      case 0 -> {
        char[] sig = parts[2].toCharArray();
        int i = rnd.nextInt(Math.max(1, sig.length));
        if (sig.length > 0) {
          sig[i] = sig[i] == 'A' ? 'B' : 'A';
        }
        return parts[0] + "." + parts[1] + "." + new String(sig);
      }
      case 1 -> {
        if (claims != null) {
          Object seq = claims.getValue("chainSeq");
          claims.put("chainSeq", pick(rnd, List.of(seq instanceof Number n ? n.longValue() + 1 : 1, -1L, 0L, Long.MAX_VALUE,
            "1", 1.5, new JsonArray())));
        }
        return b64(header) + "." + b64(claims) + "." + parts[2];
      }
      case 2 -> {
        if (claims != null) {
          claims.put(pick(rnd, List.of("chainId", "headHash", "merkleRoot", "fromSeq", "typ", "iss")),
            pick(rnd, List.of("\u0000", "a\u0000b", "", "zz", "x".repeat(300), 1, new JsonObject())));
        }
        return b64(header) + "." + b64(claims) + "." + parts[2];
      }
      case 3 -> {
        if (header != null) {
          header.put("alg", pick(rnd, List.of("none", "HS256", "ES256", "", "rs256")));
        }
        return b64(header) + "." + parts[1] + "." + (rnd.nextBoolean() ? "" : parts[2]);
      }
      case 4 -> {
        if (header != null) {
          header.put("kid", pick(rnd, List.of("unknown", "", "../../etc/passwd", "\u0000", "x".repeat(500))));
        }
        return b64(header) + "." + parts[1] + "." + parts[2];
      }
      case 5 -> {
        if (header != null) {
          header.put("crit", new JsonArray().add("fz-ext")).put("fz-ext", true);
        }
        return b64(header) + "." + parts[1] + "." + parts[2];
      }
      case 6 -> {
        return pick(rnd, List.of(parts[0] + "." + parts[1], parts[0] + ".." + parts[2], "..", "...", parts[0] + "." + parts[1]
          + "." + parts[2] + ".x", "%%%.%%%.%%%", parts[0] + "." + parts[1] + ".!!!", jws.replace('-', '+')));
      }
      case 7 -> {
        return pick(rnd, List.of("bnVsbA", "W10", "e30", "eyJ")) + "." + parts[1] + "." + parts[2];
      }
      default -> {
        return parts[0] + "." + pick(rnd, List.of("bnVsbA", "W10", "e30", "eyJ", "MQ")) + "." + parts[2];
      }
    }
  }

  private static void set(JsonArray a, int at, Object v) {
    if (a.isEmpty()) {
      a.add(v);
    } else {
      a.set(at, v);
    }
  }

  private static JsonObject decodeJson(String part) {
    try {
      return new JsonObject(new String(java.util.Base64.getUrlDecoder().decode(part), StandardCharsets.UTF_8));
    } catch (RuntimeException e) {
      return null;
    }
  }

  private static String b64(JsonObject o) {
    return o == null ? "e30" : FuzzTokens.b64(o.encode());
  }

  static String ndjson(Draft d, Random rnd, JsonObject extraLine) {
    List<String> lines = d.ndjson;
    int r = rnd.nextInt(9);
    switch (r) {
      case 0 -> lines.add("");
      case 1 -> lines.replaceAll(l -> l + "\r");
      case 2 -> lines.add("{\"type\":\"tradeline\",\"accountRef\":\"" + "x".repeat(100_000) + "\"}");
      case 3 -> {
        for (int i = 0; i < 200; i++) {
          lines.add(extraLine.encode());
        }
      }
      case 4 -> lines.add(pick(rnd, List.of("null", "[]", "1", "\"x\"", "{", "{}", "{\"type\":\"fz\"}", "\u0000",
        "{\"type\":\"repayment\"}", "{\"type\":null}")));
      case 5 -> {
        JsonObject line = extraLine.copy();
        String key = pick(rnd, new ArrayList<>(line.fieldNames()));
        line.put(key, hostile(rnd));
        lines.add(line.encode());
      }
      case 6 -> {
        JsonObject line = extraLine.copy();
        line.put("\u0000", 1);
        lines.add(line.encode());
      }
      case 7 -> {
        JsonObject line = extraLine.copy();
        String key = pick(rnd, new ArrayList<>(line.fieldNames()));
        line.put(key, RAW);
        lines.add(line.encode().replace("\"" + RAW + "\"", pick(rnd, List.of("1e309", "9223372036854775808", "-1",
          "[[[[[[[[[[]]]]]]]]]]", "{\"a\":{}}", "true", "\"\\ud800\""))));
      }
      default -> {
        String joined = String.join("\n", lines);
        d.rawBody = joined.substring(0, joined.isEmpty() ? 0 : rnd.nextInt(joined.length())).getBytes(StandardCharsets.UTF_8);
      }
    }
    return "ndjson" + r;
  }

  // ---- content type, accept

  static String contentType(Draft d, Random rnd) {
    int r = rnd.nextInt(22);
    if (r == 0) {
      d.contentType = null;
      return "none";
    }
    if (r == 1) {
      d.headers.add(new String[] {"Content-Type", "text/plain"});
      return "duplicated";
    }
    if (r == 2) {
      // a form body with a target that does not decode: once no answer at all (Vert.x decodes both as form attributes)
      d.contentType = rnd.nextBoolean() ? "application/x-www-form-urlencoded" : "multipart/form-data; boundary=x";
      d.query.add(new String[] {badEncoding(rnd)});
      if (rnd.nextBoolean()) {
        d.rawBody = pick(rnd, List.of("a=%zz", "%", "a=%00", "a=1&b=%u002e")).getBytes(StandardCharsets.UTF_8);
      }
      return "form with bad query";
    }
    d.contentType = pick(rnd, List.of("text/plain", "application/json; charset=utf-16", "application/json;charset=nope",
      "application/x-ndjson", "application/json", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded",
      "application/json, text/plain", "", "application/problem+json", "APPLICATION/JSON", "application/json;;;",
      "application/json; charset=\"", "*/*", "application/", "/json", "a".repeat(5000), "application/json\u0001",
      "application/x-ndjson; charset=latin1", "text/csv"));
    return Repr.escape(d.contentType, 24);
  }

  static String accept(Draft d, Random rnd) {
    String a = pick(rnd, List.of("text/csv", "application/xml", "*/*;q=0", "application/json;q=0", "text/html", "",
      "application/x-ndjson", "x".repeat(4000), "*/*;q=abc", "image/png, text/csv;q=0.5", "application/problem+json",
      "text/csv;charset=utf-16", "*"));
    d.headers.add(new String[] {"Accept", a});
    return Repr.escape(a, 24);
  }

  // ---- headers

  static String header(Draft d, Random rnd) {
    int r = rnd.nextInt(16);
    switch (r) {
      case 0 -> {
        String id = pick(rnd, List.of("", " ", "x".repeat(129), "x".repeat(5000), "../../etc/passwd", "<script>",
          "a\u0000b", "\u00e9", "id with space", "a,b", "%00", "\u0001", "ok-id", "\u202e"));
        d.headers.add(new String[] {"X-Request-Id", id});
        d.fresh |= id.chars().anyMatch(c -> c < 0x20);
        return "request id " + Repr.escape(id, 12);
      }
      case 1 -> {
        String e = pick(rnd, List.of("fz-weird", "100-continue", "", "200-ok", "100-continue, fz"));
        d.headers.add(new String[] {"Expect", e});
        d.fresh = true;
        return "Expect " + e;
      }
      case 2 -> {
        int n = pick(rnd, List.of(8000, 15000, 20000, 70000));
        d.headers.add(new String[] {"X-Fz", "a".repeat(n)});
        d.fresh = true;
        return "huge header " + n;
      }
      case 3 -> {
        int n = pick(rnd, List.of(100, 300, 2000));
        for (int i = 0; i < n; i++) {
          d.headers.add(new String[] {"X-Fz-" + i, Integer.toString(i)});
        }
        d.fresh = true;
        return "many headers " + n;
      }
      case 4 -> {
        d.headers.add(new String[] {pick(rnd, List.of("X Fz: 1", "X-Fz\u0000: 1", ": novalue", "NoColon", "X-Fz : 1",
          "X-F\u00e9: 1", "(x): 1"))});
        d.fresh = true;
        return "bad header line";
      }
      case 5 -> {
        d.headers.add(new String[] {"X-Fz: a"});
        d.headers.add(new String[] {" continued"});
        d.fresh = true;
        return "obs-fold";
      }
      case 6 -> {
        String v = pick(rnd, List.of("a\u0000b", "\u0001", "\u007f", "\u00ff", "\ud83d\ude00"));
        d.headers.add(new String[] {pick(rnd, List.of("X-Fz", "Accept", "Authorization", "Content-Type")), v});
        d.fresh = true;
        return "control in header " + Repr.escape(v, 8);
      }
      case 7 -> {
        int k = rnd.nextInt(4);
        d.fresh = true;
        switch (k) {
          case 0 -> d.host = false;
          case 1 -> d.headers.add(new String[] {"Host", "other.example"});
          case 2 -> {
            d.host = false;
            d.headers.add(new String[] {"Host", pick(rnd, List.of("@@@", "[::1", "h".repeat(3000), "", "a b"))});
          }
          default -> {
            d.host = false;
            d.headers.add(new String[] {"Host", "127.0.0.1:99999"});
          }
        }
        return "host " + k;
      }
      case 8 -> {
        d.contentLength = false;
        // only values no parser can take for a length (a plausible one would make the server wait for bytes)
        String cl = pick(rnd, List.of("abc", "-1", "99999999999999999999", "0x10", "1.0", "1 1", "-0x1"));
        d.headers.add(new String[] {"Content-Length", cl});
        d.fresh = true;
        return "Content-Length " + cl;
      }
      case 9 -> {
        if (d.body() == null) {
          d.rawBody = "{}".getBytes(StandardCharsets.UTF_8);
        }
        d.chunked = true;
        return "chunked";
      }
      case 10 -> {
        d.fresh = true;
        // (a final coding other than chunked is left out: Netty then reads the body until the
        // connection closes, where RFC 9112 6.3 wants a 400; a fuzz case would only wait for it)
        int k = rnd.nextInt(3);
        if (d.body() == null) {
          d.rawBody = "{}".getBytes(StandardCharsets.UTF_8);
        }
        switch (k) {
          case 0 -> {
            d.chunked = true;
            d.headers.add(new String[] {"Content-Length", "3"});
          }
          case 1 -> {
            d.chunked = true;
            d.headers.add(new String[] {"Transfer-Encoding", "chunked"});
          }
          default -> {
            // a broken chunk size once the head has been routed: closing the connection is a fair answer
            d.contentLength = false;
            d.mayClose = true;
            d.headers.add(new String[] {"Transfer-Encoding", "chunked"});
            d.rawBody = "zz\r\nabc\r\n0\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
          }
        }
        return "transfer-encoding " + k;
      }
      case 11 -> {
        String ce = pick(rnd, List.of("gzip", "br", "deflate", "identity", "x-fz"));
        d.headers.add(new String[] {"Content-Encoding", ce});
        return "Content-Encoding " + ce;
      }
      case 12 -> {
        d.fresh = true;
        if (rnd.nextBoolean()) {
          d.headers.add(new String[] {"Connection", "Upgrade, HTTP2-Settings"});
          d.headers.add(new String[] {"Upgrade", "h2c"});
          d.headers.add(new String[] {"HTTP2-Settings", "AAMAAABkAAQAAP__"});
          return "upgrade h2c";
        }
        d.headers.add(new String[] {"Connection", "Upgrade"});
        d.headers.add(new String[] {"Upgrade", "websocket"});
        return "upgrade websocket";
      }
      case 13 -> {
        String range = pick(rnd, List.of("bytes=0-1", "bytes=999999-", "bytes=-0", "bytes=a-b", "bytes=5-1",
          "bytes=0-1,2-3,4-5"));
        d.headers.add(new String[] {"Range", range});
        return "Range " + range;
      }
      case 14 -> {
        d.headers.add(new String[] {pick(rnd, List.of("If-None-Match", "If-Modified-Since", "Cookie", "X-Forwarded-For",
          "Origin", "Forwarded")), pick(rnd, List.of("garbage", "*", "\"x\"", "Thu, 01 Jan 1970 00:00:00 GMT", ";;;", ""))});
        return "misc header";
      }
      default -> {
        d.headers.add(new String[] {"Content-Type", "application/json"});
        d.headers.add(new String[] {"X-Request-Id", "a"});
        d.headers.add(new String[] {"X-Request-Id", "b"});
        return "duplicate headers";
      }
    }
  }

  // ---- method and request line

  static String method(Draft d, Random rnd) {
    String m = pick(rnd, List.of("FUZZ", "PROPFIND", "get", "TRACE", "CONNECT", "OPTIONS", "HEAD", "PATCH", "M".repeat(100),
      "GE\u0001T", "PRI", "DELETE", "PUT", "POST", "GET", "QUERY", "LINK", "BREW", "M-SEARCH"));
    if (m.equals(d.method)) {
      m = "FUZZ";
    }
    d.method = m;
    d.fresh |= m.equals("PRI") || m.equals("CONNECT") || m.chars().anyMatch(c -> c < 0x20);
    return Repr.escape(m, 12);
  }

  static String protocol(Draft d, Random rnd) {
    d.fresh = true;
    int r = rnd.nextInt(12);
    switch (r) {
      case 0, 1 -> d.version = pick(rnd, List.of("HTTP/1.0", "HTTP/2.0", "HTTP/1.2", "HTTP/9.9", "", "http/1.1", "HTTP/1",
        "HTTP/1.1 extra", "HTTPS/1.1", "HTTP/2", "HTTP/0.9"));
      case 2 -> d.target = d.renderPath().substring(1);
      case 3 -> d.target = "http://" + d.fx.host + ":" + d.fx.port + d.renderPath();
      case 4 -> {
        d.target = "*";
        d.method = rnd.nextBoolean() ? "OPTIONS" : d.method;
      }
      case 5 -> d.target = "//" + d.renderPath();
      case 6 -> d.target = d.renderPath() + "\t";
      case 7 -> d.target = d.renderPath() + "?" + "q".repeat(pick(rnd, List.of(4100, 9000, 70000)));
      case 8 -> d.method = d.method + " ";
      case 9 -> d.target = "https://elsewhere.example" + d.renderPath();
      case 10 -> d.target = "";
      default -> d.method = "\r\n" + d.method;
    }
    d.offRoute = true;
    return r + (r <= 1 ? " " + d.version : "");
  }

  // ---- helpers

  private static byte[] raw(JsonObject body, String literal) {
    return raw(body, literal, false);
  }

  /** The body's JSON text with the placeholder replaced by a literal (latin1 when it carries raw bytes). */
  private static byte[] raw(JsonObject body, String literal, boolean bytes) {
    String text = body.encode();
    int at = text.indexOf("\"" + RAW + "\"");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(text.substring(0, at).getBytes(StandardCharsets.UTF_8));
    out.writeBytes(bytes ? literal.getBytes(StandardCharsets.ISO_8859_1) : literal.getBytes(StandardCharsets.UTF_8));
    out.writeBytes(text.substring(at + RAW.length() + 2).getBytes(StandardCharsets.UTF_8));
    return out.toByteArray();
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
