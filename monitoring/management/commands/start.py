import hashlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command

from config.site import served_url
from monitoring.management.base import LookoutCommand
from monitoring.projects.services.demo import demo_seed

SITE_URL_MARKER = "# The address `manage.py start` last served on; set SITE_URL yourself to choose another."


class Command(LookoutCommand):
    help = (
        "Prepare and run the whole portal: migrate, create a first admin, seed a demo project, "
        "collect static files, then start web, worker and beat from the Procfile."
    )
    # The secret key may be missing until this command writes it.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
        parser.add_argument("--prepare-only", action="store_true", help="Do everything but start the processes.")

    def handle(self, *args, port, prepare_only, **options):
        self._ensure_secret_key()
        self._record_site_url(port)
        self._say("migrating the database")
        call_command("migrate", interactive=False, verbosity=0)
        password_box = self._ensure_admin()
        if demo_seed():
            self._say("seeded the demo project 'Lookout (this portal)'")
        self._collect_static()
        if prepare_only:
            if password_box:
                self.stdout.write(password_box)
            return
        if password_box:
            self._say("first admin created: its password is printed below once the portal answers")
        self._run_procfile(port, password_box)

    def _collect_static(self) -> None:
        """Collect and compress static files only when they changed: it takes half a minute."""
        stamp_file = Path(settings.STATIC_ROOT) / ".lookout-sources.sha256"
        stamp = static_sources_fingerprint()
        if stamp_file.exists() and stamp_file.read_text() == stamp:
            self._say("static files are up to date")
            return
        self._say("collecting static files (first start, or they changed)")
        call_command("collectstatic", interactive=False, verbosity=0)
        stamp_file.write_text(stamp)

    def _say(self, text: str) -> None:
        self.stdout.write(f"lookout: {text}")

    def _ensure_secret_key(self) -> None:
        if os.environ.get("SECRET_KEY") or settings.SECRET_KEY != settings.INSECURE_SECRET_KEY:
            return
        dot_env = settings.ENV_FILE
        key = secrets.token_urlsafe(50)
        with dot_env.open("a") as fh:
            fh.write(f"SECRET_KEY={key}\n")
        dot_env.chmod(0o600)
        os.environ["SECRET_KEY"] = key
        self._say(f"wrote a new SECRET_KEY to {dot_env}")

    def _record_site_url(self, port: int) -> None:
        """Without a SITE_URL of the operator's, the portal's URLs name the address it serves on.

        Written to .env under a marker line, so a later start on another port rewrites it while
        a SITE_URL the operator set (in the environment, or elsewhere in .env) is never touched.
        Every process the Procfile starts gets it too: honcho gives each process its own PORT.
        """
        dot_env = settings.ENV_FILE
        lines = dot_env.read_text().splitlines() if dot_env.exists() else []
        recorded = None
        if SITE_URL_MARKER in lines:
            at = lines.index(SITE_URL_MARKER)
            recorded = lines[at + 1].partition("=")[2] if at + 1 < len(lines) else None
            del lines[at : at + 2]
        current = os.environ.get("SITE_URL")
        if current and current != recorded:
            return  # the operator's own
        url = served_url(os.environ.get("LISTEN_ADDRESS", "127.0.0.1"), port)
        os.environ["SITE_URL"] = url
        if url == recorded:
            return
        dot_env.write_text("\n".join([*lines, SITE_URL_MARKER, f"SITE_URL={url}"]) + "\n")
        dot_env.chmod(0o600)
        self._say(f"recorded SITE_URL={url} in {dot_env}: DSNs, ping URLs and links use it")

    def _ensure_admin(self) -> str | None:
        """Create the first admin; returns the box showing its generated password, if any."""
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            return None
        username = os.environ.get("DJANGO_SUPERUSER_USERNAME", "admin")
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD")
        email = os.environ.get("DJANGO_SUPERUSER_EMAIL", "")
        if password is not None:
            User.objects.create_superuser(username=username, email=email, password=password)
            self._say(f"created admin user {username!r} from DJANGO_SUPERUSER_*")
            return None
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, email=email, password=password)
        line = "=" * 64
        return (
            f"{line}\n  First admin created. This password is shown only once:\n"
            f"    username: {username}\n    password: {password}\n{line}"
        )

    def _run_procfile(self, port: int, password_box: str | None) -> None:
        bin_dir = str(Path(sys.executable).parent)
        # Unbuffered, so the processes' lines reach a pipe or a log file as they happen and in
        # order with the password box below, not in a burst when honcho exits.
        env = os.environ | {"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "PYTHONUNBUFFERED": "1"}
        honcho = shutil.which("honcho", path=env["PATH"])
        if honcho is None:
            raise self.bad_argument("honcho is not installed; run through python3 manage.py start")
        host = os.environ.get("LISTEN_ADDRESS", "127.0.0.1")
        self._say(f"starting web, worker and beat; open {served_url(host, port)}/admin/ (Ctrl-C stops)")
        procfile = str(Path(settings.BASE_DIR) / "Procfile")
        self.stdout.flush()
        process = subprocess.Popen(
            [honcho, "-f", procfile, "-d", str(settings.BASE_DIR), "start", "-p", str(port)], env=env
        )
        # honcho stops its processes on the first signal and ignores repeats, so passing each on
        # is safe whether it came from the terminal (which signals honcho too) or a supervisor.
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, lambda received, frame: process.send_signal(received))
        if password_box:
            # Printed once the web process answers, after the processes' start-up lines, where
            # it is the last thing on the screen rather than lost above them. The flush matters
            # when stdout is a pipe or a file.
            _wait_until_answering(host, port, process)
            self.stdout.write(password_box)
            self.stdout.flush()
        sys.exit(process.wait())


def _wait_until_answering(host: str, port: int, process: subprocess.Popen, seconds: float = 120) -> None:
    address = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        with socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET) as probe:
            probe.settimeout(1)
            if probe.connect_ex((address, port)) == 0:
                return
        time.sleep(0.5)


def static_sources_fingerprint() -> str:
    """A digest of every static file the finders see: name, size and modification time."""
    from django.contrib.staticfiles.finders import get_finders

    digest = hashlib.sha256()
    for finder in get_finders():
        for path, storage in sorted(finder.list([]), key=lambda item: item[0]):
            stat = os.stat(storage.path(path))
            digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()
