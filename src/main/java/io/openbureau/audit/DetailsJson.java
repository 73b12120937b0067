package io.openbureau.audit;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;

import java.io.IOException;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The two forms of a v3 row's details. {@code details_json} is the text the bureau produced and
 * the hash covers; {@code details} (jsonb) is a copy of it for queries ({@code details->>'rows'}),
 * not hashed itself, so the verifier checks that the copy still holds the same JSON value: same
 * keys, strings and booleans, numbers equal as numbers (jsonb prints them its own way: nothing
 * here depends on how). jsonb cannot hold a string with a NUL, so such details have no copy.
 */
public final class DetailsJson {
  private static final JsonFactory JSON = JsonFactory.builder()
    .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(200).build()).build();
  private static final Object NULL = new Object();

  private DetailsJson() {
  }

  /** The jsonb copy the writer stores beside {@code detailsText}: the same text, or null when jsonb cannot hold it. */
  public static String jsonbCopy(String detailsText) {
    if (detailsText == null) {
      return null;
    }
    Object value = parse(detailsText);
    return value == null || hasNul(value) ? null : detailsText;
  }

  /**
   * Whether a row's jsonb copy (as its text, {@code details::text}) is the copy of
   * {@code detailsText} that {@link #jsonbCopy} made: both absent, absent because there could be
   * none, or the same JSON value.
   */
  public static boolean copyMatches(String detailsText, String jsonbText) {
    if (detailsText == null) {
      return jsonbText == null;
    }
    Object value = parse(detailsText);
    if (value == null || hasNul(value)) {
      return jsonbText == null; // no copy of what this parser cannot read (the writer made none) or jsonb cannot hold
    }
    return Objects.equals(value, parse(jsonbText));
  }

  /** A tree of maps, lists, strings, booleans, numbers as BigDecimal without trailing zeros, NULL; null if not JSON. */
  static Object parse(String text) {
    try (JsonParser p = JSON.createParser(text)) {
      JsonToken t = p.nextToken();
      if (t == null) {
        return null;
      }
      Object value = value(p, t);
      return p.nextToken() == null ? value : null;
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  private static Object value(JsonParser p, JsonToken t) throws IOException {
    switch (t) {
      case START_OBJECT -> {
        Map<String, Object> map = new HashMap<>();
        for (JsonToken k = p.nextToken(); k != JsonToken.END_OBJECT; k = p.nextToken()) {
          String name = p.currentName();
          map.put(name, value(p, p.nextToken())); // a repeated key: the last one, as jsonb keeps
        }
        return map;
      }
      case START_ARRAY -> {
        List<Object> list = new ArrayList<>();
        for (JsonToken e = p.nextToken(); e != JsonToken.END_ARRAY; e = p.nextToken()) {
          list.add(value(p, e));
        }
        return list;
      }
      case VALUE_STRING -> {
        return p.getText();
      }
      case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> {
        BigDecimal d = p.getDecimalValue();
        return d.signum() == 0 ? BigDecimal.ZERO : d.stripTrailingZeros();
      }
      case VALUE_TRUE -> {
        return Boolean.TRUE;
      }
      case VALUE_FALSE -> {
        return Boolean.FALSE;
      }
      case VALUE_NULL -> {
        return NULL;
      }
      default -> throw new IOException("unexpected " + t);
    }
  }

  private static boolean hasNul(Object v) {
    if (v instanceof String s) {
      return s.indexOf('\0') >= 0;
    }
    if (v instanceof Map<?, ?> m) {
      for (Map.Entry<?, ?> e : m.entrySet()) {
        if (hasNul(e.getKey()) || hasNul(e.getValue())) {
          return true;
        }
      }
    } else if (v instanceof List<?> l) {
      for (Object o : l) {
        if (hasNul(o)) {
          return true;
        }
      }
    }
    return false;
  }
}
