package io.openbureau.members;

import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;

import java.time.OffsetDateTime;
import java.time.ZoneOffset;

/** A member institution of the bureau. */
public record Member(String id, String name, String status, long statusVersion, OffsetDateTime createdAt,
                     OffsetDateTime updatedAt) {

  public static final String ACTIVE = "ACTIVE";
  public static final String SUSPENDED = "SUSPENDED";

  static Member fromRow(Row row) {
    return new Member(row.getString("id"), row.getString("name"), row.getString("status"),
      row.getLong("status_version"), row.getOffsetDateTime("created_at"), row.getOffsetDateTime("updated_at"));
  }

  public boolean active() {
    return ACTIVE.equals(status);
  }

  public JsonObject toJson() {
    return new JsonObject().put("id", id).put("name", name).put("status", status)
      .put("createdAt", ts(createdAt)).put("updatedAt", ts(updatedAt));
  }

  public static String ts(OffsetDateTime t) {
    return t == null ? null : t.withOffsetSameInstant(ZoneOffset.UTC).toInstant().toString();
  }
}
