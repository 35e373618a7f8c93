"""Real local servers for probe tests: HTTP(S) on aiohttp, a TCP listener, a DNS stub on UDP."""

import asyncio
import datetime as dt
import ipaddress
import socket
import ssl
import threading
from contextlib import contextmanager

import dns.message
import dns.rrset
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.processes import free_port as closed_port  # noqa: F401  a port nothing listens on


def self_signed_cert(tmp_path, *, not_after: dt.datetime, host: str = "localhost") -> tuple[str, str]:
    """A certificate for `host` and 127.0.0.1 that expires at `not_after`; returns (cert, key) paths."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(min(not_after, dt.datetime.now(dt.UTC)) - dt.timedelta(days=1))
        .not_valid_after(not_after)
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(host), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(cert_path), str(key_path)


def server_tls_context(cert_path: str, key_path: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    return context


async def _ok(request):
    return web.Response(text="all systems operational")


async def _status(request):
    return web.Response(status=int(request.match_info["code"]), text="status")


async def _redirect(request):
    left = int(request.match_info["n"])
    raise web.HTTPFound(f"/redirect/{left - 1}" if left > 1 else "/ok")


async def _slow(request):
    await asyncio.sleep(int(request.query.get("ms", "100")) / 1000)
    return web.Response(text="slow but fine")


async def _json(request):
    return web.json_response({"status": "ok", "checks": [{"name": "db", "ok": True}], "version": 3})


async def _echo(request):
    body = await request.text()
    return web.json_response(
        {
            "method": request.method,
            "body": body,
            "authorization": request.headers.get("Authorization", ""),
            "x_probe": request.headers.get("X-Probe", ""),
        }
    )


async def _secret(request):
    if request.headers.get("Authorization") not in ("Bearer s3cret", "Basic d2F0Y2hlcjpzM2NyZXQ="):
        return web.Response(status=401, text="who are you")
    return web.Response(text="welcome")


async def _long(request):
    """`size` bytes of dots with `word` written from byte `at`, sent in 64 KiB pieces a moment
    apart, as a big page arrives over a network: never all in one read."""
    size, word, at = int(request.query["size"]), request.query.get("word", "").encode(), int(request.query.get("at", 0))
    body = bytearray(b"." * size)
    body[at : at + len(word)] = word
    response = web.StreamResponse(headers={"Content-Type": "text/plain"})
    await response.prepare(request)
    try:
        for start in range(0, size, 65_536):
            await response.write(bytes(body[start : start + 65_536]))
            await asyncio.sleep(0.002)
        await response.write_eof()
    except ConnectionResetError:  # the probe stopped reading at its limit, as it should
        pass
    return response


def http_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/ok", _ok)
    app.router.add_get("/status/{code}", _status)
    app.router.add_get("/redirect/{n}", _redirect)
    app.router.add_get("/slow", _slow)
    app.router.add_get("/json", _json)
    app.router.add_route("*", "/echo", _echo)
    app.router.add_get("/secret", _secret)
    app.router.add_get("/long", _long)
    return app


@contextmanager
def serve_http(app: web.Application, *, ssl_context: ssl.SSLContext | None = None):
    """Serve `app` on 127.0.0.1 in a thread of its own; yields the base URL."""
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app, access_log=None)
    started = threading.Event()
    box = {}

    def run():
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
        loop.run_until_complete(site.start())
        box["port"] = site._server.sockets[0].getsockname()[1]
        started.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    started.wait(10)
    scheme = "https" if ssl_context else "http"
    try:
        yield f"{scheme}://127.0.0.1:{box['port']}"
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


@contextmanager
def tcp_listener():
    """A listening socket that accepts and closes; yields its port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    sock.settimeout(0.2)
    stop = threading.Event()

    def accept():
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
                conn.close()
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1]
    finally:
        stop.set()
        thread.join(2)
        sock.close()


@contextmanager
def dns_stub(records: dict[tuple[str, str], list[str]]):
    """A UDP DNS server on 127.0.0.1 answering from `records` {(name, type): [values]}; NXDOMAIN else."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                data, peer = sock.recvfrom(4096)
            except OSError:
                continue
            query = dns.message.from_wire(data)
            question = query.question[0]
            reply = dns.message.make_response(query)
            name = question.name.to_text().rstrip(".").lower()
            rdtype = dns.rdatatype.to_text(question.rdtype)
            values = records.get((name, rdtype))
            if values is None and not any(n == name for n, _ in records):
                reply.set_rcode(dns.rcode.NXDOMAIN)
            elif values:
                reply.answer.append(dns.rrset.from_text_list(question.name, 60, "IN", rdtype, values))
            sock.sendto(reply.to_wire(), peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1]
    finally:
        stop.set()
        thread.join(2)
        sock.close()
