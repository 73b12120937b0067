package io.openbureau.compliance;

import io.openbureau.audit.AccessLogEntry;
import io.openbureau.audit.AuditWriter;
import io.openbureau.audit.ChainHash;
import io.openbureau.config.BureauConfig;
import io.openbureau.auth.Guards;
import io.openbureau.auth.Principal;
import io.openbureau.auth.Role;
import io.openbureau.http.ApiError;
import io.openbureau.http.Cursors;
import io.openbureau.http.RequestIds;
import io.openbureau.http.Requests;
import io.openbureau.http.RouteMounter;
import io.openbureau.identity.BorrowerKeys;
import io.openbureau.identity.NationalId;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Row;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The compliance officer's view of the access log (API.md, Compliance): list, export, verify,
 * alerts (the public signed checkpoints are {@link CheckpointFeed}).
 *
 * <p>Decisions documented here:
 * <ul>
 *   <li>Time ranges are half-open {@code [from, to)} and never unbounded: see {@link TimeRange}
 *   (default the last {@code compliance.defaultRangeDays}, at most {@code compliance.maxRangeDays},
 *   cut to the newest part and flagged {@code capped}). The list's cursor carries the range of
 *   its first page, so later pages neither skip nor repeat rows while the log grows.</li>
 *   <li>A {@code lenderId} filter naming no member is 400 {@code invalid_request} naming
 *   {@code lenderId} (a filter is input, not a resource).</li>
 *   <li>Every call is itself appended to the access log before it answers (action
 *   {@code COMPLIANCE_READ}, {@code COMPLIANCE_VERIFY}, {@code COMPLIANCE_ALERTS}; actor the
 *   officer's {@code sub}; details: the filter, with the person as a borrower key, and the row
 *   count). An export is logged as {@code COMPLIANCE_EXPORT} before the first byte is streamed,
 *   and {@code COMPLIANCE_EXPORT_END} with the row count once the last row is sent; if that row
 *   cannot be committed the response is cut off rather than completed. These rows carry no
 *   lender or borrower column, so they never show up in a filter by lender or person.</li>
 *   <li>503 {@code audit_unavailable} when the log cannot record the read: nothing is served.</li>
 * </ul>
 */
public final class ComplianceRoutes {
  public static final String READ = "COMPLIANCE_READ";
  public static final String EXPORT = "COMPLIANCE_EXPORT";
  public static final String EXPORT_END = "COMPLIANCE_EXPORT_END";
  public static final String VERIFY = "COMPLIANCE_VERIFY";
  public static final String ALERTS = "COMPLIANCE_ALERTS";
  static final int EXPORT_CHUNK_BYTES = 64 * 1024;
  static final String CSV_HEADER = "id,at,action,lenderId,borrowerKey,purpose,scope,decision,reason,consentId,requestId\n";

  private final Vertx vertx;
  private final AccessLogRepository repository;
  private final AuditWriter audit;
  private final BorrowerKeys keys;
  private final ComplianceSettings settings;
  private final ChainVerifier verifier;

  public ComplianceRoutes(Vertx vertx, AccessLogRepository repository, AuditWriter audit, BorrowerKeys keys,
                          ComplianceSettings settings, BureauConfig.Postgres pg, io.openbureau.consent.ReceiptSigner signer) {
    this.vertx = vertx;
    this.repository = repository;
    this.audit = audit;
    this.keys = keys;
    this.settings = settings;
    this.verifier = new ChainVerifier(vertx, repository.pool(), pg, settings.verifyBatchRows(),
      settings.verifyParallelism(), new ChainVerifier.Trust(signer, settings.checkpointIntervalSeconds(),
        settings.accountableWindow()));
  }

  public void mount(RouteMounter routes, Guards guards) {
    var officer = guards.require(Role.COMPLIANCE);
    routes.secured("accessLog", officer, this::list);
    routes.secured("accessLogExport", officer, this::export);
    routes.secured("accessLogVerify", officer, this::verify);
    routes.secured("alerts", officer, this::alerts);
  }

  // ---- list

  private void list(RoutingContext ctx) {
    int limit = Requests.limit(ctx);
    JsonObject cursor = Cursors.decode(Requests.query(ctx, "cursor"));
    TimeRange range;
    Instant afterAt = null;
    Long afterId = null;
    if (cursor != null) {
      try {
        range = TimeRange.ofMicros(cursor.getLong("f"), cursor.getLong("t"), cursor.getBoolean("c"));
        afterAt = TimeRange.fromMicros(cursor.getLong("a"));
        afterId = cursor.getLong("i");
        if (afterId == null) {
          throw new IllegalArgumentException();
        }
      } catch (RuntimeException e) {
        throw ApiError.invalid("cursor", "is not a cursor this API returned");
      }
    } else {
      range = range(ctx);
    }
    Instant at = afterAt;
    Long id = afterId;
    filter(ctx, range)
      .compose(f -> repository.list(f, at, id, limit + 1).compose(rows -> {
        List<Row> page = rows.size() > limit ? rows.subList(0, limit) : rows;
        return record(ctx, READ, f.toJson().put("rows", page.size())).map(rows);
      }).map(rows -> {
        List<Row> page = rows.size() > limit ? rows.subList(0, limit) : rows;
        JsonArray items = new JsonArray();
        page.forEach(r -> items.add(AccessLogRepository.item(r)));
        String next = null;
        if (rows.size() > limit) {
          Row last = page.get(page.size() - 1);
          next = Cursors.encode(new JsonObject()
            .put("a", ChainHash.micros(last.getOffsetDateTime("at").toInstant())).put("i", last.getLong("id"))
            .put("f", range.fromMicros()).put("t", range.toMicros()).put("c", range.capped()));
        }
        return new JsonObject().put("items", items).put("nextCursor", next).put("range", range.toJson());
      }))
      .onSuccess(body -> Requests.json(ctx, 200, body))
      .onFailure(ctx::fail);
  }

  // ---- export

  private void export(RoutingContext ctx) {
    TimeRange range = range(ctx);
    boolean csv = wantsCsv(ctx.request().getHeader("Accept"));
    filter(ctx, range).compose(f -> record(ctx, EXPORT, f.toJson().put("format", csv ? "csv" : "ndjson")).map(f))
      .onSuccess(f -> new Export(ctx, f, csv).start())
      .onFailure(ctx::fail);
  }

  static boolean wantsCsv(String accept) {
    return accept != null && accept.toLowerCase().contains("text/csv");
  }

  /** One export: a read-only transaction, a cursor, back-pressure from the HTTP response. */
  private final class Export {
    final RoutingContext ctx;
    final AccessLogFilter filter;
    final boolean csv;
    Buffer chunk = Buffer.buffer(EXPORT_CHUNK_BYTES + 1024);
    long rows;
    boolean finished;

    Export(RoutingContext ctx, AccessLogFilter filter, boolean csv) {
      this.ctx = ctx;
      this.filter = filter;
      this.csv = csv;
    }

    void start() {
      var response = ctx.response();
      AccessLogRepository.Query q = AccessLogRepository.filtered(filter, null, null, 0);
      repository.pool().getConnection().onFailure(ctx::fail).onSuccess(conn -> conn.begin()
        .compose(tx -> conn.prepare(q.sql()).map(ps -> {
          var stream = ps.createStream(settings.exportFetchRows(), q.params());
          response.setChunked(true).setStatusCode(200)
            .putHeader("Content-Type", csv ? "text/csv; charset=utf-8" : "application/x-ndjson")
            .putHeader("Cache-Control", "no-store")
            .putHeader("X-Range-From", filter.range().from().toString())
            .putHeader("X-Range-To", filter.range().to().toString())
            .putHeader("X-Range-Capped", Boolean.toString(filter.range().capped()));
          if (csv) {
            chunk.appendString(CSV_HEADER);
          }
          response.closeHandler(v -> {
            if (!finished) {
              finished = true;
              stream.close();
              tx.rollback().eventually(conn::close);
              record(ctx, EXPORT_END, new JsonObject().put("rows", rows).put("aborted", true));
            }
          });
          stream.exceptionHandler(e -> {
            if (!finished) {
              finished = true;
              tx.rollback().eventually(conn::close);
              ctx.fail(e);
            }
          });
          stream.endHandler(v -> {
            if (finished) {
              return;
            }
            finished = true;
            tx.rollback().eventually(conn::close);
            record(ctx, EXPORT_END, new JsonObject().put("rows", rows).put("aborted", false)).onComplete(ar -> {
              if (ar.succeeded()) {
                response.end(chunk);
              } else {
                response.reset();
              }
            });
          });
          stream.handler(row -> {
            rows++;
            if (csv) {
              csvLine(chunk, row);
            } else {
              AccessLogRepository.ndjsonLine(chunk, row);
            }
            if (chunk.length() >= EXPORT_CHUNK_BYTES) {
              response.write(chunk);
              chunk = Buffer.buffer(EXPORT_CHUNK_BYTES + 1024);
              if (response.writeQueueFull()) {
                stream.pause();
                response.drainHandler(d -> stream.resume());
              }
            }
          });
          return null;
        }))
        .onFailure(e -> {
          conn.close();
          ctx.fail(e);
        }));
    }
  }

  static void csvLine(Buffer out, Row r) {
    JsonObject item = AccessLogRepository.item(r);
    String[] fields = {"id", "at", "action", "lenderId", "borrowerKey", "purpose", "scope", "decision", "reason",
      "consentId", "requestId"};
    for (int i = 0; i < fields.length; i++) {
      if (i > 0) {
        out.appendByte((byte) ',');
      }
      String v = item.getString(fields[i]);
      if (v != null) {
        out.appendString(csvField(v));
      }
    }
    out.appendByte((byte) '\n');
  }

  static String csvField(String v) {
    boolean quote = v.indexOf(',') >= 0 || v.indexOf('"') >= 0 || v.indexOf('\n') >= 0 || v.indexOf('\r') >= 0;
    // a leading = + - @ would be a formula in a spreadsheet
    boolean formula = !v.isEmpty() && "=+-@".indexOf(v.charAt(0)) >= 0;
    String s = formula ? "'" + v : v;
    return quote || formula ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
  }

  // ---- verify

  private void verify(RoutingContext ctx) {
    TimeRange range = range(ctx);
    verifier.verify(range)
      .compose(result -> record(ctx, VERIFY, result.toJson().put("from", range.from().toString())
        .put("to", range.to().toString()).put("capped", range.capped())).map(result))
      .onSuccess(result -> Requests.json(ctx, 200, result.toJson().put("range", range.toJson())))
      .onFailure(ctx::fail);
  }

  // ---- alerts

  private void alerts(RoutingContext ctx) {
    TimeRange range = range(ctx);
    Future<JsonArray> over = repository.overBorrowing(range, settings.alerts());
    Future<JsonArray> fishing = repository.fishing(range, settings.alerts());
    Future.all(over, fishing)
      .compose(v -> record(ctx, ALERTS, range.toJson().put("overBorrowing", over.result().size())
        .put("suspiciousLenders", fishing.result().size())))
      .onSuccess(v -> Requests.json(ctx, 200, new JsonObject().put("window", range.toJson())
        .put("thresholds", settings.alerts().toJson())
        .put("overBorrowing", over.result()).put("suspiciousLenders", fishing.result())))
      .onFailure(ctx::fail);
  }

  // ---- shared steps

  private TimeRange range(RoutingContext ctx) {
    return TimeRange.parse(Requests.query(ctx, "from"), Requests.query(ctx, "to"), settings, Instant.now());
  }

  /** The request's filters, validated; the national id is hashed here and dropped. */
  private Future<AccessLogFilter> filter(RoutingContext ctx, TimeRange range) {
    List<ApiError.FieldError> errors = new ArrayList<>();
    String lender = Requests.query(ctx, "lenderId");
    String nationalId = Requests.query(ctx, "nationalId");
    byte[] key = null;
    if (nationalId != null) {
      String problem = NationalId.problem(nationalId);
      if (problem != null) {
        errors.add(new ApiError.FieldError("nationalId", problem));
      } else {
        key = keys.key(nationalId);
      }
    }
    String type = Requests.query(ctx, "inquiryType");
    String purpose = Requests.query(ctx, "purpose");
    if (type != null && purpose != null && !type.equals(io.openbureau.inquiry.Purposes.type(purpose))) {
      errors.add(new ApiError.FieldError("inquiryType", "contradicts purpose: " + purpose + " is "
        + io.openbureau.inquiry.Purposes.type(purpose)));
    }
    if (!errors.isEmpty()) {
      return Future.failedFuture(ApiError.invalid(errors));
    }
    AccessLogFilter f = new AccessLogFilter(lender, key, Requests.query(ctx, "decision"),
      purpose, Requests.query(ctx, "action"), type, range);
    if (lender == null) {
      return Future.succeededFuture(f);
    }
    return repository.memberExists(lender).compose(exists -> exists ? Future.succeededFuture(f)
      : Future.failedFuture(ApiError.invalid("lenderId", "is not a member of the bureau")));
  }

  /** Appends the officer's own access to the log; fails with 503 audit_unavailable if it cannot. */
  private Future<AccessLogEntry> record(RoutingContext ctx, String action, JsonObject details) {
    Principal officer = Principal.of(ctx);
    return audit.append(new AccessLogEntry.Draft(action, Role.COMPLIANCE, officer.subject(), null, null, null, null,
      AccessLogEntry.GRANTED, null, null, RequestIds.get(ctx), null, details));
  }
}
