"""Chat: asking a model with or without retrieval, history, personas, prompts."""
