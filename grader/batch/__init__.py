"""Grading a class: ``grade batch`` (discovery of the submissions in a folder or an LMS zip, a
pool of judge processes or a Dask cluster, atomic results, resume)."""
