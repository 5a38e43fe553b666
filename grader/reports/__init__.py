"""Presentation: results rendered through Jinja templates (the report of one submission, the
class report, the gradebook, exports, similarity), and the templates themselves."""
