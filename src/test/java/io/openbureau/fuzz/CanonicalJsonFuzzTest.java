package io.openbureau.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.openbureau.audit.ChainHash;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The chain's canonical encoding of {@code details} under fuzzing: whatever JSON (or JSON-like
 * object) goes in, the text is valid UTF-8 JSON, reads back to the same text (a fixed point), and
 * lists keys in jsonb's order (shorter first, then by bytes) at every level.
 */
@DisplayName("Fuzzing the chain's canonical JSON encoding")
class CanonicalJsonFuzzTest {

  /** One fuzz target per class: Jazzer fuzzes one per JVM (the build forks one JVM per class). */
  @FuzzTest(maxDuration = "3s")
  @DisplayName("any JSON object, or one built with lone surrogates and non-finite numbers, encodes to UTF-8 JSON that reads back to the same text, keys in jsonb order")
  void encoding(FuzzedDataProvider data) {
    if (data.consumeBoolean()) {
      check(build(data, 0));
    } else {
      anyJson(data.consumeRemainingAsString());
    }
  }

  private static void anyJson(String text) {
    JsonObject json;
    try {
      json = new JsonObject(text);
    } catch (DecodeException | ClassCastException e) {
      return; // not an object: the writer is never given one
    }
    check(json);
  }

  private static JsonObject build(FuzzedDataProvider data, int depth) {
    JsonObject o = new JsonObject();
    int n = data.consumeInt(0, 6);
    for (int i = 0; i < n && data.remainingBytes() > 0; i++) {
      String key = data.consumeString(12);
      switch (data.consumeInt(0, 7)) {
        case 0 -> o.put(key, data.consumeString(40));
        case 1 -> o.put(key, data.consumeLong());
        case 2 -> o.put(key, data.consumeDouble());
        case 3 -> o.put(key, data.consumeBoolean());
        case 4 -> o.putNull(key);
        case 5 -> o.put(key, depth < 3 ? build(data, depth + 1) : new JsonObject());
        case 6 -> o.put(key, new JsonArray().add(data.consumeString(8)).add(data.consumeInt()).add(data.consumeFloat()));
        default -> o.put(key, new java.math.BigDecimal(java.math.BigInteger.valueOf(data.consumeLong()), data.consumeInt(-20, 20)));
      }
    }
    return o;
  }

  private static void check(JsonObject json) {
    String canonical = ChainHash.canonicalJson(json);
    byte[] utf8 = canonical.getBytes(StandardCharsets.UTF_8);
    try {
      StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(utf8));
    } catch (CharacterCodingException e) {
      fail("not valid UTF-8");
    }
    for (int i = 0; i < canonical.length(); i++) {
      char c = canonical.charAt(i);
      if (Character.isHighSurrogate(c)) {
        assertTrue(i + 1 < canonical.length() && Character.isLowSurrogate(canonical.charAt(i + 1)), "lone high surrogate");
        i++;
      } else {
        assertTrue(!Character.isLowSurrogate(c), "lone low surrogate");
      }
    }
    JsonObject back;
    try {
      back = exact(canonical);
    } catch (java.io.IOException e) {
      throw new AssertionError("the canonical text is not JSON: " + e.getMessage());
    }
    assertEquals(canonical, ChainHash.canonicalJson(back), "the canonical text is a fixed point");
    keysInJsonbOrder(back.getMap());
  }

  /**
   * Reads JSON keeping every number exactly (BigDecimal / BigInteger) and keys in text order: what
   * jsonb keeps, unlike a decoder that turns 1.2300 into the double 1.23.
   */
  static JsonObject exact(String text) throws java.io.IOException {
    try (com.fasterxml.jackson.core.JsonParser p = new com.fasterxml.jackson.core.JsonFactory().createParser(text)) {
      p.nextToken();
      Object v = value(p);
      if (p.nextToken() != null) {
        throw new java.io.IOException("trailing content");
      }
      return (JsonObject) v;
    }
  }

  private static Object value(com.fasterxml.jackson.core.JsonParser p) throws java.io.IOException {
    switch (p.currentToken()) {
      case START_OBJECT -> {
        JsonObject o = new JsonObject(new java.util.LinkedHashMap<>());
        while (p.nextToken() == com.fasterxml.jackson.core.JsonToken.FIELD_NAME) {
          String k = p.currentName();
          p.nextToken();
          o.put(k, value(p));
        }
        return o;
      }
      case START_ARRAY -> {
        JsonArray a = new JsonArray();
        while (p.nextToken() != com.fasterxml.jackson.core.JsonToken.END_ARRAY) {
          a.add(value(p));
        }
        return a;
      }
      case VALUE_STRING -> {
        return p.getText();
      }
      case VALUE_NUMBER_INT -> {
        return p.getBigIntegerValue();
      }
      case VALUE_NUMBER_FLOAT -> {
        return p.getDecimalValue();
      }
      case VALUE_TRUE -> {
        return Boolean.TRUE;
      }
      case VALUE_FALSE -> {
        return Boolean.FALSE;
      }
      case VALUE_NULL -> {
        return null;
      }
      default -> throw new java.io.IOException("unexpected " + p.currentToken());
    }
  }

  @SuppressWarnings("unchecked")
  private static void keysInJsonbOrder(Object v) {
    if (v instanceof Map<?, ?> m) {
      List<String> keys = new ArrayList<>((java.util.Collection<String>) m.keySet());
      for (int i = 1; i < keys.size(); i++) {
        byte[] a = keys.get(i - 1).getBytes(StandardCharsets.UTF_8);
        byte[] b = keys.get(i).getBytes(StandardCharsets.UTF_8);
        assertTrue(a.length < b.length || a.length == b.length && java.util.Arrays.compareUnsigned(a, b) < 0,
          "keys out of jsonb order");
      }
      m.values().forEach(x -> keysInJsonbOrder(x instanceof JsonObject jo ? jo.getMap() : x));
    } else if (v instanceof List<?> l) {
      l.forEach(x -> keysInJsonbOrder(x instanceof JsonObject jo ? jo.getMap() : x));
    } else if (v instanceof JsonArray a) {
      a.getList().forEach(CanonicalJsonFuzzTest::keysInJsonbOrder);
    }
  }
}
