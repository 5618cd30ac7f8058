"""A patient's whole record, streamed as JSON or as a FHIR R4 (R4B) Bundle."""
