package io.openbureau.audit;

import io.openbureau.support.PlainMerkle;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("Checkpoint Merkle trees: exactly RFC 9162's tree, paths and proof check")
class MerkleTest {

  static List<byte[]> rows(int n) {
    List<byte[]> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(PlainMerkle.sha(("row " + i).getBytes(StandardCharsets.UTF_8)));
    }
    return out;
  }

  @ParameterizedTest(name = "{0} leaves")
  @ValueSource(ints = {1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 31, 33, 100})
  @DisplayName("the root and every leaf's path are those of the plain recursive definition, and verify")
  void matchesPlainDefinition(int n) {
    List<byte[]> d = rows(n);
    MerkleTree tree = MerkleTree.of(d);
    assertEquals(n, tree.size());
    assertArrayEquals(PlainMerkle.root(d), tree.root());
    for (int m = 0; m < n; m++) {
      List<byte[]> path = tree.path(m);
      List<byte[]> plain = PlainMerkle.path(m, d);
      assertEquals(plain.size(), path.size(), "path length of leaf " + m);
      for (int i = 0; i < path.size(); i++) {
        assertArrayEquals(plain.get(i), path.get(i), "path element " + i + " of leaf " + m);
      }
      assertTrue(MerkleTree.verify(m, n, d.get(m), path, tree.root()), "leaf " + m);
      assertArrayEquals(tree.root(), PlainMerkle.rootFromPath(m, n, d.get(m), path));
    }
  }

  @ParameterizedTest(name = "{0} leaves")
  @ValueSource(ints = {2, 3, 5, 7, 8, 9})
  @DisplayName("a proof fails with a flipped path byte, another leaf, a wrong index or a wrong tree size")
  void tamperedProofsFail(int n) {
    List<byte[]> d = rows(n);
    MerkleTree tree = MerkleTree.of(d);
    byte[] root = tree.root();
    for (int m = 0; m < n; m++) {
      List<byte[]> path = tree.path(m);
      List<byte[]> flipped = new ArrayList<>(path);
      byte[] p = flipped.get(0).clone();
      p[7] ^= 1;
      flipped.set(0, p);
      assertFalse(MerkleTree.verify(m, n, d.get(m), flipped, root), "flipped byte, leaf " + m);
      assertFalse(MerkleTree.verify(m, n, d.get((m + 1) % n), path, root), "other leaf, leaf " + m);
      assertFalse(MerkleTree.verify((m + 1) % n, n, d.get(m), path, root), "other index, leaf " + m);
      for (int size = 1; size <= n + 3; size++) {
        if (size == n) {
          continue;
        }
        // a leaf on the left edge has the same path in trees of several sizes (leaf 0 of 3 and of 4):
        // the size is not proven by the path, it comes from the signed checkpoint (its treeSize
        // claim, checked by verify-proof). What must hold: both implementations agree, and the last
        // leaf's path fits no larger tree
        boolean ours = MerkleTree.verify(m, size, d.get(m), path, root);
        byte[] plain = PlainMerkle.rootFromPath(m, size, d.get(m), path);
        assertEquals(plain != null && java.util.Arrays.equals(plain, root), ours, "size " + size + ", leaf " + m);
        if (m == n - 1 && size > n) {
          assertFalse(ours, "last leaf in a larger tree: size " + size);
        }
      }
      assertFalse(MerkleTree.verify(m, n, d.get(m), path.subList(0, path.size() - 1), root), "short path");
      List<byte[]> longer = new ArrayList<>(path);
      longer.add(root);
      assertFalse(MerkleTree.verify(m, n, d.get(m), longer, root), "long path");
    }
  }

  @Test
  @DisplayName("the leaf and node hashes are domain-separated as RFC 9162 says (golden values)")
  void goldenValues() {
    byte[] a = new byte[32];
    byte[] b = new byte[32];
    b[31] = 1;
    byte[] leafA = PlainMerkle.sha(new byte[] {0}, a);
    byte[] leafB = PlainMerkle.sha(new byte[] {0}, b);
    assertArrayEquals(leafA, MerkleTree.leafHash(a));
    assertArrayEquals(leafA, MerkleTree.of(List.of(a)).root());
    assertArrayEquals(PlainMerkle.sha(new byte[] {1}, leafA, leafB), MerkleTree.of(List.of(a, b)).root());
    // SHA-256(0x00 || 32 zero bytes), computed independently
    assertEquals("7f9c9e31ac8256ca2f258583df262dbc7d6f68f2a03043d5c99a4ae5a7396ce9",
      HexFormat.of().formatHex(MerkleTree.of(List.of(a)).root()));
    assertTrue(MerkleTree.of(List.of(a)).path(0).isEmpty());
  }

  @Test
  @DisplayName("an empty tree and out-of-range leaves are refused")
  void bounds() {
    assertThrows(IllegalArgumentException.class, () -> MerkleTree.of(List.of()));
    MerkleTree t = MerkleTree.of(rows(3));
    assertThrows(IllegalArgumentException.class, () -> t.path(3));
    assertThrows(IllegalArgumentException.class, () -> t.path(-1));
    assertNull(MerkleTree.rootFromPath(3, 3, new byte[32], List.of()));
    assertNull(MerkleTree.rootFromPath(0, 0, new byte[32], List.of()));
  }
}
