"""Stockpot's domain: catalog, units, mappings, transfer engine and ledger.

Nothing in this package imports Slack; the bot and the CLI call the services here.
"""
