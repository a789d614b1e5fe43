"""Evaluation: running agents on environments and reporting scores."""
