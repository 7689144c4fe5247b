"""Tests of graders.commands: hw3grade grade, batch and similarity."""
