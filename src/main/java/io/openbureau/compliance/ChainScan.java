package io.openbureau.compliance;

import io.openbureau.audit.ChainHash;
import io.openbureau.audit.DetailsJson;
import io.openbureau.config.BureauConfig;
import io.openbureau.db.Database;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyOut;

import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import static java.nio.charset.StandardCharsets.UTF_8;

/**
 * The fast pass of verification: reads every row of a range as Postgres' binary COPY stream, in
 * table order (sequential scans, no sort), on several connections at once (one month slice at a
 * time each, all in one exported snapshot), and for each row recomputes the hash straight from the
 * COPY bytes ({@link ChainHash.Canonical} of the row's {@code hash_version}: no decoding into
 * objects, no Strings; a details copy that no longer matches, or a value the row's encoding does
 * not cover, makes it a mismatch) and links it to
 * the previous row of its chain when that row came just before in the stream (the writer appends
 * chains in order, so in an intact log nearly every row does).
 *
 * <p>Per chain it yields "segments": runs of rows each linked to the one before. A chain is clean
 * when every hash matched and its segments, sorted by {@code chain_seq}, join up exactly (next
 * {@code chain_seq}, {@code prev_hash} equal to the previous segment's last {@code row_hash}).
 * Anything else (a mismatch, a gap, a duplicate, out-of-order rows it cannot join) makes the
 * chain <em>suspect</em>; the verifier then walks suspect chains in order to name the exact row.
 * Blocking (JDBC): runs on its own threads, never on an event loop.
 */
final class ChainScan {
  /** The version first: it picks the encoder before the row's fields are fed to it. */
  static final String COLUMNS = "hash_version, id, at, chain_id, chain_seq, action, actor_role, actor_id, lender_id,"
    + " borrower_key, purpose, scope, decision, reason, consent_id, request_id, score_value, details_json::text,"
    + " details::text, prev_hash, row_hash";
  private static final int FIELDS = 21;
  private static final byte[] SIGNATURE = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', (byte) 0xff, '\r', '\n', 0};
  private static final int MAX_SEGMENTS = 4096;
  /** Out-of-order rows held per chain, waiting for their predecessor, at most. */
  private static final int MAX_PENDING = 4096;

  /** A run of linked rows of one chain. */
  static final class Segment {
    long firstSeq;
    long firstId;
    long firstAtMicros;
    final byte[] firstPrev = new byte[32];
    long lastSeq;
    long lastId;
    long lastAtMicros;
    final byte[] lastHash = new byte[32];
  }

  /** A row that came before its predecessor (the heap is only nearly in insertion order). */
  record Pending(long seq, long id, long atMicros, byte[] prev, byte[] hash) {
  }

  /** What one slice saw of one chain. */
  static final class ChainPart {
    final String chainId;
    final byte[] idBytes;
    final List<Segment> segments = new ArrayList<>(2);
    final java.util.TreeMap<Long, Pending> pending = new java.util.TreeMap<>();
    Segment current;
    boolean suspect;

    ChainPart(String chainId, byte[] idBytes) {
      this.chainId = chainId;
      this.idBytes = idBytes;
    }
  }

  /** The outcome of the fast pass. */
  record Outcome(long rows, Map<String, ChainVerifier.ChainEnds> clean, List<String> suspect) {
  }

  private ChainScan() {
  }

  /** Month slices of [from, to), the partitioning of the log (a slice is scanned by one connection). */
  static List<Instant[]> slices(Instant from, Instant to) {
    List<Instant[]> out = new ArrayList<>();
    Instant start = from;
    while (start.isBefore(to)) {
      LocalDate month = start.atOffset(ZoneOffset.UTC).toLocalDate().withDayOfMonth(1).plusMonths(1);
      Instant next = month.atStartOfDay().toInstant(ZoneOffset.UTC);
      Instant end = next.isBefore(to) ? next : to;
      out.add(new Instant[] {start, end});
      start = end;
    }
    return out;
  }

  static Outcome run(BureauConfig.Postgres pg, Instant from, Instant to, int parallelism, ExecutorService pool)
    throws Exception {
    List<Instant[]> slices = slices(from, to);
    int n = Math.max(1, Math.min(parallelism, slices.size()));
    List<Connection> conns = new ArrayList<>();
    try {
      String url = Database.complianceJdbcUrl(pg);
      String snapshot = null;
      for (int i = 0; i < n; i++) {
        Connection c = DriverManager.getConnection(url, pg.user(), pg.password());
        conns.add(c);
        try (Statement st = c.createStatement()) {
          st.execute("SET synchronize_seqscans = off"); // every scan from the start of its slice
          st.execute("SET jit = off");
          st.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
          if (snapshot == null) {
            try (ResultSet rs = st.executeQuery("SELECT pg_export_snapshot()")) {
              rs.next();
              snapshot = rs.getString(1);
            }
          } else {
            st.execute("SET TRANSACTION SNAPSHOT '" + snapshot.replace("'", "") + "'");
          }
        }
      }
      AtomicInteger next = new AtomicInteger();
      List<Future<Map<String, ChainPart>>> futures = new ArrayList<>();
      List<List<Map<String, ChainPart>>> perSlice = new ArrayList<>();
      @SuppressWarnings("unchecked")
      Map<String, ChainPart>[] results = new Map[slices.size()];
      long[] rows = new long[n];
      for (int i = 0; i < n; i++) {
        Connection c = conns.get(i);
        int worker = i;
        futures.add(pool.submit(() -> {
          for (int s; (s = next.getAndIncrement()) < slices.size(); ) {
            Scanner scanner = new Scanner();
            scanner.scan(c, slices.get(s)[0], slices.get(s)[1]);
            results[s] = scanner.parts;
            rows[worker] += scanner.rows;
          }
          return null;
        }));
      }
      for (Future<Map<String, ChainPart>> f : futures) {
        f.get();
      }
      return merge(results, Arrays.stream(rows).sum());
    } finally {
      for (Connection c : conns) {
        try {
          c.close();
        } catch (SQLException ignored) {
          // closing
        }
      }
    }
  }

  /** Joins the slices' segments per chain. */
  static Outcome merge(Map<String, ChainPart>[] slices, long rows) {
    Map<String, List<ChainPart>> byChain = new HashMap<>();
    for (Map<String, ChainPart> slice : slices) {
      if (slice != null) {
        slice.forEach((chain, part) -> byChain.computeIfAbsent(chain, k -> new ArrayList<>()).add(part));
      }
    }
    Map<String, ChainVerifier.ChainEnds> clean = new HashMap<>();
    List<String> suspect = new ArrayList<>();
    byChain.forEach((chain, parts) -> {
      List<Segment> segments = new ArrayList<>();
      boolean bad = false;
      for (ChainPart p : parts) {
        bad |= p.suspect;
        segments.addAll(p.segments);
      }
      if (!bad) {
        segments.sort((a, b) -> Long.compare(a.firstSeq, b.firstSeq));
        for (int i = 1; i < segments.size() && !bad; i++) {
          Segment prev = segments.get(i - 1);
          Segment s = segments.get(i);
          bad = s.firstSeq != prev.lastSeq + 1 || !Arrays.equals(s.firstPrev, prev.lastHash);
        }
      }
      if (bad || segments.isEmpty()) {
        suspect.add(chain);
        return;
      }
      Segment first = segments.get(0);
      Segment last = segments.get(segments.size() - 1);
      ChainVerifier.ChainEnds ends = new ChainVerifier.ChainEnds();
      ends.firstSeq = first.firstSeq;
      ends.firstId = first.firstId;
      ends.firstAt = instant(first.firstAtMicros);
      ends.firstPrev = first.firstPrev.clone();
      ends.lastSeq = last.lastSeq;
      ends.lastId = last.lastId;
      ends.lastAt = instant(last.lastAtMicros);
      clean.put(chain, ends);
    });
    return new Outcome(rows, clean, suspect);
  }

  static Instant instant(long epochMicros) {
    return Instant.ofEpochSecond(Math.floorDiv(epochMicros, 1_000_000L), Math.floorMod(epochMicros, 1_000_000L) * 1000L);
  }

  /** Parses one slice's binary COPY stream. */
  static final class Scanner {
    final Map<String, ChainPart> parts = new HashMap<>();
    final ChainHash.Canonical v3 = ChainHash.encoder(ChainHash.V3);
    final ChainHash.Canonical v2 = ChainHash.encoder(ChainHash.V2);
    final MessageDigest md = ChainHash.sha256();
    final byte[] computed = new byte[32];
    final ChainPart[] recent = new ChainPart[8];
    int recentNext;
    long rows;
    byte[] m;
    int p;

    void scan(Connection c, Instant from, Instant to) throws SQLException {
      String sql = "COPY (SELECT " + COLUMNS + " FROM access_log WHERE at >= '" + from + "'::timestamptz AND at < '"
        + to + "'::timestamptz) TO STDOUT (FORMAT binary)";
      CopyOut copy = c.unwrap(PGConnection.class).getCopyAPI().copyOut(sql);
      boolean header = false;
      try {
        byte[] msg;
        while ((msg = copy.readFromCopy()) != null) {
          m = msg;
          p = 0;
          if (!header) {
            header = true;
            for (int i = 0; i < SIGNATURE.length; i++) {
              if (m[i] != SIGNATURE[i]) {
                throw new IllegalStateException("not a binary COPY stream");
              }
            }
            p = SIGNATURE.length + 4;
            int ext = int32();
            p += ext;
            if (p >= m.length) {
              continue;
            }
          }
          while (p < m.length) {
            int fields = int16();
            if (fields == -1) {
              break;
            }
            if (fields != FIELDS) {
              throw new IllegalStateException("unexpected COPY row of " + fields + " fields");
            }
            row();
          }
        }
      } finally {
        if (copy.isActive()) {
          copy.cancelCopy();
        }
      }
      finish();
    }

    private void row() {
      rows++;
      int len = int32(); // hash_version
      int version = int16();
      // an unknown version is parsed like v3 and counts as a mismatch
      boolean uncovered = version != ChainHash.V3 && version != ChainHash.V2;
      ChainHash.Canonical c = version == ChainHash.V2 ? v2 : v3;
      c.start();
      len = int32(); // id
      long id = int64();
      len = int32(); // at
      long at = int64() + ChainHash.PG_EPOCH_MICROS;
      c.number(id);
      c.number(at);
      int chainLen = int32();
      int chainOff = p;
      c.utf8(m, p, chainLen);
      p += chainLen;
      len = int32(); // chain_seq
      long seq = int64();
      c.number(seq);
      for (int i = 0; i < 4; i++) { // action, actor_role, actor_id, lender_id
        text(c);
      }
      len = int32(); // borrower_key
      if (len < 0) {
        c.nul();
      } else {
        c.hex(m, p, len);
        p += len;
      }
      for (int i = 0; i < 4; i++) { // purpose, scope, decision, reason
        text(c);
      }
      len = int32(); // consent_id
      if (len < 0) {
        c.nul();
      } else {
        long msb = int64();
        long lsb = int64();
        c.uuid(msb, lsb);
      }
      text(c); // request_id
      len = int32(); // score_value
      if (len < 0) {
        c.nul();
      } else {
        c.number(int32());
      }
      if (version == ChainHash.V2) {
        uncovered |= skip(); // details_json: v2 rows have none
        text(c); // details::text, as v2 hashed it
      } else {
        int jsonLen = int32(); // details_json, hashed as stored
        int jsonOff = p;
        if (jsonLen < 0) {
          c.nul();
        } else {
          c.utf8(m, p, jsonLen);
          p += jsonLen;
        }
        int copyLen = int32(); // the jsonb copy for queries: must still hold the same value
        int copyOff = p;
        if (copyLen >= 0) {
          p += copyLen;
        }
        if (jsonLen >= 0 || copyLen >= 0) {
          uncovered |= !DetailsJson.copyMatches(jsonLen < 0 ? null : new String(m, jsonOff, jsonLen, UTF_8),
            copyLen < 0 ? null : new String(m, copyOff, copyLen, UTF_8));
        }
      }
      int prevLen = int32();
      int prevOff = p;
      p += prevLen;
      int hashLen = int32();
      int hashOff = p;
      p += hashLen;
      c.digest(md, m, prevOff, prevLen, computed);
      ChainPart part = part(chainOff, chainLen);
      if (part.suspect) {
        return;
      }
      if (uncovered || hashLen != 32 || prevLen != 32 || !Arrays.equals(computed, 0, 32, m, hashOff, hashOff + 32)) {
        part.suspect = true;
        return;
      }
      Segment s = part.current;
      if (s != null && seq == s.lastSeq + 1) {
        if (!Arrays.equals(s.lastHash, 0, 32, m, prevOff, prevOff + 32)) {
          part.suspect = true;
          return;
        }
        extend(s, seq, id, at, m, hashOff);
        drain(part);
      } else if (s == null) {
        start(part, seq, id, at, m, prevOff, m, hashOff);
      } else {
        // ahead of (or behind) the chain's current run: hold it until its predecessor shows up
        Pending was = part.pending.put(seq, new Pending(seq, id, at, Arrays.copyOfRange(m, prevOff, prevOff + 32),
          Arrays.copyOfRange(m, hashOff, hashOff + 32)));
        if (was != null) {
          part.suspect = true; // the same place in the chain twice
        } else if (part.pending.size() > MAX_PENDING) {
          startFromPending(part);
        }
      }
    }

    /** At the end of the slice: what is still pending forms runs of its own (joined, or not, by merge). */
    void finish() {
      for (ChainPart part : parts.values()) {
        while (!part.suspect && !part.pending.isEmpty()) {
          startFromPending(part);
        }
        part.pending.clear();
      }
    }

    private static void extend(Segment s, long seq, long id, long at, byte[] hash, int hashOff) {
      s.lastSeq = seq;
      s.lastId = id;
      s.lastAtMicros = at;
      System.arraycopy(hash, hashOff, s.lastHash, 0, 32);
    }

    private static void start(ChainPart part, long seq, long id, long at, byte[] prev, int prevOff, byte[] hash,
                              int hashOff) {
      if (part.segments.size() >= MAX_SEGMENTS) {
        part.suspect = true;
        return;
      }
      Segment s = new Segment();
      s.firstSeq = seq;
      s.firstId = id;
      s.firstAtMicros = at;
      System.arraycopy(prev, prevOff, s.firstPrev, 0, 32);
      extend(s, seq, id, at, hash, hashOff);
      part.segments.add(s);
      part.current = s;
      drain(part);
    }

    private static void startFromPending(ChainPart part) {
      Pending p = part.pending.pollFirstEntry().getValue();
      start(part, p.seq(), p.id(), p.atMicros(), p.prev(), 0, p.hash(), 0);
    }

    /** Pending rows that now follow the current run. */
    private static void drain(ChainPart part) {
      Segment s = part.current;
      while (!part.suspect && !part.pending.isEmpty() && part.pending.firstKey() == s.lastSeq + 1) {
        Pending p = part.pending.pollFirstEntry().getValue();
        if (!Arrays.equals(s.lastHash, p.prev())) {
          part.suspect = true;
          return;
        }
        extend(s, p.seq(), p.id(), p.atMicros(), p.hash(), 0);
      }
    }

    private ChainPart part(int off, int len) {
      for (ChainPart cp : recent) {
        if (cp != null && cp.idBytes.length == len && Arrays.equals(cp.idBytes, 0, len, m, off, off + len)) {
          return cp;
        }
      }
      String id = new String(m, off, len, java.nio.charset.StandardCharsets.UTF_8);
      ChainPart cp = parts.computeIfAbsent(id, k -> new ChainPart(k, Arrays.copyOfRange(m, off, off + len)));
      recent[recentNext] = cp;
      recentNext = (recentNext + 1) % recent.length;
      return cp;
    }

    private void text(ChainHash.Canonical c) {
      int len = int32();
      if (len < 0) {
        c.nul();
      } else {
        c.utf8(m, p, len);
        p += len;
      }
    }

    /** Skips a field; whether it held a value (not NULL). */
    private boolean skip() {
      int len = int32();
      if (len >= 0) {
        p += len;
      }
      return len >= 0;
    }

    private int int16() {
      int v = (short) (((m[p] & 0xff) << 8) | (m[p + 1] & 0xff));
      p += 2;
      return v;
    }

    private int int32() {
      int v = ((m[p] & 0xff) << 24) | ((m[p + 1] & 0xff) << 16) | ((m[p + 2] & 0xff) << 8) | (m[p + 3] & 0xff);
      p += 4;
      return v;
    }

    private long int64() {
      long hi = int32() & 0xffffffffL;
      long lo = int32() & 0xffffffffL;
      return (hi << 32) | lo;
    }
  }
}
