"""Tests of graders.harness."""
