package io.openbureau.identity;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.LocalDate;
import java.util.Arrays;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("National id (GB 11643-1999) and borrower keys")
class NationalIdTest {

  @Test
  @DisplayName("the published example 11010519491231002X is valid, and so is its lower-case x")
  void publishedExample() {
    assertTrue(NationalId.valid("11010519491231002X"));
    assertTrue(NationalId.valid("11010519491231002x"));
    assertEquals('X', NationalId.checkCharacter("11010519491231002"));
  }

  @Test
  @DisplayName("every wrong check character is refused")
  void wrongCheck() {
    String first17 = "44030519790730123";
    char right = NationalId.checkCharacter(first17);
    for (char c : "0123456789X".toCharArray()) {
      assertEquals(c == right, NationalId.valid(first17 + c), "check " + c);
    }
  }

  @Test
  @DisplayName("wrong length, letters, impossible dates, future births and unknown regions are refused, with a reason")
  void refused() {
    assertNotNull(NationalId.problem("1101051949123100"));
    assertNotNull(NationalId.problem("11010519491231002XX"));
    assertNotNull(NationalId.problem("1101051949123A002X"));
    assertTrue(NationalId.problem(NationalId.of("110105", LocalDate.of(2000, 1, 1), 1).replace("20000101", "20000230"))
      .contains("date"));
    assertTrue(NationalId.problem(NationalId.of("110105", LocalDate.now().plusYears(1), 1)).contains("birth date"));
    assertTrue(NationalId.problem(NationalId.of("990105", LocalDate.of(1990, 1, 1), 1)).contains("area"));
    assertFalse(NationalId.valid(null));
  }

  @Test
  @DisplayName("a problem message never echoes the id")
  void messagesDoNotLeak() {
    String id = "11010519491231002Y";
    assertFalse(NationalId.problem(id).contains(id));
  }

  @Test
  @DisplayName("the borrower key is HMAC-SHA-256 of the normalized id, stable, and depends on the secret")
  void borrowerKey() throws Exception {
    BorrowerKeys a = new BorrowerKeys("k1", "a-secret-of-at-least-thirty-two-characters");
    BorrowerKeys b = new BorrowerKeys("k2", "another-secret-of-at-least-thirty-two-chars");
    byte[] k = a.key("11010519491231002x");
    assertEquals(32, k.length);
    assertTrue(Arrays.equals(k, a.key(" 11010519491231002X ")), "normalized: case and spaces do not matter");
    assertFalse(Arrays.equals(k, b.key("11010519491231002X")));
    javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
    mac.init(new javax.crypto.spec.SecretKeySpec("a-secret-of-at-least-thirty-two-characters".getBytes(), "HmacSHA256"));
    assertEquals(HexFormat.of().formatHex(mac.doFinal("11010519491231002X".getBytes())), BorrowerKeys.hex(k));
  }
}
