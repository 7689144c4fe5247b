"""Tests of graders.sandbox, and the attack suite."""
