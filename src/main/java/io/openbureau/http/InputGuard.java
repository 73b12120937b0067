package io.openbureau.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The one place that refuses characters no input of the bureau may hold, before they reach a
 * handler, Postgres or the access log: NUL (which Postgres text and jsonb cannot store) and the
 * other control characters that are never legitimate, and unpaired surrogates (not valid Unicode:
 * jsonb refuses them, UTF-8 cannot encode them).
 *
 * <ul>
 *   <li>As the router's first step ({@link #handle}): the request target. A path or query that is
 *   not correctly percent-encoded (a lone {@code %}, {@code %zz}, {@code %u002e}, bytes that are
 *   not UTF-8) or decodes to a control character is 400 naming {@code path} or the parameter; a
 *   path with a trailing slash is 404 (the API's paths have none: {@code /v1/inquiries/} is not
 *   {@code /v1/inquiries}); an {@code Expect} other than {@code 100-continue} is 417.</li>
 *   <li>For JSON ({@link #check(Buffer)}, {@link #check(Object)}): every string value and every
 *   key, at any depth, checked by the validation step of every route with a body
 *   ({@link RouteMounter}), by the inquiry and batch parsers (streamed bodies) and by
 *   {@link Cursors}. 400 naming the field (a bad key is named by the object holding it).</li>
 * </ul>
 * In JSON text tab, line feed and carriage return are allowed (free text such as a statement may
 * hold them; fields with a pattern refuse them anyway); in a path or query parameter no control
 * character is.
 */
public final class InputGuard implements Handler<RoutingContext> {
  private static final JsonFactory JSON = JsonFactory.builder().build();
  private static final Pattern PLAIN_NAME = Pattern.compile("[A-Za-z0-9_.-]{1,64}");
  public static final String CONTROL = "must not contain control characters or unpaired surrogates";
  static final String ENCODING = "is not correctly percent-encoded UTF-8";

  @Override
  public void handle(RoutingContext ctx) {
    ApiError refused = refuse(ctx);
    if (refused != null) {
      // the body is not read on these answers: do not keep a half-read connection
      ctx.response().putHeader("Connection", "close");
      ctx.fail(refused);
    } else {
      ctx.next();
    }
  }

  private static ApiError refuse(RoutingContext ctx) {
    String expect = ctx.request().getHeader("Expect");
    if (expect != null && !expect.trim().equalsIgnoreCase("100-continue")) {
      return new ApiError(417, "expectation_failed", "Expectation failed",
        "the only expectation this server meets is 100-continue");
    }
    String path = ctx.request().path();
    if (path != null && path.startsWith("/")) {
      String decoded = decode(path, false);
      if (decoded == null) {
        return ApiError.invalid("path", ENCODING);
      }
      if (!clean(decoded, false)) {
        return ApiError.invalid("path", CONTROL);
      }
      if (path.length() > 1 && path.endsWith("/") && !path.equals(DocsRoutes.PAGE)) {
        return ApiError.notFound("not_found", "no such resource (the API's paths have no trailing slash)");
      }
    }
    String query = ctx.request().query();
    return query == null || query.isEmpty() ? null : checkQuery(query);
  }

  private static ApiError checkQuery(String query) {
    for (String pair : query.split("&", -1)) {
      int eq = pair.indexOf('=');
      String rawName = eq < 0 ? pair : pair.substring(0, eq);
      String name = decode(rawName, true);
      String field = name != null && PLAIN_NAME.matcher(name).matches() ? name : "query";
      if (name == null || !clean(name, false)) {
        return ApiError.invalid("query", name == null ? ENCODING : CONTROL);
      }
      String value = eq < 0 ? "" : decode(pair.substring(eq + 1), true);
      if (value == null) {
        return ApiError.invalid(field, ENCODING);
      }
      if (!clean(value, false)) {
        return ApiError.invalid(field, CONTROL);
      }
    }
    return null;
  }

  /** Strict percent-decoding as UTF-8; null when malformed. {@code plusIsSpace} for a query. */
  static String decode(String raw, boolean plusIsSpace) {
    if (raw.indexOf('%') < 0) {
      return plusIsSpace ? raw.replace('+', ' ') : raw;
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(raw.length());
    for (int i = 0; i < raw.length(); i++) {
      char c = raw.charAt(i);
      if (c == '%') {
        if (i + 2 >= raw.length()) {
          return null;
        }
        int hi = Character.digit(raw.charAt(i + 1), 16);
        int lo = Character.digit(raw.charAt(i + 2), 16);
        if (hi < 0 || lo < 0) {
          return null;
        }
        bytes.write(hi << 4 | lo);
        i += 2;
      } else if (c == '+' && plusIsSpace) {
        bytes.write(' ');
      } else if (c < 0x80) {
        bytes.write(c);
      } else {
        byte[] b = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
        bytes.write(b, 0, b.length);
      }
    }
    try {
      return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes.toByteArray())).toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  /**
   * Whether a code point is refused: C0 controls (in text, except tab, LF and CR), DEL and the C1
   * controls. Unpaired surrogates are refused by {@link #clean}.
   */
  static boolean forbidden(int cp, boolean text) {
    if (cp < 0x20) {
      return !(text && (cp == '\t' || cp == '\n' || cp == '\r'));
    }
    return cp >= 0x7F && cp <= 0x9F;
  }

  /** Whether {@code s} holds no refused character ({@code text}: JSON text rather than a parameter). */
  public static boolean clean(String s, boolean text) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c)) {
        if (i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) {
          return false;
        }
        i++;
      } else if (Character.isLowSurrogate(c) || forbidden(c, text)) {
        return false;
      }
    }
    return true;
  }

  /**
   * {@code s} with every refused character replaced by U+FFFD: for what must be recorded even when
   * it holds them (the access log records refused input too, and must never be handed a row
   * Postgres cannot store).
   */
  public static String scrub(String s) {
    if (s == null || clean(s, true)) {
      return s;
    }
    StringBuilder sb = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        sb.append(c).append(s.charAt(++i));
      } else if (Character.isSurrogate(c) || forbidden(c, true)) {
        sb.append('\uFFFD');
      } else {
        sb.append(c);
      }
    }
    return sb.toString();
  }

  /** {@link #scrub} applied to every key and string of a JSON value (a copy when anything changed). */
  public static Object scrubJson(Object v) {
    if (v instanceof String s) {
      return scrub(s);
    }
    if (v instanceof JsonObject o) {
      if (check(o) == null) {
        return o;
      }
      JsonObject out = new JsonObject();
      for (Map.Entry<String, Object> e : o) {
        out.put(scrub(e.getKey()), scrubJson(e.getValue()));
      }
      return out;
    }
    if (v instanceof JsonArray a) {
      if (check(a) == null) {
        return a;
      }
      JsonArray out = new JsonArray();
      a.forEach(item -> out.add(scrubJson(item)));
      return out;
    }
    return v;
  }

  /**
   * The field holding a refused character in JSON text, or null (also null for text that is not
   * JSON at all: the parser that follows says so).
   */
  public static String check(Buffer body) {
    if (body == null || body.length() == 0) {
      return null;
    }
    try (JsonParser p = JSON.createParser(body.getBytes())) {
      JsonToken t;
      while ((t = p.nextToken()) != null) {
        if (t == JsonToken.FIELD_NAME) {
          if (!clean(p.currentName(), true)) {
            return path(p.getParsingContext().getParent());
          }
        } else if (t == JsonToken.VALUE_STRING && !clean(p.getText(), true)) {
          return path(p.getParsingContext());
        }
      }
      return null;
    } catch (IOException e) {
      return null;
    }
  }

  /** The same for a parsed value: the field holding a refused character, or null. */
  public static String check(Object json) {
    return check(json, "");
  }

  private static String check(Object v, String at) {
    if (v instanceof String s) {
      return clean(s, true) ? null : name(at);
    }
    if (v instanceof JsonObject o) {
      for (Map.Entry<String, Object> e : o) {
        if (!clean(e.getKey(), true)) {
          return name(at);
        }
        String bad = check(e.getValue(), at.isEmpty() ? e.getKey() : at + "." + e.getKey());
        if (bad != null) {
          return bad;
        }
      }
    } else if (v instanceof JsonArray a) {
      for (int i = 0; i < a.size(); i++) {
        String bad = check(a.getValue(i), at.isEmpty() ? Integer.toString(i) : at + "." + i);
        if (bad != null) {
          return bad;
        }
      }
    }
    return null;
  }

  /** 400 naming the field of {@link #check}, or nothing. */
  public static void require(String field) {
    if (field != null) {
      throw ApiError.invalid(field, CONTROL);
    }
  }

  private static String path(JsonStreamContext ctx) {
    StringBuilder sb = new StringBuilder();
    for (JsonStreamContext c = ctx; c != null && !c.inRoot(); c = c.getParent()) {
      String part = c.inObject() ? c.getCurrentName() : Integer.toString(Math.max(0, c.getCurrentIndex()));
      if (part == null) {
        continue;
      }
      sb.insert(0, sb.isEmpty() ? part : part + ".");
    }
    return name(sb.toString());
  }

  private static String name(String at) {
    return at.isEmpty() ? "body" : at;
  }
}
