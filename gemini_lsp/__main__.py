"""`gemini-lsp`: serve LSP (stdio by default), `generate` headlessly, or run the `emulator`."""

from __future__ import annotations

import ipaddress
import logging
import socket
import sys
import types
from typing import TYPE_CHECKING, Any

from gemini_lsp import __version__
from gemini_lsp.gemini.secrets import KEYS, MaskedStream, Secrets

if TYPE_CHECKING:
    import argparse

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 2087
# How editors start the server: no arguments, or vscode-languageclient's `--stdio`. These get
# the parser's defaults without building it: argparse, and the archive modules its help
# formatter loads through shutil, would hold 0.8 MB for as long as the server runs.
PLAIN_LAUNCHES: tuple[list[str], ...] = ([], ["--stdio"])

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RedactingFormatter(logging.Formatter):
    """Masks every API key the process has seen, in any shape, at every level: pygls logs
    whole messages at DEBUG, `initializationOptions` and `workspace/configuration` included,
    and tracebacks quote what they were handed."""

    def __init__(self, fmt: str, secrets: Secrets = KEYS) -> None:
        super().__init__(fmt)
        self.secrets = secrets

    def format(self, record: logging.LogRecord) -> str:
        return self.secrets.mask(super().format(record))


def _parser(chosen: str | None) -> argparse.ArgumentParser:
    """The parser; only the `chosen` command's options are loaded, so that serving does not
    import the headless client and the emulator."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="gemini-lsp",
        description="A language server that streams code written by Google Gemini into "
        "your editor. With no command it serves LSP over stdio.",
    )
    parser.add_argument("--version", action="version", version=f"gemini-lsp {__version__}")
    parser.add_argument("--tcp", action="store_true", help="serve over TCP instead of stdio")
    # vscode-languageclient adds --stdio for its stdio transport; stdio is the default anyway.
    parser.add_argument("--stdio", action="store_true", help="serve over stdio (the default)")
    parser.add_argument("--host", default=DEFAULT_HOST, help="TCP address (default: loopback)")
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow --host to be an address other hosts can reach (LSP has no authentication)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"TCP port (default: {DEFAULT_PORT}; 0 picks a free one)",
    )
    parser.add_argument("--log-file", help="write logs to this file (default: stderr)")
    parser.add_argument(
        "--log-level",
        type=str.upper,
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="log level (default: INFO; WARNING for generate, whose terminal shows the code)",
    )
    commands = parser.add_subparsers(dest="command")
    generate = commands.add_parser(
        "generate",
        help="stream a generation into a file through the server, live in the terminal",
    )
    emulator = commands.add_parser(
        "emulator", help="run the Gemini API emulator (for tests and demos)"
    )
    if chosen == "generate":
        from gemini_lsp.cli import generate as generate_cli

        generate_cli.add_arguments(generate)
    elif chosen == "emulator":
        from gemini_lsp.emulator import cli as emulator_cli

        emulator_cli.add_arguments(emulator)
    return parser


def _arguments(arguments: list[str]) -> Any:
    """The options `arguments` ask for (an `argparse.Namespace`, or the same fields)."""
    if arguments in PLAIN_LAUNCHES:
        return types.SimpleNamespace(
            tcp=False,
            stdio=bool(arguments),
            host=DEFAULT_HOST,
            allow_remote=False,
            port=DEFAULT_PORT,
            log_file=None,
            log_level=None,
            command=None,
        )
    chosen = next((a for a in arguments if a in ("generate", "emulator")), None)
    return _parser(chosen).parse_args(arguments)


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    args = _arguments(arguments)
    if args.log_level is None:
        args.log_level = "WARNING" if args.command == "generate" else "INFO"
    # Whatever this process prints, the keys it knows are masked (secrets.py).
    KEYS.add_environment()
    sys.stderr = MaskedStream(sys.stderr)  # type: ignore[assignment]
    if args.command == "generate":
        # The terminal's copy of the code; `--stdout` writes the file's bytes unmasked.
        sys.stdout = MaskedStream(sys.stdout)  # type: ignore[assignment]
    if args.tcp and not args.command and not _may_serve_on(args.host, args.allow_remote):
        return 2
    # Logs never go to stdout: in stdio mode it carries the protocol.
    handler: logging.Handler = (
        logging.FileHandler(args.log_file) if args.log_file else logging.StreamHandler(sys.stderr)
    )
    handler.setFormatter(RedactingFormatter(LOG_FORMAT))
    logging.basicConfig(level=args.log_level, handlers=[handler])
    logging.captureWarnings(True)  # through the formatter, not straight to stderr
    if args.log_level != "DEBUG":
        # pygls logs every message at INFO: that is a trace, not a log.
        for noisy in ("pygls", "google_genai", "httpx2"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    if args.command == "generate":
        from gemini_lsp.cli import generate as generate_cli

        return generate_cli.run(args)
    if args.command == "emulator":
        from gemini_lsp.emulator import cli as emulator_cli

        return emulator_cli.run(args)
    from gemini_lsp.lsp.server import create_server

    server = create_server(KEYS)
    if args.tcp:
        if not _is_loopback(args.host):
            log.warning("%s", _remote_warning(args.host))
        server.start_tcp(args.host, args.port)
    else:
        server.start_io()
    return server.exit_code


REMOTE_RISK = (
    "LSP has no authentication: anyone who can connect to it can make the server read the "
    "files of the workspace folders and send them to Gemini, and spend your Gemini API key"
)


def _is_loopback(host: str) -> bool:
    """Whether every address `host` names is a loopback address (127.0.0.0/8, ::1)."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    if not host:
        return False  # every interface
    try:
        found = socket.getaddrinfo(host, None)
    except OSError:
        return False
    addresses = {info[4][0] for info in found}
    return bool(addresses) and all(
        ipaddress.ip_address(str(address).split("%")[0]).is_loopback for address in addresses
    )


def _remote_warning(host: str) -> str:
    return f"WARNING: serving on {host or 'every interface'} (--allow-remote). {REMOTE_RISK}."


def _may_serve_on(host: str, allowed: bool) -> bool:
    """Loopback, or another address with --allow-remote (said out loud); else refused."""
    if _is_loopback(host):
        return True
    if allowed:
        print(f"gemini-lsp: {_remote_warning(host)}", file=sys.stderr)
        return True
    print(
        f"gemini-lsp: refusing to serve on {host or 'every interface'}, which other hosts can "
        f"reach: {REMOTE_RISK}. Serve on 127.0.0.1 (the default), or add --allow-remote if "
        "only people you trust can reach that address.",
        file=sys.stderr,
    )
    return False


if __name__ == "__main__":
    sys.exit(main())
