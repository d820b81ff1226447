"""A fault-injecting HTTP reverse proxy, for tests only.

:class:`FaultProxy` is a fixture: a threaded HTTP/1.1 proxy on
127.0.0.1:<free port> in front of one upstream endpoint (a cloud API such as
Glance on http://127.0.0.1:9292), started in the test's process. It forwards
every request and streams bodies both ways in 64 KiB blocks (a 64 MiB image
upload or download is never held in memory), keeping the ``Host`` header so
that links the service builds point back at the proxy. :class:`Rule`\\ s
added to it answer chosen requests with a status (503), reset their
connection or stall them; :attr:`FaultProxy.log` records what happened to
every request, for assertions.

Route a client through it with an endpoint override (for openstacksdk:
``<service>_endpoint_override`` in clouds.yaml) whose netloc is
:attr:`FaultProxy.netloc`, e.g. ``proxy.endpoint(catalog_url)``.
"""

import contextlib
import http.client
import http.server
import re
import socket
import struct
import threading
import time
import urllib.parse

import fixtures

BLOCK = 64 << 10
# Headers of one connection, not of the message (RFC 9110 section 7.6.1).
# (and Expect: the proxy answers "100 Continue" itself).
HOP_BY_HOP = frozenset(('connection', 'keep-alive', 'proxy-authenticate',
                        'proxy-authorization', 'proxy-connection', 'te',
                        'trailer', 'transfer-encoding', 'upgrade', 'expect'))
# Seconds a client or upstream socket may stay silent before it is dropped.
SOCKET_TIMEOUT = 600

STATUS, RESET, STALL = 'status', 'reset', 'stall'


class Rule:
    """One fault: which requests it hits and what it does to them.

    A request matches when ``method`` (a regular expression matched against
    the whole method, case-insensitive) and ``path`` (a regular expression
    searched in the path with its query string) match. The rule lets the
    first ``skip`` matching requests through, then hits the next ``count``
    ones, or every later one when ``count`` is None (a permanent fault).

    Actions:

    * ``status``: answer ``status`` (503 by default) without forwarding;
    * ``reset``: close the connection without an answer (a TCP reset);
      with ``forward=True`` only after the upstream answered, so the
      request was acted on and its answer lost;
    * ``stall``: wait ``seconds`` before forwarding or, with
      ``forward=True``, before passing the answer on.
    """

    def __init__(self, action, method='.*', path='', skip=0, count=1,
                 status=503, seconds=0.0, forward=False):
        if action not in (STATUS, RESET, STALL):
            raise ValueError('unknown fault action %r' % action)
        self.action = action
        self.method = re.compile(method, re.IGNORECASE)
        self.path = re.compile(path)
        self.skip = skip
        self.count = count
        self.status = status
        self.seconds = seconds
        self.forward = forward
        self.seen = 0
        self.hits = 0

    def matches(self, method, path):
        return bool(self.method.fullmatch(method) and
                    self.path.search(path))

    def __repr__(self):
        return ('Rule(%s %s %s skip=%d count=%s hits=%d)'
                % (self.action, self.method.pattern, self.path.pattern,
                   self.skip, self.count, self.hits))


def status(code=503, **kwargs):
    """A rule answering ``code`` (see :class:`Rule` for ``kwargs``)."""
    return Rule(STATUS, status=code, **kwargs)


def reset(**kwargs):
    """A rule closing the connection without an answer."""
    return Rule(RESET, **kwargs)


def stall(seconds, **kwargs):
    """A rule holding the request (or its answer) for ``seconds``."""
    return Rule(STALL, seconds=seconds, **kwargs)


class FaultProxy(fixtures.Fixture):
    """A reverse proxy in front of ``upstream`` (``http://host:port``)."""

    def __init__(self, upstream):
        super().__init__()
        parts = urllib.parse.urlsplit(upstream)
        if parts.scheme != 'http' or not parts.port:
            raise ValueError('upstream must be http://host:port, not %r'
                             % upstream)
        self.upstream = (parts.hostname, parts.port)
        self.rules = []
        #: one dict per request: method, path, action (the rule's, None
        #: when forwarded as it was), status (the one answered, None when
        #: the connection was reset), client_gone (the client left first)
        self.log = []
        self._lock = threading.Lock()
        self._clients = set()
        self._server = None

    # -- rules ------------------------------------------------------------

    def add(self, *rules):
        """Add rules (checked in order: the first that hits acts)."""
        with self._lock:
            self.rules.extend(rules)
        return rules[0] if len(rules) == 1 else rules

    def clear(self):
        with self._lock:
            del self.rules[:]

    def decide(self, method, path):
        """The rule hitting this request, or None (forward it as it is).

        Every matching rule counts the request; only the first rule whose
        turn it is hits it.
        """
        with self._lock:
            hit = None
            for rule in self.rules:
                if not rule.matches(method, path):
                    continue
                rule.seen += 1
                if (hit is None and rule.seen > rule.skip and
                        (rule.count is None or rule.hits < rule.count)):
                    rule.hits += 1
                    hit = rule
            return hit

    def requests(self, method='.*', path=''):
        """Log entries of the requests matching ``method`` and ``path``."""
        probe = Rule(STATUS, method=method, path=path)
        with self._lock:
            return [entry for entry in self.log
                    if probe.matches(entry['method'], entry['path'])]

    def record(self, method, path, action):
        """Add and return the log entry of a request."""
        entry = {'method': method, 'path': path, 'action': action,
                 'status': None, 'client_gone': False}
        with self._lock:
            self.log.append(entry)
        return entry

    # -- serving ----------------------------------------------------------

    @property
    def netloc(self):
        return '127.0.0.1:%d' % self._server.server_address[1]

    @property
    def url(self):
        return 'http://%s' % self.netloc

    def endpoint(self, url):
        """``url`` (an endpoint of the upstream) through this proxy."""
        parts = urllib.parse.urlsplit(url)
        return urllib.parse.urlunsplit(parts._replace(netloc=self.netloc))

    def _setUp(self):
        self._server = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                                       _Handler)
        self._server.proxy = self
        thread = threading.Thread(target=self._server.serve_forever,
                                  kwargs={'poll_interval': 0.1},
                                  name='faultproxy-%s' % self.netloc,
                                  daemon=True)
        thread.start()
        self.addCleanup(self._stop, thread)

    def _stop(self, thread):
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            clients = list(self._clients)
        for sock in clients:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        thread.join(5)

    def track(self, sock, open_):
        with self._lock:
            (self._clients.add if open_ else self._clients.discard)(sock)


class _Handler(http.server.BaseHTTPRequestHandler):
    """Forwards one client connection's requests, applying the rules."""

    protocol_version = 'HTTP/1.1'
    timeout = SOCKET_TIMEOUT

    def setup(self):
        super().setup()
        self.server.proxy.track(self.connection, True)

    def finish(self):
        self.server.proxy.track(self.connection, False)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, format, *args):
        pass  # the proxy's log is FaultProxy.log

    def _proxy(self):
        proxy = self.server.proxy
        rule = proxy.decide(self.command, self.path)
        action = rule.action if rule else None
        # Logged before the client can see an answer (tests read the log
        # as soon as their request returns).
        entry = proxy.record(self.command, self.path, action)
        try:
            if action == STATUS:
                self._drain_body()
                entry['status'] = rule.status
                self._answer(rule.status)
                return
            if action == RESET and not rule.forward:
                self._drain_body()
                self._reset()
                return
            if action == STALL and not rule.forward:
                time.sleep(rule.seconds)
            try:
                upstream, response = self._forward(proxy.upstream)
            except OSError as exc:
                entry.update(action='upstream-error', status=502)
                self._answer(502, 'upstream: %s' % exc)
                return
            with contextlib.closing(upstream):
                if action == RESET:
                    while response.read1(BLOCK):
                        pass
                    self._reset()
                    return
                if action == STALL:
                    time.sleep(rule.seconds)
                entry['status'] = response.status
                self._relay(response)
        except OSError:
            # The client went away (e.g. it timed out on a stall).
            self.close_connection = True
            entry['client_gone'] = True

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _proxy
    do_OPTIONS = _proxy

    # -- request side -----------------------------------------------------

    def _chunked(self, headers):
        return 'chunked' in headers.get('Transfer-Encoding', '').lower()

    def _body(self):
        """The request body in blocks, as the client sends it."""
        if self._chunked(self.headers):
            while True:
                size = int(self.rfile.readline().split(b';')[0].strip(), 16)
                if size == 0:
                    # Trailer fields, then the empty line.
                    while self.rfile.readline() not in (b'\r\n', b'\n', b''):
                        pass
                    return
                yield from self._blocks(size)
                self.rfile.readline()
        else:
            yield from self._blocks(int(self.headers.get('Content-Length')
                                        or 0))

    def _blocks(self, left):
        """``left`` bytes of the request body, in blocks."""
        while left:
            block = self.rfile.read(min(BLOCK, left))
            if not block:
                raise ConnectionResetError('body cut short')
            left -= len(block)
            yield block

    def _drain_body(self):
        for _ in self._body():
            pass

    def _forward(self, upstream):
        conn = http.client.HTTPConnection(*upstream, timeout=SOCKET_TIMEOUT)
        try:
            conn.putrequest(self.command, self.path, skip_host=True,
                            skip_accept_encoding=True)
            for name, value in self.headers.items():
                if name.lower() not in HOP_BY_HOP:
                    conn.putheader(name, value)
            # One upstream connection per request: no keep-alive race with
            # the upstream's own timeout can fail a request the rules let
            # through.
            conn.putheader('Connection', 'close')
            chunked = self._chunked(self.headers)
            if chunked:
                conn.putheader('Transfer-Encoding', 'chunked')
            conn.endheaders()
            for block in self._body():
                if chunked:
                    conn.send(b'%x\r\n' % len(block))
                    conn.send(block)
                    conn.send(b'\r\n')
                else:
                    conn.send(block)
            if chunked:
                conn.send(b'0\r\n\r\n')
            return conn, conn.getresponse()
        except BaseException:
            conn.close()
            raise

    # -- answer side ------------------------------------------------------

    def _answer(self, code, text=None):
        body = ('%d %s (faultproxy)\n' % (code, text or
                                          http.HTTPStatus(code).phrase)
                ).encode()
        self.send_response_only(code)
        self.send_header('Content-Type', 'text/plain')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)

    def _relay(self, response):
        self.send_response_only(response.status, response.reason)
        for name, value in response.getheaders():
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        no_body = (self.command == 'HEAD' or response.status in (204, 304)
                   or 100 <= response.status < 200)
        length = response.getheader('Content-Length')
        chunked = not no_body and length is None
        if chunked:
            self.send_header('Transfer-Encoding', 'chunked')
        self.end_headers()
        if no_body:
            return
        sent = 0
        while True:
            block = response.read1(BLOCK)
            if not block:
                break
            sent += len(block)
            if chunked:
                self.wfile.write(b'%x\r\n%s\r\n' % (len(block), block))
            else:
                self.wfile.write(block)
        if length is not None and sent < int(length):
            # The upstream cut its answer short: so does the proxy.
            self._reset()
        elif chunked:
            self.wfile.write(b'0\r\n\r\n')

    def _reset(self):
        """Drop the connection with a TCP reset, sending nothing."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack('ii', 1, 0))
        except OSError:
            pass
        self.connection.close()
