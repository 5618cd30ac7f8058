"""The audit trail: one append-only event per read or change of a patient's record."""
