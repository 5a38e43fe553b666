"""The grader's version: recorded in every result and part of every batch key."""

__version__ = "0.1.0"
