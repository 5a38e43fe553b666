"""The grader meeting the world outside: the student bundle (``grade release``) and its
notebooks, the Gradescope autograder, ``check()`` in Jupyter."""
