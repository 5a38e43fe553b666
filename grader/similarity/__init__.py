"""Similarity between submissions of one homework: fingerprints of their code (the stub as
boilerplate) and the pairs ranked, per file and per part. A hint for a person to look."""
