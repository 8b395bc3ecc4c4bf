"""What every grao plugin process does besides its own service (PROTOCOL.md).

serve() implements the go-plugin side of the protocol with nothing but
Debian's python3-grpcio, python3-protobuf and python3-cryptography (the
latter only for AutoMTLS):

  * refuses to run without the magic cookie (a plugin is started by a host);
  * picks the application protocol version from PLUGIN_PROTOCOL_VERSIONS;
  * serves the plugin's service, grpc.health.v1.Health ("plugin" = SERVING)
    and go-plugin's plugin.GRPCController (Shutdown) on a Unix socket;
  * with PLUGIN_CLIENT_CERT set (host AutoMTLS), serves TLS with a fresh
    self-signed certificate, requires the host's certificate, and puts its
    own certificate in the handshake line;
  * prints exactly one line to stdout, the handshake, and logs to stderr.
"""

import base64
import datetime
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
from concurrent import futures

import grpc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import grpc_controller_pb2  # noqa: E402  (generated; see plugins/proto/generate.sh)
import grpc_controller_pb2_grpc  # noqa: E402
import health_pb2  # noqa: E402
import health_pb2_grpc  # noqa: E402

CORE_PROTOCOL_VERSION = 1  # go-plugin's own protocol

# The magic cookies of the two kinds of plugins.
REWARD_COOKIE = ("GRAO_REWARD_PLUGIN", "c0d6b4b1-grao-reward-plugin")
ALGORITHM_COOKIE = ("GRAO_ALGORITHM_PLUGIN", "5e1f03a2-grao-algorithm-plugin")

# "[LEVEL] message" lines keep their level in the host's log.
logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="[%(levelname)s] %(message)s")
log = logging.getLogger("plugin")


class Health(health_pb2_grpc.HealthServicer):
    def Check(self, request, context):
        if request.service in ("", "plugin"):
            return health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.SERVING)
        return health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.SERVICE_UNKNOWN)


class Controller(grpc_controller_pb2_grpc.GRPCControllerServicer):
    def __init__(self, done):
        self.done = done

    def Shutdown(self, request, context):
        log.info("host asked to shut down")
        self.done.set()
        return grpc_controller_pb2.Empty()


def self_signed_cert():
    """A fresh key and self-signed certificate for "localhost", like go-plugin's.

    Returns (key PEM, cert PEM, cert DER)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(seconds=30))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return key_pem, cert.public_bytes(serialization.Encoding.PEM), cert.public_bytes(serialization.Encoding.DER)


def negotiate(versions):
    """Highest version both sides speak; else our lowest, so the host reports the mismatch."""
    offered = set()
    for v in os.environ.get("PLUGIN_PROTOCOL_VERSIONS", "").split(","):
        if v.strip().isdigit():
            offered.add(int(v))
    common = sorted(offered.intersection(versions))
    return common[-1] if common else min(versions)


def serve(cookie, add_service, what, versions=(1,)):
    """Serves add_service(server)'s service until the host shuts us down; returns the exit status."""
    key, value = cookie
    if os.environ.get(key) != value:
        sys.stderr.write("This is a grao %s plugin: it is started by a grao host, not by hand.\n"
                         "Try: bench plugin check %s %s\n" % (what, sys.executable, sys.argv[0]))
        return 1
    version = negotiate(versions)
    done = threading.Event()
    # Like go-plugin: Ctrl-C in the host's terminal reaches us too, but the host
    # owns our lifetime and shuts us down itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: done.set())  # clean up the socket

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    add_service(server)
    health_pb2_grpc.add_HealthServicer_to_server(Health(), server)
    grpc_controller_pb2_grpc.add_GRPCControllerServicer_to_server(Controller(done), server)

    sockdir = tempfile.mkdtemp(prefix="grao-plugin-", dir=os.environ.get("PLUGIN_UNIX_SOCKET_DIR") or None)
    path = os.path.join(sockdir, "plugin.sock")
    cert_field = ""
    client_cert = os.environ.get("PLUGIN_CLIENT_CERT", "")
    if client_cert:
        key_pem, cert_pem, cert_der = self_signed_cert()
        creds = grpc.ssl_server_credentials([(key_pem, cert_pem)], root_certificates=client_cert.encode(),
                                            require_client_auth=True)
        server.add_secure_port("unix:" + path, creds)
        # Raw (unpadded) standard base64 of the DER certificate: the line cannot hold PEM's newlines.
        cert_field = base64.b64encode(cert_der).decode().rstrip("=")
    else:
        server.add_insecure_port("unix:" + path)
    server.start()

    # The handshake: the one and only line this process writes to stdout.
    sys.stdout.write("%d|%d|unix|%s|grpc|%s\n" % (CORE_PROTOCOL_VERSION, version, path, cert_field))
    sys.stdout.flush()
    log.info("serving %s plugin on %s (protocol %d, mTLS %s)", what, path, version, bool(client_cert))
    try:
        done.wait()
    finally:
        server.stop(grace=1).wait()
        shutil.rmtree(sockdir, ignore_errors=True)
    return 0
