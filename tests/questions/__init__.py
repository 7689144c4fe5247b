"""Tests of graders.questions."""
