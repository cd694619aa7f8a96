"""Whether a Ray cluster answers at an address, asked before Ray waits on it.

``ray.init`` waits for minutes on an address where nothing answers, and as long where
something else listens (a web server, a database: a port mistyped). A TCP connection to
the address, with a short timeout, tells at once whether anything listens there; then
the first bytes of gRPC tell whether it is a Ray cluster. A cluster's GCS (``host:port``)
and Ray Client (``ray://host:port``) both serve gRPC, which is HTTP/2: sent HTTP/2's
connection preface and an empty SETTINGS frame, a gRPC server answers with a SETTINGS
frame of its own, whatever it asks of its callers later (Ray's token is asked per call).
A cluster that speaks TLS (``RAY_USE_TLS``) is only connected to: the plain preface is
not its language. ``auto`` and ``local`` name no host, so they are left to Ray. No Ray is
imported here.
"""

from __future__ import annotations

import os
import socket

CONNECT_SECONDS = 3.0  # how long a connection to the cluster may take before it is refused
RAY_CLIENT = "ray://"
NO_HOST = ("auto", "local")  # forms Ray takes that name no host: Ray finds or starts one
_FORMS = ("give host:port (the cluster's GCS, such as 127.0.0.1:6379), "
          "ray://host:port (Ray Client, port 10001 by default), auto or local")
_TO_DO = "start the cluster with `ray start --head`, or check the address"
# HTTP/2's connection preface, then an empty SETTINGS frame (length 0, type 4, stream 0)
HELLO = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])
SETTINGS = 4  # the frame type a gRPC server answers the preface with
HEADER = 9  # bytes of an HTTP/2 frame's header; its fourth is the frame's type


def split(address: str) -> tuple[str, int] | str:
    """The host and port of ``address``, or why it is not a Ray cluster's address."""
    inner = address[len(RAY_CLIENT):] if address.startswith(RAY_CLIENT) else address
    if "://" in inner:
        return "its scheme is not ray://"
    if "/" in inner:
        return "it has a path"
    host, colon, port = inner.rpartition(":")
    if host.startswith("[") and host.endswith("]"):  # an IPv6 address: [::1]:6379
        host = host[1:-1]
    if not colon or not host:
        return "it has no host and port"
    if not port.isdigit() or not 0 < int(port) < 65536:
        return f"its port '{port}' is not a number from 1 to 65535"
    return host, int(port)


def unreachable(address: str, seconds: float = CONNECT_SECONDS) -> str | None:
    """Why nothing can be reached at ``address``, in one line; None if something answers.

    Args:
        address: The address given for the cluster (``--address`` or ``RAY_ADDRESS``).
        seconds: How long a connection may take.

    Returns:
        The reason (naming the address, what failed and what to do), or None.
    """
    if address in NO_HOST:
        return None
    where = split(address)
    if isinstance(where, str):
        return f"'{address}' is not a Ray cluster's address ({where}): {_FORMS}"
    host, port = where
    failed: str | None = None
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        failed = f"the host name '{host}' does not resolve"
        infos = []
    for family, kind, proto, _name, sockaddr in infos:
        try:
            with socket.socket(family, kind, proto) as sock:
                sock.settimeout(seconds)
                sock.connect(sockaddr)
                other = None if _tls() else _not_grpc(sock, seconds)
        except ConnectionRefusedError:
            failed = f"the connection to port {port} was refused (nothing listens there)"
        except TimeoutError:
            failed = f"the connection timed out after {seconds:g} s"
        except OSError as exc:
            failed = f"the connection failed ({exc.strerror or exc})"
        else:
            if other is None:
                return None
            return (f"there is no Ray cluster at {address}: something listens on port {port}, "
                    f"but {other}; {_TO_DO}")
    if failed is None:
        failed = f"the host name '{host}' has no address"
    return f"cannot reach the Ray cluster at {address}: {failed}; {_TO_DO}"


def _tls() -> bool:
    return os.environ.get("RAY_USE_TLS", "0").strip().lower() in ("1", "true", "yes")


def _not_grpc(sock: socket.socket, seconds: float) -> str | None:
    """Why what listens on ``sock`` is not a gRPC server (see above); None if it is one."""
    head = b""
    try:
        sock.sendall(HELLO)
        while len(head) < HEADER:
            part = sock.recv(HEADER - len(head))
            if not part:
                break
            head += part
    except TimeoutError:
        return f"it did not answer as a Ray cluster does within {seconds:g} s"
    except ConnectionResetError:
        head = b""  # closed with what was sent unread: as a close without a word
    except OSError as exc:
        return f"it broke the connection ({exc.strerror or exc})"
    if len(head) == HEADER and head[3] == SETTINGS:
        return None
    if head.startswith((b"HTTP/", b"<")):  # a status line, or a page with none (HTTP/0.9)
        return "it is a web server (it answered in HTTP/1, where Ray speaks gRPC)"
    if not head:
        return "it closed the connection without a word (Ray speaks gRPC)"
    return "it answered in another protocol than Ray's gRPC"
