"""Debian's nginx as a reverse proxy run by fdbench itself: a generated config in a temporary
folder (pid file, error log and temp paths there, nothing root-owned), in the foreground, one
worker, so that it is a child fdbench can pin, sample and stop like the app server."""
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import FdbenchError

# Upstream keep-alive as nginx.org documents it for HTTP upstreams (ngx_http_upstream_module,
# `keepalive`): the directive, HTTP/1.1 and an empty Connection header. Idle connections kept
# per worker: the load generator's 16 connections.
CONFIG = """\
daemon off;
master_process on;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{
    worker_connections 1024;
}}
http {{
    # No server in the comparison logs requests by default (gunicorn, Granian; uWSGI is told
    # not to), so nginx does not either: its cost is proxying, not writing a log.
    access_log off;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    default_type application/octet-stream;
    keepalive_timeout 75s;
    keepalive_requests 1000000;
    upstream app_server {{
        server 127.0.0.1:{backend} fail_timeout=0;
        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://app_server;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_redirect off;
        }}
    }}
}}
"""


def binary():
    """FDBENCH_NGINX, else nginx on PATH, else Debian's /usr/sbin/nginx (not on every PATH)."""
    given = os.environ.get("FDBENCH_NGINX")
    found = shutil.which(given) if given else (shutil.which("nginx") or shutil.which("/usr/sbin/nginx"))
    if not found:
        name = given or "nginx"
        raise FdbenchError(f"{name} not found: apt-get install nginx (scripts/system-deps test), "
                           "or point FDBENCH_NGINX at an nginx binary")
    return found


class Proxy:
    """The config folder and the command line of one nginx; remove() deletes the folder."""

    def __init__(self, port, backend_port):
        self.program = binary()
        self.dir = Path(tempfile.mkdtemp(prefix="fdbench-nginx-"))
        self.dir.chmod(0o755)  # as root, nginx's worker runs as www-data and needs its temp paths
        self.conf = self.dir / "nginx.conf"
        self.conf.write_text(CONFIG.format(dir=self.dir, port=port, backend=backend_port))

    def command(self):
        # -e: the error log before the config is read (the built-in one is under /var/log).
        return [self.program, "-p", str(self.dir), "-e", str(self.dir / "error.log"),
                "-c", str(self.conf)]

    def version(self):
        """nginx -v prints 'nginx version: nginx/1.22.1' on stderr."""
        out = subprocess.run([self.program, "-v"], capture_output=True, text=True)
        return out.stderr.strip().rpartition("/")[2] or None

    def log_tail(self, lines=3):
        try:
            return "".join((self.dir / "error.log").read_text(errors="replace").splitlines(True)[-lines:]).strip()
        except OSError:
            return ""

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)
