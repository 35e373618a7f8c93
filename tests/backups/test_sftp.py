"""Backups to a real SFTP server: paramiko's own server API on a loopback port, serving a
temporary folder, in a thread. Back up, verify from it, delete a run; a wrong password and an
unknown host key fail the run with the reason; nothing leaves an SSH session open."""

import os
import socket
import threading
import time
from datetime import timedelta

import paramiko
import pytest
from django.utils import timezone

from backups.models import FailureKind, Run, Status
from backups.services.retention import retention_apply
from backups.services.runs import plan_backup, plan_test_connection, run_delete
from backups.services.verification import run_verify

USER, PASSWORD = "backup", "s3cret pass"


class _Login(paramiko.ServerInterface):
    def get_allowed_auths(self, username):
        return "password"

    def check_auth_password(self, username, password):
        return paramiko.AUTH_SUCCESSFUL if (username, password) == (USER, PASSWORD) else paramiko.AUTH_FAILED

    def check_channel_request(self, kind, chanid):
        return paramiko.OPEN_SUCCEEDED if kind == "session" else paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED


class _Handle(paramiko.SFTPHandle):
    def stat(self):
        try:
            return paramiko.SFTPAttributes.from_stat(os.fstat(self.readfile.fileno()))
        except OSError as exc:
            return paramiko.SFTPServer.convert_errno(exc.errno)

    def chattr(self, attr):
        return paramiko.SFTP_OK


def _answer(call):
    """An OSError as the SFTP status a real server would answer with."""
    try:
        return call()
    except OSError as exc:
        return paramiko.SFTPServer.convert_errno(exc.errno)


class _Folder(paramiko.SFTPServerInterface):
    """The server's file system: one local folder as its root."""

    def __init__(self, server, *args, root: str, **kwargs):
        super().__init__(server, *args, **kwargs)
        self.root = root

    def _real(self, path: str) -> str:
        return os.path.join(self.root, self.canonicalize(path).lstrip("/"))

    def _attributes(self, path: str, name: str | None = None):
        attributes = paramiko.SFTPAttributes.from_stat(os.stat(path))
        if name is not None:
            attributes.filename = name
        return attributes

    def list_folder(self, path):
        real = self._real(path)
        return _answer(lambda: [self._attributes(os.path.join(real, n), n) for n in os.listdir(real)])

    def stat(self, path):
        return _answer(lambda: self._attributes(self._real(path)))

    lstat = stat

    def open(self, path, flags, attr):
        def opened():
            fd = os.open(self._real(path), flags, 0o600)
            mode = "wb" if flags & os.O_WRONLY else "r+b" if flags & os.O_RDWR else "rb"
            handle = _Handle(flags)
            handle.filename = path
            handle.readfile = handle.writefile = os.fdopen(fd, mode)
            return handle

        return _answer(opened)

    def remove(self, path):
        return _answer(lambda: os.remove(self._real(path)) or paramiko.SFTP_OK)

    def rename(self, oldpath, newpath):
        return _answer(lambda: os.rename(self._real(oldpath), self._real(newpath)) or paramiko.SFTP_OK)

    def posix_rename(self, oldpath, newpath):
        return _answer(lambda: os.replace(self._real(oldpath), self._real(newpath)) or paramiko.SFTP_OK)

    def mkdir(self, path, attr):
        return _answer(lambda: os.mkdir(self._real(path)) or paramiko.SFTP_OK)

    def rmdir(self, path):
        return _answer(lambda: os.rmdir(self._real(path)) or paramiko.SFTP_OK)


@pytest.fixture(scope="module")
def sftp_server(tmp_path_factory):
    """(port, served folder, every session the server accepted) of an SFTP server on 127.0.0.1."""
    root = tmp_path_factory.mktemp("sftp-root")
    host_key = paramiko.RSAKey.generate(2048)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    transports = []

    def serve():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return  # the listener closed: the module is done
            transport = paramiko.Transport(conn)
            transport.add_server_key(host_key)
            transport.set_subsystem_handler("sftp", paramiko.SFTPServer, _Folder, root=str(root))
            transports.append(transport)
            try:
                transport.start_server(server=_Login())
            except (paramiko.SSHException, EOFError, OSError):
                transport.close()  # the client gave up, e.g. on the host key

    thread = threading.Thread(target=serve, name="sftp-server", daemon=True)
    thread.start()
    yield listener.getsockname()[1], root, transports
    listener.close()
    for transport in transports:
        transport.close()
    thread.join(timeout=5)


@pytest.fixture
def sftp_plan(make_plan, notes_db, sftp_server, monkeypatch):
    port, root, _ = sftp_server

    def plan(password: str = PASSWORD, *, insecure: bool = True, name: str = "notes"):
        query = "?insecure=1" if insecure else ""  # the test server's key is in no known_hosts
        monkeypatch.setenv("BACKUP_SFTP_URL", f"sftp://{USER}:{password.replace(' ', '%20')}@127.0.0.1:{port}/{query}")
        return make_plan(
            name=name, source="sqlite", sqlite_path=str(notes_db), storage="sftp",
            storage_path="lookout", storage_url_env="BACKUP_SFTP_URL",
        )  # fmt: skip

    return plan


def test_a_backup_goes_to_sftp_verifies_from_there_and_is_deleted_there(sftp_plan, sftp_server, identity_env):
    _, root, _ = sftp_server
    plan = sftp_plan()
    first, second = plan_backup(plan=plan)[0], plan_backup(plan=plan)[0]
    assert first.status == second.status == Status.SUCCEEDED, (first.error, second.error)
    stored = root / "lookout" / first.storage_key
    assert stored.stat().st_size == first.stored_bytes > 0
    assert stored.read_bytes()[:21] == b"age-encryption.org/v1"  # what left the portal is encrypted
    assert not list(root.rglob("*.partial"))

    receipt = run_verify(run=first)
    assert receipt.status == Status.SUCCEEDED, receipt.error
    assert receipt.found_rows == {"notes": 50}

    run_delete(run=first)
    assert not stored.exists() and not Run.objects.filter(pk=first.pk).exists()
    assert (root / "lookout" / second.storage_key).exists()  # only the one run went


def test_a_wrong_password_fails_the_run_with_the_reason(sftp_plan):
    (run,) = plan_backup(plan=sftp_plan("not the password"))
    assert run.status == Status.FAILED and run.failure_kind == FailureKind.STORAGE
    assert run.error == "SFTP 127.0.0.1: Authentication failed.", run.error


def test_an_unknown_host_key_is_refused_unless_the_url_says_insecure(sftp_plan, sftp_server):
    port, _, _ = sftp_server
    (run,) = plan_backup(plan=sftp_plan(insecure=False))
    assert run.status == Status.FAILED and run.failure_kind == FailureKind.STORAGE
    assert run.error == f"SFTP 127.0.0.1: Server '[127.0.0.1]:{port}' not found in known_hosts", run.error


def _open_sessions(transports: list, *, seconds: float = 5) -> int:
    """Sessions the server still holds, once the client's close has had time to arrive."""
    deadline = time.monotonic() + seconds
    while any(t.is_active() for t in transports) and time.monotonic() < deadline:
        time.sleep(0.05)
    return sum(t.is_active() for t in transports)


def test_no_operation_leaves_an_ssh_session_open(sftp_plan, sftp_server, identity_env, admin_client):
    _, root, transports = sftp_server
    plan = sftp_plan(name="sessions")
    accepted = len(transports)

    (run,) = plan_backup(plan=plan)
    assert run.status == Status.SUCCEEDED, run.error
    assert plan_test_connection(plan=plan)[1] == "SFTP folder /lookout answers"
    assert run_verify(run=run).status == Status.SUCCEEDED
    response = admin_client.get(f"/admin/backups/run/{run.pk}/download/")
    assert response.status_code == 200
    # The test client closes the response once its content is read, as a server does once it is sent.
    assert b"".join(response.streaming_content)[:21] == b"age-encryption.org/v1"
    (root / "lookout" / "sessions" / "stray.bin").write_bytes(b"left by hand")  # an orphan for retention
    assert retention_apply(now=timezone.now() + timedelta(days=400)).orphans == ["sessions: sessions/stray.bin"]
    run_delete(run=run)
    failed = sftp_plan("not the password", name="sessions-bad")  # the same variable, now wrong
    assert plan_backup(plan=failed)[0].status == Status.FAILED

    assert len(transports) - accepted >= 6  # each step above really went to the server
    assert _open_sessions(transports[accepted:]) == 0
