"""Compare and evaluate: one question across configurations (model, persona, retrieval)
answered side by side (``compare``), with ``cells`` naming a configuration."""
