"""The server's signing material: the Ed25519 key that signs each day's chain heads, and the
certificate and key that sign the PDF reports (PAdES).

Production reads them from the environment (EVIDENCE_SIGNING_KEY: a PEM Ed25519 private key or a
path to one; REPORT_SIGNING_KEY / REPORT_SIGNING_CERT: PEM paths) and refuses to make any.
Elsewhere they are generated on first use into ENFORCEMENT_KEYS_DIR (var/keys, git-ignored) and
reused afterwards, so a development database keeps verifying across restarts.
"""

import datetime as dt
import os
from functools import cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def _keys_dir() -> Path:
    folder = Path(settings.ENFORCEMENT_KEYS_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _write_private(path: Path, data: bytes) -> None:
    # 0600 from the start, and never overwrite a key another process wrote first.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _pem_from(value: str) -> bytes:
    return value.encode() if value.lstrip().startswith("-----BEGIN") else Path(value).read_bytes()


@cache
def evidence_private_key() -> Ed25519PrivateKey:
    configured = settings.EVIDENCE_SIGNING_KEY
    if configured:
        key = serialization.load_pem_private_key(_pem_from(configured), password=None)
    elif settings.PRODUCTION:
        raise ImproperlyConfigured("EVIDENCE_SIGNING_KEY is required in production.")
    else:
        path = _keys_dir() / "evidence-ed25519.pem"
        if not path.exists():
            pem = Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            _write_private(path, pem)
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ImproperlyConfigured("EVIDENCE_SIGNING_KEY must be an Ed25519 private key.")
    return key


def public_key_hex(key: Ed25519PublicKey) -> str:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def evidence_public_key_hex() -> str:
    return public_key_hex(evidence_private_key().public_key())


@cache
def report_signing_files() -> tuple[Path, Path]:
    """(key PEM path, certificate PEM path) for signing reports."""
    key_path, cert_path = settings.REPORT_SIGNING_KEY, settings.REPORT_SIGNING_CERT
    if key_path and cert_path:
        return Path(key_path), Path(cert_path)
    if settings.PRODUCTION:
        raise ImproperlyConfigured("REPORT_SIGNING_KEY and REPORT_SIGNING_CERT are required in production.")
    folder = _keys_dir()
    key_file, cert_file = folder / "report-signing-key.pem", folder / "report-signing-cert.pem"
    if not (key_file.exists() and cert_file.exists()):
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "SA"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Jawla (development)"),
                x509.NameAttribute(NameOID.COMMON_NAME, "Jawla report signing - DEVELOPMENT ONLY"),
            ]
        )
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=True,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(key, hashes.SHA256())
        )
        _write_private(
            key_file,
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
        )
        if not cert_file.exists():
            cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_file, cert_file
