"""What the judge and the executor must agree on, bit for bit: frames, messages, value trees,
the forbidden-pattern language. Standard library, torch and safetensors only: both sides
import it, and it imports nothing else of the grader."""
