"""The record as a FHIR Bundle (type collection), each resource validated by the
`fhir.resources` R4B models (FHIR 4.3, the R4 line) before it is written.

Entries are identified by `urn:uuid:` full URLs and refer to each other the same way, so the
bundle is self-contained. Codes follow the clinical reference's mapping table; LOINC where a code
exists, else the service's own code systems (`urn:telehealth:fhir:CodeSystem:<name>`), and the
service's own extensions where FHIR R4 has no element. Everything the JSON export says is here
too (docs/export.md has the field by field table). Never a dose amount.

One module per job: `codes` (code systems, extensions and the small builders every resource
uses), one per group of resources (`people`, `sessions`, `notes`, `checkins`, `alerts`), and
`bundle`, which writes them as one stream.
"""

from __future__ import annotations

from telehealth.export.fhir_format.bundle import stream

__all__ = ["stream"]
