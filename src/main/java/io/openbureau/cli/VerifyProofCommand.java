package io.openbureau.cli;

import io.openbureau.audit.MerkleTree;
import io.openbureau.compliance.SignedCheckpoint;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * {@code verify-proof PROOF.json --jwks JWKS.json}: checks, offline and with the public key alone, an
 * inclusion proof from {@code GET /v1/me/inquiries/{id}/proof}: the checkpoint's signature against
 * the JWKS, that the row's chain position is inside the signed tree, and that the audit path leads
 * from the row's leaf to the signed Merkle root. Prints {@code OK ...} (exit 0) or
 * {@code FAILED: reason} (exit 1); 2 for a usage error or an unreadable file.
 */
public final class VerifyProofCommand {
  public static final int OK = 0;
  public static final int FAILED = 1;
  public static final int USAGE = 2;

  private VerifyProofCommand() {
  }

  public static int run(String[] args, PrintStream out, PrintStream err) {
    String proofFile = null;
    String jwksFile = null;
    for (int i = 0; i < args.length; i++) {
      if ("--jwks".equals(args[i]) && i + 1 < args.length) {
        jwksFile = args[++i];
      } else if (proofFile == null && !args[i].startsWith("--")) {
        proofFile = args[i];
      } else {
        proofFile = null;
        break;
      }
    }
    if (proofFile == null || jwksFile == null) {
      err.println("usage: verify-proof PROOF.json --jwks JWKS.json");
      return USAGE;
    }
    JsonObject proof;
    JsonObject jwks;
    try {
      proof = new JsonObject(Files.readString(Path.of(proofFile)));
      jwks = new JsonObject(Files.readString(Path.of(jwksFile)));
    } catch (IOException | RuntimeException e) {
      err.println("verify-proof: cannot read " + (e instanceof IOException ? "a file: " + e.getMessage()
        : "the files as JSON objects"));
      return USAGE;
    }
    String problem = check(proof, jwks);
    if (problem != null) {
      out.println("FAILED: " + problem);
      return FAILED;
    }
    JsonObject row = proof.getJsonObject("row");
    out.println("OK: entry " + row.getValue("id") + " (chain " + row.getValue("chainId") + ", seq "
      + row.getValue("chainSeq") + ") is in checkpoint " + proof.getValue("checkpointId") + " signed by the bureau");
    return OK;
  }

  /** Null when the proof holds, else why not. */
  public static String check(JsonObject proof, JsonObject jwks) {
    SignedCheckpoint cp;
    try {
      cp = SignedCheckpoint.verify(proof.getValue("checkpoint") instanceof String s ? s : null, jwks);
    } catch (SignedCheckpoint.Invalid e) {
      return "checkpoint " + e.problem() + ": " + e.getMessage();
    }
    if (cp.fromSeq() == null) {
      return "the checkpoint carries no Merkle tree";
    }
    try {
      JsonObject row = proof.getJsonObject("row");
      if (row == null || !cp.chainId().equals(row.getString("chainId"))) {
        return "the row's chainId is not the checkpoint's";
      }
      Long seq = row.getLong("chainSeq");
      if (seq == null || seq < cp.fromSeq() || seq > cp.chainSeq()) {
        return "the row's chainSeq is outside the checkpoint's rows " + cp.fromSeq() + ".." + cp.chainSeq();
      }
      long index = seq - cp.fromSeq();
      Long leafIndex = proof.getLong("leafIndex");
      Long treeSize = proof.getLong("treeSize");
      if (leafIndex == null || leafIndex != index) {
        return "leafIndex " + leafIndex + " is not chainSeq - fromSeq = " + index;
      }
      if (treeSize == null || treeSize != cp.treeSize()) {
        return "treeSize " + treeSize + " is not the signed tree's size " + cp.treeSize();
      }
      byte[] rowHash = hex(proof.getString("rowHash"));
      JsonArray rawPath = proof.getJsonArray("auditPath");
      if (rowHash == null || rawPath == null) {
        return "rowHash and auditPath must be 64-digit lowercase hex";
      }
      List<byte[]> path = new ArrayList<>();
      for (Object o : rawPath) {
        byte[] p = o instanceof String s ? hex(s) : null;
        if (p == null) {
          return "rowHash and auditPath must be 64-digit lowercase hex";
        }
        path.add(p);
      }
      if (seq == cp.chainSeq() && !MessageDigest.isEqual(rowHash, cp.headHash())) {
        return "the row is the checkpoint's head but its rowHash is not the signed headHash";
      }
      if (!MerkleTree.verify(index, cp.treeSize(), rowHash, path, cp.merkleRoot())) {
        return "the audit path does not lead from the row's leaf to the signed Merkle root";
      }
      return null;
    } catch (ClassCastException e) {
      return "the proof's fields have the wrong types";
    }
  }

  private static byte[] hex(String s) {
    return s != null && s.matches("[0-9a-f]{64}") ? HexFormat.of().parseHex(s) : null;
  }
}
