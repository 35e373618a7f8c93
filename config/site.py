"""The address the portal answers on, as every URL it shows must name it."""


def served_url(host: str, port: int) -> str:
    """The URL of a web process listening on `host`:`port`; an any-address listener is reached
    on loopback from this machine."""
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"
