"""Evaluate: evaluation sets written from the library, runs over configurations, reports."""
