"""Validated questionnaires, defined once: item text, ranges, bands and scoring."""
