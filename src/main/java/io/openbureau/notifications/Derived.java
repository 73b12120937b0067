package io.openbureau.notifications;

import io.openbureau.identity.BorrowerKeys;
import io.vertx.core.json.JsonObject;

import java.time.Instant;

/**
 * A notification derived from one recorded event, before it is stored: who (borrower key, never a
 * national id), what (kind, plain-words message, details) and where from ({@code source},
 * {@code sourceId}: the unique key that makes a replay insert nothing). {@code memberEvent}: the
 * member webhook event it also causes ({@code event} and its fields, for {@code lenderId}), or null.
 */
record Derived(String source, long sourceId, byte[] borrowerKey, String kind, Instant at, String message,
               String lenderId, JsonObject details, JsonObject memberEvent) {
  Derived {
    at = at.truncatedTo(java.time.temporal.ChronoUnit.MICROS); // as Postgres keeps it: inbox and payload agree
  }

  /** The gateway's body (id null: an empty id, put in by the INSERT that knows it): {id, borrowerKey (hex), kind, message, at, lenderId?, details}. */
  String gatewayBody(Long id) {
    JsonObject b = new JsonObject().put("id", id == null ? "" : Long.toString(id)).put("borrowerKey", BorrowerKeys.hex(borrowerKey))
      .put("kind", kind).put("message", message).put("at", at.toString());
    if (lenderId != null) {
      b.put("lenderId", lenderId);
    }
    return b.put("details", details).encode();
  }

  /** The member's body: {id, event, at, ...} (no person in it: the member knows its own account). */
  String memberBody(Long id) {
    JsonObject b = new JsonObject().put("id", id == null ? "" : Long.toString(id)).put("event", memberEvent.getString("event"))
      .put("at", at.toString());
    memberEvent.forEach(e -> {
      if (!"event".equals(e.getKey())) {
        b.put(e.getKey(), e.getValue());
      }
    });
    return b.encode();
  }
}
