"""TLS for the optional HTTPS port: the user's certificate, or a self-signed one made on first use.

Real ECR speaks HTTPS only, and some clients (python-dxf, for one) send credentials only over
HTTPS. The self-signed certificate names localhost, 127.0.0.1 and the registry host; clients
must skip verification or trust the file, whose path the server logs.
"""

import datetime
import ipaddress
import logging
import os
import ssl

LOG = logging.getLogger(__name__)

CERTIFICATE_LIFETIME = datetime.timedelta(days=365)


def server_context(cert_path: str, key_path: str) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return context


def self_signed(folder: str, hosts: list[str]) -> tuple[str, str]:
    """Return (certificate, key) paths in `folder`, making a self-signed pair for `hosts` if absent."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    cert_path = os.path.join(folder, "tls-cert.pem")
    key_path = os.path.join(folder, "tls-key.pem")
    if os.path.exists(cert_path) and os.path.exists(key_path):
        return cert_path, key_path

    key = ec.generate_private_key(ec.SECP256R1())
    names = []
    for host in dict.fromkeys(hosts):
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ecr-emulator")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + CERTIFICATE_LIFETIME)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .sign(key, hashes.SHA256())
    )
    os.makedirs(folder, exist_ok=True)
    descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        )
    with open(cert_path, "wb") as stream:
        stream.write(certificate.public_bytes(serialization.Encoding.PEM))
    LOG.info("made a self-signed certificate for %s at %s", ", ".join(hosts), cert_path)
    return cert_path, key_path
