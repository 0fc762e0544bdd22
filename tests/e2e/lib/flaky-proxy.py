#!/usr/bin/env python3
"""flaky-proxy.py PORT UPSTREAM_PORT MODE — an HTTP proxy on 127.0.0.1:PORT in front of a
registry on 127.0.0.1:UPSTREAM_PORT that injects failures, for tests/e2e/registry.bats.

MODE flaky: the first GET of each manifest answers 500, the first GET of each blob is
            cut off halfway (connection closed), the first blob upload PUT answers 503;
            everything after that is forwarded as is.
MODE drop:  every GET of a blob is cut off halfway.
MODE corrupt: every blob GET answers with its first byte flipped.
MODE pass:  nothing injected.
MODE slow:  every blob GET whose body is over 16 KiB (a layer, not a config), and every blob
            upload (PUT, PATCH) that sends as much, is held 0.6 s before it is answered; the
            number held at that moment is logged as "layers at once N METHOD PATH" as each
            comes in.
MODE bearer: token auth in front of the registry: /v2/ requests without "Authorization:
            Bearer good-token" get a 401 Bearer challenge naming /token on this proxy, which
            hands out that token for basic credentials alice:s3cret (401 otherwise).
Every request is logged to stderr as "METHOD PATH".
Loopback only; it serves until killed."""
import base64
import http.client
import json
import http.server
import socketserver
import sys
import threading
import time

PORT, UPSTREAM, MODE = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
seen = {}
lock = threading.Lock()
held = [0]  # slow: layer transfers held now
HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


def first(key):
    with lock:
        n = seen.get(key, 0)
        seen[key] = n + 1
        return n == 0


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def fail(self, code):
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def handle_any(self):
        sys.stderr.write("%s %s\n" % (self.command, self.path.split("?")[0]))
        sys.stderr.flush()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        path = self.path.split("?")[0]
        if MODE == "bearer":
            if path == "/token":
                good = "Basic " + base64.b64encode(b"alice:s3cret").decode()
                if self.headers.get("Authorization") != good or "service=test" not in self.path:
                    return self.fail(401)
                data = json.dumps({"token": "good-token"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            if self.headers.get("Authorization") != "Bearer good-token":
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Bearer realm="http://127.0.0.1:%d/token",'
                                 'service="test",scope="repository:x:pull,push"' % PORT)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        if MODE == "flaky" and self.command == "GET" and "/manifests/" in path and first(("m", path)):
            return self.fail(500)
        if MODE == "flaky" and self.command == "PUT" and "/blobs/uploads/" in path and first(("u",)):
            return self.fail(503)
        conn = http.client.HTTPConnection("127.0.0.1", UPSTREAM, timeout=30)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in HOP and k.lower() != "authorization"}
        conn.request(self.command, self.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        cut = (self.command == "GET" and "/blobs/sha256:" in path and resp.status == 200 and
               (MODE == "drop" or (MODE == "flaky" and first(("b", path)))))
        # held before a byte of the answer goes out, so that the client waits the whole time
        slow = MODE == "slow" and (
            (self.command == "GET" and "/blobs/sha256:" in path and len(data) > 16384) or
            (self.command in ("PUT", "PATCH") and "/blobs/uploads/" in path and
             len(body or b"") > 16384))
        if slow:
            with lock:
                held[0] += 1
                sys.stderr.write("layers at once %d %s %s\n" % (held[0], self.command, path))
                sys.stderr.flush()
            time.sleep(0.6)
            with lock:
                held[0] -= 1
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in HOP:
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if (MODE == "corrupt" and self.command == "GET" and "/blobs/sha256:" in path and data):
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        if self.command != "HEAD":
            self.wfile.write(data[: len(data) // 2] if cut else data)
        if cut:
            self.wfile.flush()
            self.close_connection = True
            self.connection.close()

    do_GET = do_PUT = do_POST = do_PATCH = do_HEAD = do_DELETE = handle_any


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


Server(("127.0.0.1", PORT), Handler).serve_forever()
