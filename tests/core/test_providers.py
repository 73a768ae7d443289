"""Which POS kinds have a POS to ask for a day, and which get their sales from files."""

from __future__ import annotations

from stockpot.core.models import Provider


def test_only_csv_is_fed_by_files_and_the_others_can_be_asked():
    assert [provider for provider in Provider if provider.from_files] == [Provider.CSV]
    assert Provider.askable() == (Provider.LIGHTSPEED, Provider.SIDES)
