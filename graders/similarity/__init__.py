"""Code similarity across a class, per question, with the starter code ignored (`hw3grade similarity`).

A pointer for a human, never a verdict: see find.py for the entry point; reports/similarity.py writes the outputs.
"""

from graders.similarity.find import find_similar
from graders.similarity.report import SimilarityReport, SimilaritySettings

__all__ = ["SimilarityReport", "SimilaritySettings", "find_similar"]
