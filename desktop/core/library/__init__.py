"""The library: folders and files, reading them, indexing them, searching them."""
