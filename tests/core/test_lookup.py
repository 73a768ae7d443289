"""Names people type find what they meant, or the closest names."""

from stockpot.core.lookup import closest, fold, not_found


def test_folding_and_closest_names():
    assert fold("  Küche ") == "kuche"
    assert closest("Kuche", ["Bar", "Küche", "Keller"]) == ["Küche"]
    assert closest("mozarella", ["Mozzarella", "Basil"]) == ["Mozzarella"]
    assert closest("Teltow", ["Pizzeria Beispiel Teltow", "Pizzeria Mitte"]) == [
        "Pizzeria Beispiel Teltow"
    ]
    assert closest("xyz", ["Bar"]) == []


def test_not_found_suggests_or_lists():
    assert str(not_found("storage unit", "Kuche", ["Bar", "Küche"])) == (
        "no storage unit 'Kuche'; did you mean Küche?"
    )
    assert str(not_found("storage unit", "Attic", ["Bar", "Küche"])) == (
        "no storage unit 'Attic' (known: Bar, Küche)"
    )
