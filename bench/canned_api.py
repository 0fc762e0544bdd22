#!/usr/bin/env python3
"""canned_api.py SOCKET SOURCE_SOCKET PATH... — an Engine API "server" that does no work: it
fetches each PATH once from SOURCE_SOCKET (a real service), then serves those bodies and
_ping from memory on SOCKET, with the source's headers.  bench/api.sh points the docker CLI
at it to measure the client's own floor: what `docker ps -a` costs when the server's share is
next to nothing.  Serves until killed."""
import http.client
import http.server
import os
import socket
import socketserver
import sys

SOCK, SRC, PATHS = sys.argv[1], sys.argv[2], sys.argv[3:]
HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "date"}


class UnixConn(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(SRC)


def fetch(method, path):
    c = UnixConn("d")
    c.request(method, path)
    r = c.getresponse()
    body = r.read()
    return r.status, [(k, v) for k, v in r.getheaders() if k.lower() not in HOP], body


canned = {}
for p in ["/_ping"] + PATHS:
    canned[p.split("?")[0].split("/", 2)[-1] if p.startswith("/v1.") else p] = fetch("GET", p)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, with_body):
        path = self.path.split("?")[0]
        key = path.split("/", 2)[-1] if path.startswith("/v1.") else path
        status, headers, body = canned.get(key, (404, [], b'{"message":"not canned"}\n'))
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def do_GET(self):
        self.answer(True)

    def do_HEAD(self):
        self.answer(False)


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def get_request(self):
        conn, _ = self.socket.accept()
        return conn, ("canned", 0)


if os.path.exists(SOCK):
    os.unlink(SOCK)
Server(SOCK, Handler).serve_forever()
