package io.openbureau.auth;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.openbureau.config.BureauConfig;
import io.openbureau.http.ApiError;
import io.openbureau.support.TestBureau;
import io.openbureau.support.Tokens;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * JWT header and payload parsing under fuzzing: a token whose header, payload or signature is any
 * bytes (valid JSON or not, trusted issuer or not, any alg, crit, embedded keys) is refused with a
 * 401 problem, within the time, and never accepted; nothing else escapes (no 500).
 */
@DisplayName("Fuzzing the bearer token parser")
class TokenFuzzTest {
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static Vertx vertx;
  private static TokenVerifier verifier;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    BureauConfig config = BureauConfig.from(TestBureau.testConfig("fuzz"));
    verifier = new TokenVerifier(vertx, TrustedIssuers.load(vertx, config.auth()), 30, 64);
  }

  @AfterAll
  static void stop() {
    vertx.close().await();
  }

  @FuzzTest(maxDuration = "3s")
  @DisplayName("any header, payload and signature is refused with 401, never accepted, never another failure")
  void anyToken(FuzzedDataProvider data) throws Exception {
    String header;
    if (data.consumeBoolean()) {
      JsonObject h = new JsonObject().put("alg", data.pickValue(new String[] {"RS256", "ES256", "none", "HS256", ""}))
        .put("typ", "JWT");
      if (data.consumeBoolean()) {
        h.put(data.pickValue(new String[] {"crit", "jwk", "x5c", "jku", "kid"}), data.consumeString(20));
      }
      header = h.encode();
    } else {
      header = data.consumeString(200);
    }
    String payload;
    if (data.consumeBoolean()) {
      payload = new JsonObject().put("iss", data.consumeBoolean() ? Tokens.TEST_ISSUER : data.consumeString(30))
        .put("sub", data.consumeString(30)).put("exp", data.consumeLong()).put("aud", "openbureau")
        .put("roles", new io.vertx.core.json.JsonArray().add(data.consumeString(10))).encode();
    } else {
      payload = data.consumeString(300);
    }
    byte[] signature = data.consumeBytes(300);
    String token = switch (data.consumeInt(0, 3)) {
      case 0 -> data.consumeRemainingAsString(); // any text at all
      case 1 -> seg(header) + "." + seg(payload) + "." + B64.encodeToString(signature) + "." + seg(payload);
      default -> seg(header) + "." + seg(payload) + "." + B64.encodeToString(signature);
    };
    try {
      verifier.verify(token).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      fail("a forged token was accepted");
    } catch (ExecutionException e) {
      ApiError error = assertInstanceOf(ApiError.class, e.getCause(), "the refusal is a problem, not " + e.getCause());
      assertEquals(401, error.status(), error.getMessage());
    }
  }

  private static String seg(String text) {
    return B64.encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }
}
