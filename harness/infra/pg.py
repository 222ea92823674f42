"""A throwaway PostgreSQL cluster for one run: initdb + pg_ctl from the installed server, in a
temp folder, on a free 127.0.0.1 port, stopped and deleted afterwards. Only the binaries are
needed, no running system cluster. initdb refuses to run as root, so as root the cluster runs
as the unprivileged `postgres` user (runuser) in a folder that user owns.

The server keeps PostgreSQL's defaults (fsync, synchronous_commit, shared_buffers ...): a
benchmark that turned durability off would flatter whichever app writes more."""
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import psutil

from ..errors import FdbenchError
from . import reaper
from .ports import free_port

DATABASE = "fdbench"
SUPERUSER = "postgres"
RUN_AS = "postgres"          # the unprivileged user the cluster runs as when we are root
START_TIMEOUT_S = 60


def _version_key(bindir):
    try:
        return float(Path(bindir).parent.name)
    except ValueError:
        return 0.0


def find_bindir():
    """FDBENCH_PG_BIN, else the newest /usr/lib/postgresql/*/bin, else initdb on PATH."""
    candidates = [os.environ.get("FDBENCH_PG_BIN", "")]
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    on_path = shutil.which("initdb")
    candidates.append(str(Path(on_path).parent) if on_path else "")
    for bindir in filter(None, candidates):
        if all(os.access(Path(bindir) / exe, os.X_OK) for exe in ("initdb", "pg_ctl", "postgres")):
            return Path(bindir)
    raise FdbenchError("PostgreSQL server binaries (initdb, pg_ctl) not found: install the "
                       "postgresql package or set FDBENCH_PG_BIN")


def available():
    try:
        find_bindir()
    except FdbenchError:
        return False
    return True


def _as_cluster_user():
    """Command prefix and uid: runuser to `postgres` when we are root, nothing otherwise."""
    if os.geteuid() != 0:
        return [], None
    try:
        user = pwd.getpwnam(RUN_AS)
    except KeyError:
        raise FdbenchError(f"running as root needs a {RUN_AS!r} user for the PostgreSQL cluster "
                           "(initdb refuses root)") from None
    return ["runuser", "-u", RUN_AS, "--"], user


class Cluster:
    """`with Cluster() as pg:` → pg.url, pg.pid (postmaster), pg.settings(); gone afterwards."""

    def __init__(self, cpus=()):
        self.bindir = find_bindir()
        self.cpus = list(cpus)
        self.port = None
        self.pid = None
        self.tmp = None

    @property
    def url(self):
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{DATABASE}"

    def _run(self, args, timeout=START_TIMEOUT_S):
        prefix, _ = _as_cluster_user()
        try:
            done = subprocess.run(prefix + args, stdin=subprocess.DEVNULL, capture_output=True,
                                  text=True, timeout=timeout, start_new_session=True)
        except subprocess.TimeoutExpired:
            raise FdbenchError(f"PostgreSQL: {Path(args[0]).name} timed out") from None
        except FileNotFoundError as exc:  # e.g. no runuser on this system
            raise FdbenchError(f"PostgreSQL: cannot run {exc.filename}") from None
        if done.returncode:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise FdbenchError(f"PostgreSQL: {Path(args[0]).name} failed: {' | '.join(tail)}")
        return done

    def _make_folder(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="fdbench-pg-"))
        (self.tmp / "socket").mkdir()
        _, user = _as_cluster_user()
        if user:
            for path in (self.tmp, self.tmp / "socket"):
                os.chown(path, user.pw_uid, user.pw_gid)

    def start(self):
        self._make_folder()
        data = self.tmp / "data"
        # --no-sync only skips flushing initdb's own files; the server keeps fsync on.
        self._run([str(self.bindir / "initdb"), "-D", str(data), "-U", SUPERUSER,
                   "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"])
        self.port = free_port()
        options = f"-p {self.port} -k {self.tmp / 'socket'} -c listen_addresses=127.0.0.1"
        try:
            self._run([str(self.bindir / "pg_ctl"), "-D", str(data), "-l", str(self.tmp / "server.log"),
                       "-o", options, "-w", "-t", str(START_TIMEOUT_S), "start"])
        finally:  # track the postmaster even if pg_ctl gave up waiting for it
            self._track(data)
        if self.pid is None:
            raise FdbenchError(f"PostgreSQL did not start: see {self.tmp / 'server.log'}")
        self.pin()
        self._create_database()
        return self

    def _track(self, data):
        """pg_ctl starts the postmaster in a session of its own: its pid is the group to kill."""
        try:
            self.pid = int((data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return
        reaper.track(self.pid)

    def pin(self):
        """Run the DB server on the server's CPUs: backends fork from the postmaster and inherit."""
        if not self.cpus:
            return
        root = psutil.Process(self.pid)
        for proc in [root] + root.children(recursive=True):
            try:
                proc.cpu_affinity(self.cpus)
            except psutil.NoSuchProcess:
                pass

    def _connect(self, dbname):
        import psycopg

        try:
            return psycopg.connect(host="127.0.0.1", port=self.port, user=SUPERUSER,
                                   dbname=dbname, autocommit=True)
        except psycopg.OperationalError as exc:
            raise FdbenchError(f"PostgreSQL on port {self.port} unreachable: {exc}") from None

    def _create_database(self):
        with self._connect("postgres") as conn:
            conn.execute(f"CREATE DATABASE {DATABASE}")

    def stop(self):
        """Fast shutdown (rolls back open transactions), SIGKILL if it lingers, folder removed."""
        if self.pid is not None and psutil.pid_exists(self.pid):
            try:
                self._run([str(self.bindir / "pg_ctl"), "-D", str(self.tmp / "data"),
                           "-m", "fast", "-w", "-t", "20", "stop"], timeout=30)
            except FdbenchError:
                pass
            finally:
                reaper.kill(self.pid)
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

    def __enter__(self):
        try:
            return self.start()
        except BaseException:  # Ctrl-C or a failure half-way: __exit__ would not run
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()
