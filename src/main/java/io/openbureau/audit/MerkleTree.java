package io.openbureau.audit;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;

/**
 * The Merkle tree over one checkpoint's rows, exactly as RFC 9162 §2.1 (Certificate Transparency
 * 2.0; the same tree as RFC 6962 §2.1), with SHA-256:
 * <pre>
 *   leaf(rowHash)  = SHA-256(0x00 || rowHash)          rowHash: the row's 32-byte access_log.row_hash
 *   node(l, r)     = SHA-256(0x01 || l || r)
 *   MTH({d0})      = leaf(d0)
 *   MTH(D[0:n])    = node(MTH(D[0:k]), MTH(D[k:n]))    k: the largest power of two smaller than n
 * </pre>
 * The leaves are the rows of one chain from the checkpoint's {@code fromSeq} to its {@code chainSeq},
 * in {@code chain_seq} order: leaf index {@code i} is the row at {@code fromSeq + i}, tree size
 * {@code chainSeq - fromSeq + 1}. An audit path is RFC 9162's inclusion proof: the sibling hashes
 * from the leaf up to the root (bottom-up), verified with the algorithm of §2.1.3.2
 * ({@link #rootFromPath}). Built level by level here: a level's unpaired last node moves up
 * unchanged, which gives the same tree as the recursive definition.
 */
public final class MerkleTree {
  public static final String ALGORITHM = "RFC9162-SHA256";
  private static final byte LEAF = 0x00;
  private static final byte NODE = 0x01;

  private final List<byte[][]> levels = new ArrayList<>();

  private MerkleTree(List<byte[]> rowHashes) {
    if (rowHashes.isEmpty()) {
      throw new IllegalArgumentException("a checkpoint's tree has at least one row");
    }
    MessageDigest sha = sha256();
    byte[][] level = new byte[rowHashes.size()][];
    for (int i = 0; i < level.length; i++) {
      level[i] = leaf(sha, rowHashes.get(i));
    }
    levels.add(level);
    while (level.length > 1) {
      byte[][] up = new byte[(level.length + 1) / 2][];
      for (int i = 0; i < up.length; i++) {
        up[i] = 2 * i + 1 < level.length ? node(sha, level[2 * i], level[2 * i + 1]) : level[2 * i];
      }
      levels.add(up);
      level = up;
    }
  }

  /** Blocking on large inputs (two SHA-256 per row): off the event loop beyond a few hundred rows. */
  public static MerkleTree of(List<byte[]> rowHashes) {
    return new MerkleTree(rowHashes);
  }

  public int size() {
    return levels.get(0).length;
  }

  public byte[] root() {
    return levels.get(levels.size() - 1)[0].clone();
  }

  /** The inclusion proof of leaf {@code index}: sibling hashes, bottom-up. */
  public List<byte[]> path(int index) {
    if (index < 0 || index >= size()) {
      throw new IllegalArgumentException("leaf index " + index + " is outside a tree of " + size());
    }
    List<byte[]> path = new ArrayList<>();
    int i = index;
    for (int l = 0; l < levels.size() - 1; l++) {
      byte[][] level = levels.get(l);
      int sibling = i ^ 1;
      if (sibling < level.length) {
        path.add(level[sibling].clone());
      }
      i >>= 1;
    }
    return path;
  }

  public static byte[] leafHash(byte[] rowHash) {
    return leaf(sha256(), rowHash);
  }

  /**
   * RFC 9162 §2.1.3.2: the root that {@code path} leads to from leaf {@code index} of a tree of
   * {@code size} leaves, or null when the path cannot belong to such a tree (wrong length).
   */
  public static byte[] rootFromPath(long index, long size, byte[] leafHash, List<byte[]> path) {
    if (index < 0 || index >= size) {
      return null;
    }
    MessageDigest sha = sha256();
    long fn = index;
    long sn = size - 1;
    byte[] r = leafHash;
    for (byte[] p : path) {
      if (sn == 0) {
        return null;
      }
      if ((fn & 1) == 1 || fn == sn) {
        r = node(sha, p, r);
        if ((fn & 1) == 0) {
          while ((fn & 1) == 0 && fn != 0) {
            fn >>= 1;
            sn >>= 1;
          }
        }
      } else {
        r = node(sha, r, p);
      }
      fn >>= 1;
      sn >>= 1;
    }
    return sn == 0 ? r : null;
  }

  /** True when {@code path} proves leaf {@code index} of a tree of {@code size} leaves under {@code root}. */
  public static boolean verify(long index, long size, byte[] rowHash, List<byte[]> path, byte[] root) {
    byte[] computed = rootFromPath(index, size, leafHash(rowHash), path);
    return computed != null && MessageDigest.isEqual(computed, root);
  }

  private static byte[] leaf(MessageDigest sha, byte[] rowHash) {
    sha.reset();
    sha.update(LEAF);
    sha.update(rowHash);
    return sha.digest();
  }

  private static byte[] node(MessageDigest sha, byte[] left, byte[] right) {
    sha.reset();
    sha.update(NODE);
    sha.update(left);
    sha.update(right);
    return sha.digest();
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
