"""Free ports on 127.0.0.1: one picked for a server, a master or a throwaway cluster, and a
port the user asked for checked before gunicorn is started on it, so that a busy one is one
clear line rather than a gunicorn log."""
import socket

from ..errors import FdbenchError


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_port_free(port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            raise FdbenchError(f"port {port} on 127.0.0.1 is busy: choose another with --port") from None
