"""Exports: the clinic summary PDF, FHIR R4, CSV, the account zip, deletion and the calendar."""
