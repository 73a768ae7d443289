"""Fake POS servers and a local Slack stand-in speaking the real protocols on loopback."""
