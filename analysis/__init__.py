"""tgap: how many transplanted organs do declared sources explain, and how sure can one be.

Layers, imported one way only: ``analysis.data`` -> ``analysis.model`` -> ``analysis.report``.
"""

__version__ = "0.1.0"
