"""The Compare window: one question, a grid of configurations, answered side by side."""
