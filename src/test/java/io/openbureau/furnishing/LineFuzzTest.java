package io.openbureau.furnishing;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.openbureau.http.ApiError;
import io.openbureau.identity.BorrowerKeys;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The furnishing line reader (one JSON object per NDJSON line, or a PUT body) under fuzzing:
 * whatever the bytes, a line is either read into a tradeline or repayment whose fields are within
 * the contract, or refused with a 400 naming known fields; never another exception (a 500).
 */
@DisplayName("Fuzzing the furnishing line reader")
class LineFuzzTest {
  private static final BorrowerKeys KEYS = new BorrowerKeys("k1", "fuzz-pepper-0123456789abcdef0123456789");
  private static final Set<String> FIELDS = new HashSet<>();

  static {
    FIELDS.addAll(Line.TRADELINE_FIELDS);
    FIELDS.addAll(Line.REPAYMENT_FIELDS);
    FIELDS.add("accountRef");
    FIELDS.add("body");
  }

  private static final String[] VALUES = {"", "0", "-1", "1e400", "NaN", "2026-02-30", "2026-11", "9999-12-31",
    "1900-01-01", "BNPL", "CARD", "OPEN", "CLOSED", "DEFAULT", "CNY", "usd", "12.345", "0.00", "100000000000000.00",
    "110101198803040017", "11010119880304001X", "\u0000", " OPEN", "A-1"};

  /** A line with mostly the contract's field names and hostile or borderline values of any JSON type. */
  private static JsonObject build(FuzzedDataProvider data, boolean tradeline) {
    String[] names = (tradeline ? Line.TRADELINE_FIELDS : Line.REPAYMENT_FIELDS).toArray(String[]::new);
    java.util.Arrays.sort(names);
    JsonObject j = new JsonObject();
    int n = data.consumeInt(0, names.length + 2);
    for (int i = 0; i < n && data.remainingBytes() > 0; i++) {
      String key = data.consumeInt(0, 9) == 0 ? data.consumeString(10) : names[data.consumeInt(0, names.length - 1)];
      switch (data.consumeInt(0, 6)) {
        case 0 -> j.put(key, data.pickValue(VALUES));
        case 1 -> j.put(key, data.consumeString(30));
        case 2 -> j.put(key, data.consumeLong());
        case 3 -> j.put(key, data.consumeDouble());
        case 4 -> j.put(key, data.consumeBoolean());
        case 5 -> j.putNull(key);
        default -> j.put(key, new JsonObject().put("x", data.consumeInt()));
      }
    }
    return j;
  }

  @FuzzTest(maxDuration = "3s")
  @DisplayName("any line is read within the contract or refused with 400 naming known fields, never anything else")
  void anyLine(FuzzedDataProvider data) {
    boolean tradeline = data.consumeBoolean();
    String ref = data.consumeString(70);
    JsonObject json;
    if (data.consumeBoolean()) {
      json = build(data, tradeline);
    } else {
      try {
        json = new JsonObject(data.consumeRemainingAsString());
      } catch (DecodeException | ClassCastException e) {
        return; // the reader refuses what is not a JSON object before it gets here (body: is not valid JSON)
      }
    }
    try {
      if (tradeline) {
        Line.Tradeline t = Line.tradeline(ref, json, KEYS);
        assertEquals(32, t.borrowerKey().length, "a borrower key is an HMAC-SHA256");
        assertTrue(t.daysPastDue() >= 0, "daysPastDue is never negative");
        assertTrue(t.principal() == null || t.principal().signum() >= 0, "principal is never negative");
        assertFalse(t.accountRef().isEmpty());
      } else {
        Line.Repayment r = Line.repayment(ref, json);
        assertTrue(r.daysPastDue() >= 0, "daysPastDue is never negative");
        assertTrue(r.period().matches("\\d{4}-\\d{2}"), "period is YYYY-MM");
      }
    } catch (ApiError e) {
      assertEquals(400, e.status(), e.getMessage());
      assertFalse(e.errors().isEmpty(), "a refusal names at least one field");
      for (ApiError.FieldError f : e.errors()) {
        assertTrue(FIELDS.contains(f.field()) || json.containsKey(f.field()), "a refusal names a field of the contract or of the line");
      }
    }
  }
}
