"""Trusted reference solutions of HW3, written to the same contract as a student's submission."""
