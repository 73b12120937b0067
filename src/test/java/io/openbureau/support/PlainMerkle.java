package io.openbureau.support;

import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;

/**
 * The Merkle tree of RFC 6962 §2.1 written the plain recursive way, straight from the RFC's text,
 * to check the bureau's level-by-level implementation and its proofs against:
 * MTH({d}) = SHA-256(0x00 || d); MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])), k the
 * largest power of two below n; PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n]) when m < k, else
 * PATH(m - k, D[k:n]) : MTH(D[0:k]).
 */
public final class PlainMerkle {
  private PlainMerkle() {
  }

  public static byte[] root(List<byte[]> d) {
    if (d.size() == 1) {
      return sha(new byte[] {0}, d.get(0));
    }
    int k = split(d.size());
    return sha(new byte[] {1}, root(d.subList(0, k)), root(d.subList(k, d.size())));
  }

  public static List<byte[]> path(int m, List<byte[]> d) {
    if (d.size() == 1) {
      return new ArrayList<>();
    }
    int k = split(d.size());
    List<byte[]> p;
    if (m < k) {
      p = path(m, d.subList(0, k));
      p.add(root(d.subList(k, d.size())));
    } else {
      p = path(m - k, d.subList(k, d.size()));
      p.add(root(d.subList(0, k)));
    }
    return p;
  }

  /** The root a bottom-up path leads to from the row hash at index m of n leaves; null if it cannot fit. */
  public static byte[] rootFromPath(long m, long n, byte[] rowHash, List<byte[]> path) {
    if (m < 0 || m >= n) {
      return null;
    }
    return climb(m, n, sha(new byte[] {0}, rowHash), path);
  }

  private static byte[] climb(long m, long n, byte[] leaf, List<byte[]> path) {
    if (n == 1) {
      return path.isEmpty() ? leaf : null;
    }
    if (path.isEmpty()) {
      return null;
    }
    long k = split(n);
    byte[] top = path.get(path.size() - 1);
    List<byte[]> rest = path.subList(0, path.size() - 1);
    if (m < k) {
      byte[] left = climb(m, k, leaf, rest);
      return left == null ? null : sha(new byte[] {1}, left, top);
    }
    byte[] right = climb(m - k, n - k, leaf, rest);
    return right == null ? null : sha(new byte[] {1}, top, right);
  }

  static int split(long n) {
    int k = 1;
    while (2L * k < n) {
      k *= 2;
    }
    return k;
  }

  public static byte[] sha(byte[]... parts) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      for (byte[] p : parts) {
        md.update(p);
      }
      return md.digest();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
