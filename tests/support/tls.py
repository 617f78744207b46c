"""Throwaway TLS material: a CA, a server certificate for 127.0.0.1, a client certificate."""

import datetime
import ipaddress
import os
from collections import namedtuple

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

TlsFiles = namedtuple("TlsFiles", ["ca_cert", "server_cert", "server_key", "client_cert", "client_key"])
"""Paths of PEM files written by ``write_tls_files``."""

VALIDITY = datetime.timedelta(days=1)


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_pem(path, data):
    with open(path, "wb") as handle:
        handle.write(data)
    return path


def _write_key(path, key):
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return _write_pem(path, pem)


def _issue(ca_key, ca_name, common_name, usage, san=None):
    """Return ``(key, certificate)`` signed by the CA for one extended key usage."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    )
    if san is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
    return key, builder.sign(ca_key, hashes.SHA256())


def write_tls_files(directory):
    """Write a fresh CA, a server certificate for IP 127.0.0.1 and a client certificate."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("oci-test-ca")
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    server_san = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
    server_key, server_cert = _issue(ca_key, ca_name, "127.0.0.1", ExtendedKeyUsageOID.SERVER_AUTH, server_san)
    client_key, client_cert = _issue(ca_key, ca_name, "oci-test-client", ExtendedKeyUsageOID.CLIENT_AUTH)

    def path(name):
        return os.path.join(directory, name)

    pem = serialization.Encoding.PEM
    return TlsFiles(
        ca_cert=_write_pem(path("ca.pem"), ca_cert.public_bytes(pem)),
        server_cert=_write_pem(path("server.pem"), server_cert.public_bytes(pem)),
        server_key=_write_key(path("server-key.pem"), server_key),
        client_cert=_write_pem(path("client.pem"), client_cert.public_bytes(pem)),
        client_key=_write_key(path("client-key.pem"), client_key),
    )
