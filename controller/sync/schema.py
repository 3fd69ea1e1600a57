"""The published contract with the central platform: JSON Schemas (draft 2020-12) for the push batch, the
platform's acknowledgement, one change, each change type's payload, and the occupancy snapshot.

Served at ``GET /api/v1/sync/schema``. Payloads carry ``v``; a breaking change bumps it and this document.
Every schema allows extra fields (docs/API.md: add fields freely), so a platform validates what it relies on.
"""

from __future__ import annotations

from typing import Any

from ..store.outbox import PAYLOAD_VERSION
from .feed import BATCH_VERSION

DIALECT = "https://json-schema.org/draft/2020-12/schema"
_ts = {"type": "string", "format": "date-time"}
_opt_str = {"type": ["string", "null"]}
_opt_ts = {"type": ["string", "null"], "format": "date-time"}

PAYLOAD_BASE: dict[str, Any] = {
    "type": "object",
    "required": ["v", "entity", "entity_id"],
    "properties": {
        "v": {"const": PAYLOAD_VERSION, "description": "payload version"},
        "entity": {"type": "string", "description": "what changed: stay, alarm, room, locker, staff, site"},
        "entity_id": {"type": "string"},
        "id_number_redacted": {"const": True,
                               "description": "an identity number was withheld (the platform is not entitled)"},
    },
}


def _payload(required: list[str], properties: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "allOf": [{"$ref": "#/$defs/payload_base"}],
            "type": "object", "required": required, "properties": properties}


SUBJECT = {
    "type": "object", "required": ["name", "sex", "is_minor", "id_type"],
    "properties": {"name": {"type": "string"}, "sex": {"enum": ["male", "female"]}, "is_minor": {"type": "boolean"},
                   "id_type": {"enum": ["resident_id", "passport", "other"]},
                   "id_number": {"type": "string", "description": "only where the platform is entitled"},
                   "id_number_redacted": {"const": True}},
}
_move = _payload(["state", "room_id"], {"state": {"type": "string"}, "room_id": _opt_str},
                 "a step of the stay: its new state and where the subject is")
STAY_MOVES = ["stay_searched", "stay_searched_on_return", "stay_collected", "property_stored", "stay_placed",
              "interview_started", "interview_ended", "activity_started", "activity_ended",
              "temporary_leave_started", "temporary_leave_returned", "exit_started"]

PAYLOADS: dict[str, dict[str, Any]] = {
    "stay_registered": _payload(
        ["state", "subject", "role", "case_no", "legal_basis", "entered_at", "deadline_at"],
        {"state": {"const": "registered"}, "subject": SUBJECT, "role": {"enum": ["suspect", "witness", "victim"]},
         "case_no": {"type": "string"}, "legal_basis": {"type": "string"}, "entered_at": _ts, "deadline_at": _ts},
        "a subject entered the centre (入区登记)"),
    **{t: _move for t in STAY_MOVES},
    "stay_exited": _payload(
        ["state", "disposition"],
        {"state": {"const": "exited"}, "room_id": {"type": "null"}, "disposition": {"type": "string"},
         "items": {"type": "array", "items": {"type": "object", "required": ["id", "disposition"]}}},
        "the subject left the centre (出区)"),
    "deadline_extended": _payload(["deadline_at"], {"deadline_at": _ts}, "the legal deadline moved"),
    **{t: _payload(["state"], {"state": {"type": "string"}, "kind": {"type": "string"}},
                   f"an alarm was {t.split('_', 1)[1]}")
       for t in ("alarm_raised", "alarm_acknowledged", "alarm_resolved", "alarm_escalated", "alarm_repeated")},
}

CHANGE: dict[str, Any] = {
    "type": "object",
    "required": ["seq", "event_id", "type", "occurred_at", "payload"],
    "properties": {
        "seq": {"type": "integer", "minimum": 1, "description": "outbox order; strictly increasing"},
        "event_id": {"type": "string", "format": "uuid", "description": "apply each event once by this id"},
        "type": {"type": "string", "description": "see payloads; unknown types carry at least payload_base"},
        "occurred_at": _ts,
        "stay_id": _opt_str,
        "payload": {"$ref": "#/$defs/payload_base"},
    },
}

BATCH: dict[str, Any] = {
    "type": "object",
    "required": ["v", "site_id", "first_seq", "last_seq", "count", "changes"],
    "properties": {
        "v": {"const": BATCH_VERSION}, "site_id": {"type": "string"},
        "first_seq": {"type": "integer"}, "last_seq": {"type": "integer"}, "count": {"type": "integer", "minimum": 1},
        "changes": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/change"}},
    },
}

ACK: dict[str, Any] = {
    "description": "the platform's 2xx answer; the centre advances to acked_seq only if every event of the batch "
                   "up to it is listed in accepted (applied now or before)",
    "type": "object", "required": ["acked_seq", "accepted"],
    "properties": {"acked_seq": {"type": "integer"}, "accepted": {"type": "array", "items": {"type": "string"}},
                   "applied": {"type": "integer"}, "duplicates": {"type": "integer"}},
}

OCCUPANT: dict[str, Any] = {
    "type": "object",
    "required": ["stay_id", "state", "role", "subject", "room_id", "entered_at", "deadline_at"],
    "properties": {"stay_id": {"type": "string"}, "state": {"type": "string"}, "role": {"type": "string"},
                   "subject": SUBJECT, "case_no": {"type": "string"}, "legal_basis": {"type": "string"},
                   "room_id": _opt_str, "room_name": _opt_str, "waiting_room_id": _opt_str,
                   "entered_at": _ts, "in_room_since": _opt_ts, "deadline_at": _ts, "overdue": {"type": "boolean"}},
}
OCCUPANCY: dict[str, Any] = {
    "type": "object", "required": ["v", "site_id", "at", "count", "occupants"],
    "properties": {"v": {"const": BATCH_VERSION}, "site_id": {"type": "string"}, "at": _ts,
                   "count": {"type": "integer"}, "occupants": {"type": "array", "items": {"$ref": "#/$defs/occupant"}}},
}

HEADERS = {
    "X-HCC-Site": "the centre's site id", "X-HCC-Key-Id": "which per-site key signed the request",
    "X-HCC-Timestamp": "unix seconds; refused outside the platform's window (default 300 s)",
    "X-HCC-Nonce": "random per request; a nonce seen before is a replay (409)",
    "X-HCC-Signature": 'v1=hex(HMAC-SHA256(key, "v1\\n" site "\\n" key_id "\\n" timestamp "\\n" nonce "\\n" body))',
}


def document() -> dict[str, Any]:
    """One self-contained document: every schema under ``$defs``, so ``$ref``s resolve within it."""
    defs = {"payload_base": PAYLOAD_BASE, "change": CHANGE, "batch": BATCH, "ack": ACK, "occupant": OCCUPANT,
            "occupancy": OCCUPANCY, **{f"payload_{t}": s for t, s in PAYLOADS.items()}}
    return {"$schema": DIALECT, "$id": "urn:hcc:sync:v1", "title": "办案中心 -> 管控平台 sync contract",
            "payload_version": PAYLOAD_VERSION, "batch_version": BATCH_VERSION, "signature_headers": HEADERS,
            "payload_types": sorted(PAYLOADS), "$defs": defs}


def schema_for(doc: dict[str, Any], name: str) -> dict[str, Any]:
    """A validator-ready schema for ``name`` (a ``$defs`` key) that still resolves the document's ``$ref``s."""
    return {"$schema": DIALECT, "$defs": doc["$defs"], "$ref": f"#/$defs/{name}"}
