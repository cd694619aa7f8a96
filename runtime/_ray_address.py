"""Whether a Ray cluster's address can be reached at all, asked before Ray waits on it.

``ray.init`` waits for minutes on an address where nothing answers. A TCP connection to
the address, with a short timeout, tells at once whether anything listens there; the
forms are ``host:port`` (the cluster's GCS) and ``ray://host:port`` (Ray Client).
``auto`` and ``local`` name no host, so they are left to Ray. No Ray is imported here.
"""

from __future__ import annotations

import socket

CONNECT_SECONDS = 3.0  # how long a connection to the cluster may take before it is refused
RAY_CLIENT = "ray://"
NO_HOST = ("auto", "local")  # forms Ray takes that name no host: Ray finds or starts one
_FORMS = ("give host:port (the cluster's GCS, such as 127.0.0.1:6379), "
          "ray://host:port (Ray Client, port 10001 by default), auto or local")
_TO_DO = "start the cluster with `ray start --head`, or check the address"


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
        except ConnectionRefusedError:
            failed = f"the connection to port {port} was refused (nothing listens there)"
        except TimeoutError:
            failed = f"the connection timed out after {seconds:g} s"
        except OSError as exc:
            failed = f"the connection failed ({exc.strerror or exc})"
        else:
            return None
    if failed is None:
        failed = f"the host name '{host}' has no address"
    return f"cannot reach the Ray cluster at {address}: {failed}; {_TO_DO}"
