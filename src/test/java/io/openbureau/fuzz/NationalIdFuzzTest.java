package io.openbureau.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.openbureau.identity.NationalId;
import org.junit.jupiter.api.DisplayName;

import java.time.LocalDate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The national id parser under coverage-guided fuzzing (Jazzer): it never throws, never echoes
 * the value in its message, and accepts exactly the ids an independent check accepts. The check
 * here computes ISO 7064 MOD 11-2 from its definition (weights 2^(17-i) mod 11, check value
 * (12 - sum mod 11) mod 11, 10 written X), not from the parser's weight table.
 */
@DisplayName("Fuzzing the national id parser")
class NationalIdFuzzTest {

  /** One fuzz target per class: Jazzer fuzzes one per JVM (the build forks one JVM per class). */
  @FuzzTest(maxDuration = "3s")
  @DisplayName("any string is refused without being echoed or is valid by an independent check; built ids are valid, changed ones not")
  void parser(FuzzedDataProvider data) {
    if (data.consumeBoolean()) {
      builtIds(data);
    } else {
      anyString(data.consumeRemainingAsString());
    }
  }

  private static void anyString(String raw) {
    String problem = NationalId.problem(raw);
    if (problem == null) {
      assertTrue(independentlyValid(raw.trim()), "the parser accepted an id the independent check refuses");
      String normal = NationalId.normalize(raw);
      assertEquals(18, normal.length());
      assertTrue(NationalId.valid(normal), "the normal form of a valid id is valid");
    } else {
      assertFalse(independentlyValid(raw.trim()), "the parser refused an id the independent check accepts: " + problem);
      if (raw.trim().length() >= 6) {
        assertFalse(problem.contains(raw.trim()), "the message echoes the value");
      }
    }
  }

  /** Every id built from a region, a real birth date and a sequence is valid, and one changed digit is not. */
  private static void builtIds(FuzzedDataProvider data) {
    String[] regions = {"110101", "310104", "440305", "650102", "830000"};
    String area = regions[data.consumeInt(0, regions.length - 1)];
    LocalDate birth = LocalDate.of(1900, 1, 1).plusDays(data.consumeInt(0, 45_000));
    if (birth.isAfter(LocalDate.now())) {
      return;
    }
    String id = NationalId.of(area, birth, data.consumeInt(0, 999));
    assertNotNull(id);
    assertTrue(NationalId.valid(id), "built id " + id.length() + " chars is valid");
    assertTrue(independentlyValid(id));
    int at = data.consumeInt(14, 16); // a sequence digit: region and date stay plausible
    char c = id.charAt(at);
    char other = (char) ('0' + (c - '0' + data.consumeInt(1, 9)) % 10);
    String changed = id.substring(0, at) + other + id.substring(at + 1);
    assertFalse(NationalId.valid(changed), "a changed digit breaks the check character");
  }

  /** ISO 7064 MOD 11-2 from its definition, plus the structural rules (digits, X, a real date). */
  static boolean independentlyValid(String id) {
    if (id.length() != 18 || !id.substring(0, 17).chars().allMatch(ch -> ch >= '0' && ch <= '9')) {
      return false;
    }
    char last = Character.toUpperCase(id.charAt(17));
    int sum = 0;
    for (int i = 0; i < 17; i++) {
      int weight = 1;
      for (int k = 0; k < 17 - i; k++) {
        weight = weight * 2 % 11;
      }
      sum += (id.charAt(i) - '0') * weight;
    }
    int check = (12 - sum % 11) % 11;
    char expected = check == 10 ? 'X' : (char) ('0' + check);
    if (last != expected) {
      return false;
    }
    java.util.Set<String> regions = java.util.Set.of("11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33",
      "34", "35", "36", "37", "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
      "65", "71", "81", "82", "83");
    if (!regions.contains(id.substring(0, 2))) {
      return false;
    }
    try {
      LocalDate birth = LocalDate.parse(id.substring(6, 10) + "-" + id.substring(10, 12) + "-" + id.substring(12, 14));
      return birth.getYear() >= 1900 && !birth.isAfter(LocalDate.now(java.time.ZoneOffset.UTC));
    } catch (java.time.format.DateTimeParseException e) {
      return false;
    }
  }
}
