package io.openbureau.http;

import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** Opaque keyset-pagination cursors: base64url JSON of the last item's sort key. */
public final class Cursors {
  private Cursors() {
  }

  public static String encode(JsonObject position) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(position.toBuffer().getBytes());
  }

  /** The decoded position, null for no cursor, or a 400 naming {@code cursor}. */
  public static JsonObject decode(String cursor) {
    if (cursor == null || cursor.isEmpty()) {
      return null;
    }
    try {
      if (cursor.length() > 512) {
        throw new IllegalArgumentException();
      }
      JsonObject position = new JsonObject(new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8));
      // a forged cursor is input like any other: it never carries a NUL to Postgres
      if (InputGuard.check(position) != null) {
        throw new IllegalArgumentException();
      }
      return position;
    } catch (RuntimeException e) {
      throw ApiError.invalid("cursor", "is not a cursor this API returned");
    }
  }
}
