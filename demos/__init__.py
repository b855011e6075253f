"""The experiments of the five source documents, one module each."""
