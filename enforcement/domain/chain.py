"""Canonical forms, content hashes, the per-inspector hash chain and the signed day message. Pure.

canonical(x) = JSON with sorted keys, no spaces, UTF-8 (ensure_ascii off), datetimes as ISO 8601
in UTC with microseconds, floats as Python's shortest round-trip repr. The same record always
gives the same bytes on SQLite and PostgreSQL.
"""

import hashlib
import json
from datetime import UTC, datetime

GENESIS = "0" * 64


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat(timespec="microseconds")


def canonical_bytes(document: dict) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sha256_hex(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


def chain_link(prev_hash: str, content_hash: str) -> str:
    return hashlib.sha256(bytes.fromhex(prev_hash) + bytes.fromhex(content_hash)).hexdigest()


def day_message(day: str, heads: dict[str, list]) -> bytes:
    """The bytes signed for one day: the day and its chain heads {inspector id: [seq, chain_hash]}."""
    return canonical_bytes({"day": day, "heads": heads, "scheme": "jawla-evidence-v1"})


def differences(stored: object, current: object, path: str = "") -> list[str]:
    """Dotted paths where two canonical documents differ (lists of dicts with an "id" are matched by id)."""
    if isinstance(stored, dict) and isinstance(current, dict):
        found = []
        for key in sorted(set(stored) | set(current)):
            sub = f"{path}.{key}" if path else key
            if key not in stored or key not in current:
                found.append(sub)
            else:
                found.extend(differences(stored[key], current[key], sub))
        return found
    if isinstance(stored, list) and isinstance(current, list):
        if all(isinstance(x, dict) and "id" in x for x in stored + current):
            left = {x["id"]: x for x in stored}
            right = {x["id"]: x for x in current}
            found = []
            for key in sorted(set(left) | set(right), key=str):
                sub = f"{path}[id={key}]"
                if key not in left or key not in right:
                    found.append(sub)
                else:
                    found.extend(differences(left[key], right[key], sub))
            return found
        if len(stored) != len(current):
            return [path]
        found = []
        for index, (left, right) in enumerate(zip(stored, current, strict=True)):
            found.extend(differences(left, right, f"{path}[{index}]"))
        return found
    return [] if stored == current else [path]
