"""`gemini-lsp`: serve LSP (stdio by default), `generate` headlessly, or run the `emulator`."""

from __future__ import annotations

import argparse
import logging
import sys

from . import __version__

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RedactingFormatter(logging.Formatter):
    """Masks every API key the server has seen, wherever it would appear: pygls logs whole
    messages at DEBUG, `initializationOptions` and `workspace/configuration` included."""

    def __init__(self, fmt: str, secrets: set[str]) -> None:
        super().__init__(fmt)
        self.secrets = secrets

    def format(self, record: logging.LogRecord) -> str:
        from .backend import mask_secrets

        return mask_secrets(super().format(record), self.secrets)


def _parser(chosen: str | None) -> argparse.ArgumentParser:
    """The parser; only the `chosen` command's options are loaded, so that serving does not
    import the headless client and the emulator."""
    parser = argparse.ArgumentParser(
        prog="gemini-lsp",
        description="A language server that streams code written by Google Gemini into "
        "your editor. With no command it serves LSP over stdio.",
    )
    parser.add_argument("--version", action="version", version=f"gemini-lsp {__version__}")
    parser.add_argument("--tcp", action="store_true", help="serve over TCP instead of stdio")
    # vscode-languageclient adds --stdio for its stdio transport; stdio is the default anyway.
    parser.add_argument("--stdio", action="store_true", help="serve over stdio (the default)")
    parser.add_argument("--host", default="127.0.0.1", help="TCP address (default: loopback)")
    parser.add_argument(
        "--port", type=int, default=2087, help="TCP port (default: 2087; 0 picks a free one)"
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
        from . import headless

        headless.add_arguments(generate)
    elif chosen == "emulator":
        from .emulator import cli as emulator_cli

        emulator_cli.add_arguments(emulator)
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    chosen = next((a for a in arguments if a in ("generate", "emulator")), None)
    args = _parser(chosen).parse_args(arguments)
    if args.log_level is None:
        args.log_level = "WARNING" if args.command == "generate" else "INFO"
    # Logs never go to stdout: in stdio mode it carries the protocol.
    handler: logging.Handler = (
        logging.FileHandler(args.log_file) if args.log_file else logging.StreamHandler(sys.stderr)
    )
    secrets: set[str] = set()
    handler.setFormatter(RedactingFormatter(LOG_FORMAT, secrets))
    logging.basicConfig(level=args.log_level, handlers=[handler])
    if args.log_level != "DEBUG":
        # pygls logs every message at INFO: that is a trace, not a log.
        for noisy in ("pygls", "google_genai", "httpx2"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    if args.command == "generate":
        from . import headless

        return headless.run(args)
    if args.command == "emulator":
        from .emulator import cli as emulator_cli

        return emulator_cli.run(args)
    from .server import create_server

    server = create_server(secrets)
    if args.tcp:
        server.start_tcp(args.host, args.port)
    else:
        server.start_io()
    return server.exit_code


if __name__ == "__main__":
    sys.exit(main())
