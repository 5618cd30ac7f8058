"""The access log and the audit trail write each event from one read model, `Entry`: the
event's fields the trail writes, with its actor spelled out."""

from __future__ import annotations

from dataclasses import fields

from telehealth.audit.models import AuditEvent
from telehealth.audit.routes import Entry
from telehealth.audit.schemas import AccessLogEntryOut, AuditEventOut


def test_an_entry_holds_the_fields_the_trail_writes_in_their_order():
    assert [field.name for field in fields(Entry)] == list(AuditEventOut().fields)


def test_the_access_log_writes_a_subset_of_them():
    assert set(AccessLogEntryOut().fields) <= set(AuditEventOut().fields)


def test_an_entry_reads_every_field_but_the_actor_from_its_event():
    columns = set(AuditEvent.__mapper__.column_attrs.keys())
    assert {field.name for field in fields(Entry)} - columns == {"actor"}
