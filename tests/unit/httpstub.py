"""A tiny HTTP service on loopback for tests of HTTP clients and proxies.

Paths (any method unless said):

* ``/ok``: 200, body ``ok``;
* ``/echo``: 200, the request body back (Content-Length or chunked in);
* ``/bytes/N``: 200, N bytes (``0123456789`` repeated) in 64 KiB writes;
* ``/drip/N/S``: 200, N blocks of one byte, S seconds apart;
* ``/cut``: announces 1,000 bytes, sends 100 and closes;
* ``/fail/N``: answers N (e.g. 500).

``hits`` counts the requests per (method, path); ``received`` the body
bytes of each.
"""

import collections
import http.server
import threading
import time

import fixtures

_PATTERN = b'0123456789' * 6554


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, format, *args):
        pass

    def _read_body(self):
        if 'chunked' in self.headers.get('Transfer-Encoding', ''):
            total = 0
            while True:
                size = int(self.rfile.readline().split(b';')[0], 16)
                if not size:
                    self.rfile.readline()
                    return total
                total += len(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get('Content-Length') or 0)
        return len(self.rfile.read(length)) if length else 0

    def _send(self, code, body=b'', length=None):
        self.send_response(code)
        self.send_header('Content-Length',
                         str(len(body) if length is None else length))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)

    def _serve(self):
        stub = self.server.stub
        size = self._read_body()
        stub.record(self.command, self.path, size)
        parts = self.path.strip('/').split('/')
        if parts[0] == 'ok':
            self._send(200, b'ok')
        elif parts[0] == 'echo':
            self._send(200, b'x' * size)
        elif parts[0] == 'bytes':
            total = int(parts[1])
            self.send_response(200)
            self.send_header('Content-Length', str(total))
            self.end_headers()
            while total:
                block = _PATTERN[:min(total, 64 << 10)]
                self.wfile.write(block)
                total -= len(block)
        elif parts[0] == 'drip':
            count, pause = int(parts[1]), float(parts[2])
            self.send_response(200)
            self.send_header('Content-Length', str(count))
            self.end_headers()
            for _ in range(count):
                self.wfile.write(b'.')
                self.wfile.flush()
                time.sleep(pause)
        elif parts[0] == 'cut':
            self.send_response(200)
            self.send_header('Content-Length', '1000')
            self.end_headers()
            self.wfile.write(b'x' * 100)
            self.close_connection = True
        elif parts[0] == 'fail':
            self._send(int(parts[1]), b'failed')
        else:
            self._send(404, b'no such path')

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _serve


class HTTPStub(fixtures.Fixture):
    """The stub service, on 127.0.0.1:<free port> (``url``)."""

    def _setUp(self):
        self.hits = collections.Counter()
        self.received = collections.defaultdict(list)
        self._lock = threading.Lock()
        server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), _Handler)
        server.stub = self
        thread = threading.Thread(target=server.serve_forever,
                                  kwargs={'poll_interval': 0.1}, daemon=True)
        thread.start()
        self.url = 'http://127.0.0.1:%d' % server.server_address[1]
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)

    def record(self, method, path, size):
        with self._lock:
            self.hits[method, path] += 1
            self.received[method, path].append(size)
