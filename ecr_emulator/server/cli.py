"""`ecr-emulator serve`: the ECR API and the /v2/ registry on one port."""

import argparse
import atexit
import datetime
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading


from ecr_emulator import __version__
from ecr_emulator import scanning
from ecr_emulator.backend import garbage, persistence, runtime
from ecr_emulator.server.app import EmulatorApp
from ecr_emulator.server import tls
from ecr_emulator.server.http import make_server

LOG = logging.getLogger("ecr_emulator.server")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ecr-emulator", description="A local stand-in for Amazon ECR.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the ECR API and the /v2/ registry on one port")
    serve.add_argument("--host", default=os.environ.get("ECR_EMULATOR_HOST", "127.0.0.1"), help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=int(os.environ.get("ECR_EMULATOR_PORT", "5000")), help="TCP port (default: 5000)")
    serve.add_argument(
        "--data-dir",
        default=os.environ.get("ECR_EMULATOR_DATA_DIR"),
        help="folder that keeps all state (blobs, repositories, images, settings, tokens) across restarts; "
        "without it, everything stays in memory",
    )
    serve.add_argument(
        "--fsync",
        action="store_true",
        help="fsync blobs and state before each response, so that they survive a crash of the machine too (slower)",
    )
    serve.add_argument(
        "--tls-port",
        type=int,
        default=int(os.environ["ECR_EMULATOR_TLS_PORT"]) if os.environ.get("ECR_EMULATOR_TLS_PORT") else None,
        help="also serve HTTPS on this port (default: no HTTPS)",
    )
    serve.add_argument("--tls-cert", help="PEM certificate for --tls-port (default: a self-signed one, made on first use)")
    serve.add_argument("--tls-key", help="PEM private key of --tls-cert")
    serve.add_argument(
        "--registry-host",
        default=os.environ.get("ECR_EMULATOR_REGISTRY_HOST"),
        help="host[:port] that repositoryUri and proxyEndpoint name (default: the listening address)",
    )
    serve.add_argument(
        "--lifecycle-interval",
        type=float,
        default=float(os.environ.get("ECR_EMULATOR_LIFECYCLE_INTERVAL", "86400")),
        help="seconds between runs of each lifecycle policy (default: 86400, like ECR's daily runs; 0: before every request)",
    )
    serve.add_argument(
        "--ecr-quirks",
        action="store_true",
        default=os.environ.get("ECR_EMULATOR_ECR_QUIRKS") == "1",
        help="reproduce ECR's known deviations from the OCI Distribution specification on /v2/ (see docs/REGISTRY.md)",
    )
    serve.add_argument(
        "--advisory-db",
        default=os.environ.get("ECR_EMULATOR_ADVISORY_DB"),
        help="folder, JSON file or zip of OSV advisories that image scans match packages against (default: none)",
    )
    serve.add_argument("--log-level", default="INFO", help="logging level (default: INFO)")
    return parser


def serve(args: argparse.Namespace) -> int:
    if args.lifecycle_interval < 0:
        raise SystemExit(f"ecr-emulator: --lifecycle-interval must be 0 or more seconds, not {args.lifecycle_interval}")
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.data_dir and os.path.exists(args.data_dir) and not os.path.isdir(args.data_dir):
        raise SystemExit(f"ecr-emulator: --data-dir {args.data_dir} exists and is not a folder")
    if args.advisory_db and not os.path.exists(args.advisory_db):
        raise SystemExit(f"ecr-emulator: --advisory-db {args.advisory_db} does not exist")
    app = EmulatorApp(args.data_dir)
    try:
        server = make_server(args.host, args.port, app)
    except OSError as error:
        raise SystemExit(f"ecr-emulator: cannot listen on {args.host}:{args.port}: {error.strerror}") from None
    host, port = server.server_address[:2]
    registry_host = args.registry_host or f"{host}:{port}"
    # A registry host on the HTTPS port is reached with https://, in proxyEndpoint too.
    scheme = "https" if args.tls_port is not None and registry_host.endswith(f":{args.tls_port}") else "http"
    settings = runtime.configure(data_dir=args.data_dir, registry_host=registry_host, registry_scheme=scheme, fsync=args.fsync)
    settings.lifecycle_interval = datetime.timedelta(seconds=args.lifecycle_interval)
    settings.ecr_quirks = args.ecr_quirks
    if args.advisory_db:
        scanning.configure(args.advisory_db)
    if args.data_dir:
        persistence.load(args.data_dir)
        garbage.collect_after_restart()
    LOG.info(
        "serving ECR on http://%s:%s (registry host %s, data dir %s)", host, port, registry_host, args.data_dir or "in memory"
    )
    tls_server = start_tls(args, app, host, registry_host) if args.tls_port is not None else None

    # SIGTERM stops the server like Ctrl-C, so the state is saved on the way out.
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if tls_server is not None:
            tls_server.shutdown()
            tls_server.server_close()
        if args.data_dir:
            persistence.save(args.data_dir, fsync=args.fsync)
            persistence.close(args.data_dir)
        LOG.info("stopped")
    return 0


def start_tls(args: argparse.Namespace, app, host: str, registry_host: str):
    """Serve `app` over HTTPS on --tls-port in a background thread; return the server."""
    if bool(args.tls_cert) != bool(args.tls_key):
        raise SystemExit("ecr-emulator: --tls-cert and --tls-key go together")
    if args.tls_cert:
        cert_path, key_path = args.tls_cert, args.tls_key
    else:
        folder = args.data_dir
        if folder is None:
            folder = tempfile.mkdtemp(prefix="ecr-emulator-tls-")
            atexit.register(shutil.rmtree, folder, ignore_errors=True)
        cert_path, key_path = tls.self_signed(folder, ["localhost", host, registry_host.rsplit(":", 1)[0]])
    try:
        server = make_server(args.host, args.tls_port, app, tls.server_context(cert_path, key_path))
    except OSError as error:
        raise SystemExit(f"ecr-emulator: cannot listen on {args.host}:{args.tls_port}: {error.strerror}") from None
    threading.Thread(target=server.serve_forever, name="tls", daemon=True).start()
    LOG.info("serving HTTPS on https://%s:%s with the certificate %s", args.host, server.server_address[1], cert_path)
    return server


def _raise_keyboard_interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
