"""Measuring the triage on labelled sets: scoring, runs in dry-run, and the trial of a
configured local model."""
