package io.openbureau.cache;

import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;

/** A Lua script loaded once from the classpath (at class init, off the hot path), run by SHA. */
public record LuaScript(String name, String source, String sha1) {

  public static LuaScript load(String resource) {
    try (InputStream in = LuaScript.class.getResourceAsStream("/lua/" + resource)) {
      if (in == null) {
        throw new IllegalStateException("missing Lua script " + resource);
      }
      String src = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(src.getBytes(StandardCharsets.UTF_8)));
      return new LuaScript(resource, src, sha);
    } catch (IOException | java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("cannot load Lua script " + resource, e);
    }
  }

  Request evalsha(List<String> keys, List<String> args) {
    return fill(Request.cmd(Command.EVALSHA).arg(sha1), keys, args);
  }

  Request eval(List<String> keys, List<String> args) {
    return fill(Request.cmd(Command.EVAL).arg(source), keys, args);
  }

  private static Request fill(Request r, List<String> keys, List<String> args) {
    r.arg(keys.size());
    keys.forEach(r::arg);
    args.forEach(r::arg);
    return r;
  }
}
