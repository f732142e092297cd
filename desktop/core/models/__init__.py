"""Models: ids, local llama.cpp models, remote providers, embeddings, downloads."""
