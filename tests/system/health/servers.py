"""Local endpoints for the health prober tests: HTTP/HTTPS servers whose behaviour a test
switches at run time, a TCP listener that opens and closes, and certificates made with the
openssl command. Loopback only; every thread is a daemon thread and every wait is bounded.
"""

import os
import socket
import ssl
import subprocess
import threading
import time

MODES = ("200", "500", "body", "close", "hang", "redirect")


class HttpServer:
    """HTTP/1.1 server on (host, port 0). mode: 200 (body 'ok-marker'), 500, body (200 with a
    wrong body), close (read the request, close without answering), hang (accept, read, never
    answer), redirect (302). tls: an ssl.SSLContext, or None for plain HTTP; set_tls() swaps
    it for the next connections."""

    def __init__(self, host="127.0.0.1", tls=None):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(256)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.mode = "200"
        self.tls = tls
        self.requests = 0
        self.last_request = b""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def set_tls(self, ctx):
        self.tls = ctx

    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _read_request(self, conn):
        data = b""
        conn.settimeout(2)
        while b"\r\n\r\n" not in data and len(data) < 65536:
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
        return data

    def _handle(self, conn):
        try:
            if self.tls is not None:
                conn.settimeout(2)
                conn = self.tls.wrap_socket(conn, server_side=True)
            req = self._read_request(conn)
            self.requests += 1
            self.last_request = req
            mode = self.mode
            if mode == "close":
                return
            if mode == "hang":
                self._stop.wait(30)
                return
            status, body = {
                "200": ("200 OK", b"<html>ok-marker</html>"),
                "500": ("500 Internal Server Error", b"broken"),
                "body": ("200 OK", b"<html>maintenance</html>"),
                "redirect": ("302 Found", b""),
            }[mode]
            head = "HTTP/1.1 %s\r\nContent-Length: %d\r\nConnection: close\r\n" % (status, len(body))
            if mode == "redirect":
                head += "Location: /elsewhere\r\n"
            conn.sendall(head.encode() + b"\r\n" + body)
        except (OSError, ssl.SSLError):
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def close(self):
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


class TcpListener:
    """A listening socket on a fixed port that accepts and closes; open()/close() toggle it."""

    def __init__(self, host="127.0.0.1"):
        self.host = host
        self.family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = None
        self.port = 0
        self._thread = None
        self.open()

    def open(self):
        s = socket.socket(self.family, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.host, self.port))
        s.listen(64)
        s.settimeout(0.1)
        self.port = s.getsockname()[1]
        self.sock = s
        self._thread = threading.Thread(target=self._accept, args=(s,), daemon=True)
        self._thread.start()

    def _accept(self, s):
        while self.sock is s:
            try:
                c, _ = s.accept()
                c.close()
            except (socket.timeout, OSError):
                continue

    def close(self):
        s, self.sock = self.sock, None
        if s is not None:
            self._thread.join(5)
            s.close()


def _openssl(*args, cwd):
    subprocess.run(("openssl",) + args, cwd=cwd, check=True, capture_output=True, timeout=60)


class Pki:
    """A test CA, a second untrusted CA, and leaf certificates made with the openssl command:
    valid (localhost, 127.0.0.1), expired, signed by the untrusted CA, and for another name."""

    def __init__(self, workdir):
        self.dir = str(workdir)
        os.makedirs(self.dir, exist_ok=True)
        self._ca("ca")
        self._ca("rogue")
        self.ca_file = os.path.join(self.dir, "ca.pem")
        self.valid = self._leaf("valid", "ca", "DNS:localhost,IP:127.0.0.1", 30)
        self.expired = self._leaf("expired", "ca", "DNS:localhost,IP:127.0.0.1", -1)
        self.untrusted = self._leaf("untrusted", "rogue", "DNS:localhost,IP:127.0.0.1", 30)
        self.wrong_name = self._leaf("wrongname", "ca", "DNS:other.example", 30)

    def _ca(self, name):
        _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                 "-nodes", "-keyout", name + ".key", "-out", name + ".pem", "-days", "30",
                 "-subj", "/CN=steerdns test %s" % name, cwd=self.dir)

    def _leaf(self, name, ca, san, days):
        ext = os.path.join(self.dir, name + ".ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=%s\nbasicConstraints=CA:FALSE\n"
                    "extendedKeyUsage=serverAuth\n" % san)
        _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                 "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + name,
                 cwd=self.dir)
        _openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey",
                 ca + ".key", "-CAcreateserial", "-days", str(days), "-extfile", ext,
                 "-out", name + ".pem", cwd=self.dir)
        return (os.path.join(self.dir, name + ".pem"), os.path.join(self.dir, name + ".key"))

    @staticmethod
    def server_context(pair):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*pair)
        return ctx


def wait_for(pred, timeout, step=0.02):
    """Poll pred() until it returns a truthy value or timeout seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(step)
