package io.openbureau.support.fuzz;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A deliberately small HTTP/1.1 client over a plain socket, so that any byte sequence can be sent:
 * one keep-alive connection per worker thread, a fresh one for byte-level cases and after the
 * server closed. It reads Content-Length, chunked and close-delimited bodies and keeps the first
 * {@link #KEEP} bytes of each.
 */
public final class RawClient implements AutoCloseable {
  static final int KEEP = 64 * 1024;
  /** Of a chunked stream (an export) this much is read before hanging up. */
  static final int STREAM_KEEP = 8 * 1024;
  private static final int MAX_HEAD = 64 * 1024;
  private final String host;
  private final int port;
  private final int timeoutMillis;
  private Socket socket;
  private InputStream in;
  private OutputStream out;

  public RawClient(String host, int port, int timeoutMillis) {
    this.host = host;
    this.port = port;
    this.timeoutMillis = timeoutMillis;
  }

  public FuzzResponse send(FuzzRequest request) {
    boolean reused = !request.fresh() && socket != null;
    FuzzResponse first = attempt(request);
    if (reused && first.error() != null && !first.error().startsWith("no answer")) {
      // a kept-alive connection the server had already given up on: the request deserves a fresh one
      return attempt(request);
    }
    return first;
  }

  private FuzzResponse attempt(FuzzRequest request) {
    try {
      if (request.fresh() || socket == null) {
        reconnect();
      }
      try {
        out.write(request.bytes());
        out.flush();
      } catch (IOException e) {
        // the server may answer and close before reading a body it refuses: read what it said
      }
      FuzzResponse response = read(request.head());
      if (request.fresh() || "close".equalsIgnoreCase(response.header("connection"))) {
        close();
      }
      return response;
    } catch (SocketTimeoutException e) {
      close();
      return FuzzResponse.failed("no answer within " + timeoutMillis + " ms");
    } catch (IOException e) {
      close();
      return FuzzResponse.failed("connection failed: " + e.getMessage());
    }
  }

  private void reconnect() throws IOException {
    close();
    socket = new Socket();
    socket.setTcpNoDelay(true);
    socket.setSoTimeout(timeoutMillis);
    socket.connect(new InetSocketAddress(host, port), timeoutMillis);
    in = new BufferedInputStream(socket.getInputStream(), 16 * 1024);
    out = socket.getOutputStream();
  }

  private FuzzResponse read(boolean head) throws IOException {
    while (true) {
      String statusLine = line();
      if (statusLine == null) {
        close();
        return FuzzResponse.failed("connection closed without a response");
      }
      String[] parts = statusLine.split(" ", 3);
      int status;
      try {
        status = Integer.parseInt(parts[1]);
      } catch (RuntimeException e) {
        close();
        return FuzzResponse.failed("unparseable status line: " + statusLine);
      }
      Map<String, List<String>> headers = new LinkedHashMap<>();
      int headBytes = 0;
      for (String l = line(); l != null && !l.isEmpty(); l = line()) {
        headBytes += l.length();
        if (headBytes > MAX_HEAD) {
          throw new IOException("response head too large");
        }
        int colon = l.indexOf(':');
        if (colon > 0) {
          headers.computeIfAbsent(l.substring(0, colon).trim().toLowerCase(), k -> new ArrayList<>())
            .add(l.substring(colon + 1).trim());
        }
      }
      if (status == 101) {
        close(); // switched to another protocol (h2c, websocket): the answer is not HTTP/1.1 any more
        return new FuzzResponse(status, headers, new byte[0], null);
      }
      if (status >= 100 && status < 200) {
        continue; // 100 Continue and friends: the real answer follows
      }
      byte[] body = head || status == 204 || status == 304 ? new byte[0] : body(headers);
      return new FuzzResponse(status, headers, body, null);
    }
  }

  private byte[] body(Map<String, List<String>> headers) throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    List<String> te = headers.get("transfer-encoding");
    List<String> cl = headers.get("content-length");
    if (te != null && te.get(0).toLowerCase().contains("chunked")) {
      while (true) {
        String size = line();
        if (size == null) {
          throw new IOException("chunked body cut short");
        }
        int semi = size.indexOf(';');
        long n = Long.parseLong((semi >= 0 ? size.substring(0, semi) : size).trim(), 16);
        if (n == 0) {
          for (String l = line(); l != null && !l.isEmpty(); l = line()) {
            // trailers
          }
          return body.toByteArray();
        }
        copy(n, body);
        line();
        if (body.size() >= STREAM_KEEP) {
          // a long stream (an export): what was read is enough, and the rest is not worth the time
          close();
          return body.toByteArray();
        }
      }
    }
    if (cl != null) {
      copy(Long.parseLong(cl.get(0).trim()), body);
      return body.toByteArray();
    }
    byte[] buf = new byte[8192];
    for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
      if (body.size() < KEEP) {
        body.write(buf, 0, Math.min(n, KEEP - body.size()));
      }
    }
    close();
    return body.toByteArray();
  }

  private void copy(long n, ByteArrayOutputStream to) throws IOException {
    byte[] buf = new byte[8192];
    long left = n;
    while (left > 0) {
      int r = in.read(buf, 0, (int) Math.min(buf.length, left));
      if (r < 0) {
        throw new IOException("body cut short");
      }
      if (to.size() < KEEP) {
        to.write(buf, 0, Math.min(r, KEEP - to.size()));
      }
      left -= r;
    }
  }

  /** One CRLF-terminated line as ISO-8859-1, null at end of stream before any byte. */
  private String line() throws IOException {
    StringBuilder sb = new StringBuilder();
    int c;
    while ((c = in.read()) >= 0) {
      if (c == '\n') {
        int len = sb.length();
        if (len > 0 && sb.charAt(len - 1) == '\r') {
          sb.setLength(len - 1);
        }
        return sb.toString();
      }
      sb.append((char) c);
      if (sb.length() > MAX_HEAD) {
        throw new IOException("line too long");
      }
    }
    return sb.length() == 0 ? null : sb.toString();
  }

  @Override
  public void close() {
    if (socket != null) {
      try {
        socket.close();
      } catch (IOException ignored) {
        // closing anyway
      }
    }
    socket = null;
    in = null;
    out = null;
  }

  static String latin1(byte[] b) {
    return new String(b, StandardCharsets.ISO_8859_1);
  }
}
