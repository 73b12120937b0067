package io.openbureau.identity;

import java.time.DateTimeException;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Set;

/**
 * The 18-character PRC resident identity number (GB 11643-1999): a 6-digit area code, an 8-digit
 * birth date, a 3-digit sequence and an ISO 7064 MOD 11-2 check character (0-9 or X).
 * Never log or store the value; derive a {@link BorrowerKeys borrower key} from it.
 */
public final class NationalId {
  private static final int[] WEIGHTS = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  private static final char[] CHECK = {'1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'};
  /** Province-level prefixes of GB/T 2260, plus 71/81/82 (Taiwan, Hong Kong, Macao) and 83 (residence permits). */
  private static final Set<String> PROVINCES = Set.of(
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65",
    "71", "81", "82", "83");

  private NationalId() {
  }

  /** Why the value is not a valid id, or null when it is. The message never echoes the value. */
  public static String problem(String raw) {
    if (raw == null) {
      return "is required";
    }
    String id = raw.trim();
    if (id.length() != 18) {
      return "must be 18 characters";
    }
    for (int i = 0; i < 17; i++) {
      if (id.charAt(i) < '0' || id.charAt(i) > '9') {
        return "the first 17 characters must be digits";
      }
    }
    char last = Character.toUpperCase(id.charAt(17));
    if (!(last >= '0' && last <= '9') && last != 'X') {
      return "the check character must be a digit or X";
    }
    if (!PROVINCES.contains(id.substring(0, 2))) {
      return "the area code is not a known region";
    }
    try {
      LocalDate birth = LocalDate.of(Integer.parseInt(id.substring(6, 10)), Integer.parseInt(id.substring(10, 12)),
        Integer.parseInt(id.substring(12, 14)));
      if (birth.getYear() < 1900 || birth.isAfter(LocalDate.now(ZoneOffset.UTC))) {
        return "the birth date is not plausible";
      }
    } catch (DateTimeException e) {
      return "the birth date is not a real date";
    }
    if (checkCharacter(id) != last) {
      return "the check character does not match (ISO 7064 MOD 11-2)";
    }
    return null;
  }

  public static boolean valid(String raw) {
    return problem(raw) == null;
  }

  /** Upper-case X, no surrounding space: the form that is hashed. */
  public static String normalize(String raw) {
    return raw.trim().toUpperCase();
  }

  /** The check character for the first 17 digits. */
  public static char checkCharacter(String first17) {
    int sum = 0;
    for (int i = 0; i < 17; i++) {
      sum += (first17.charAt(i) - '0') * WEIGHTS[i];
    }
    return CHECK[sum % 11];
  }

  /** A valid id from an area code, birth date and sequence (demo data and tests). */
  public static String of(String area6, LocalDate birth, int sequence) {
    String first17 = area6 + String.format("%04d%02d%02d", birth.getYear(), birth.getMonthValue(), birth.getDayOfMonth())
      + String.format("%03d", sequence % 1000);
    return first17 + checkCharacter(first17);
  }
}
