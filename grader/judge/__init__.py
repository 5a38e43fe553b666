"""The judge: the pytest plugin that runs a homework's suite over submissions, the ``student``
proxy, the comparisons and checks test authors use, scoring and the result records. It never
imports, unpickles or calls anything that came from a student."""
