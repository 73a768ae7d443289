"""What a transfer reads of the catalog, frozen: mappings of the day's items and the recipes
they reach, with every recipe line already in its ingredient's base unit.

A snapshot is plain data (JSON round-trip), so a run can be stored, hashed, audited and
traced later exactly as it was computed, whatever has been edited since.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from stockpot.core.exact import fraction_text


@dataclass(frozen=True, slots=True)
class IngredientTarget:
    ingredient_id: int
    factor: Fraction
    """Base units of the ingredient per item sold."""


@dataclass(frozen=True, slots=True)
class RecipeTarget:
    recipe_id: int
    factor: Fraction
    """Portions of the recipe per item sold."""


@dataclass(frozen=True, slots=True)
class Ignored:
    """Sold, but takes nothing from stock (a tip, a "no onions" note)."""


Target = IngredientTarget | RecipeTarget | Ignored


@dataclass(frozen=True, slots=True)
class RecipeLineSpec:
    ingredient_id: int | None
    sub_recipe_id: int | None
    quantity: Fraction
    """Base units of the ingredient (converted), or portions of the sub-recipe."""
    trim: Fraction
    issue_storage_id: int | None


@dataclass(frozen=True, slots=True)
class RecipeSpec:
    recipe_id: int
    name: str
    portions: Fraction
    default_issue_storage_id: int | None
    lines: tuple[RecipeLineSpec, ...]


@dataclass(frozen=True)
class Snapshot:
    mappings: Mapping[str, Target | None]
    """Every item key of the day, with ``None`` for unmapped ones."""
    recipes: Mapping[int, RecipeSpec]

    def to_json(self) -> dict[str, Any]:
        return {
            "mappings": {key: target_json(t) for key, t in sorted(self.mappings.items())},
            "recipes": {str(rid): recipe_json(r) for rid, r in sorted(self.recipes.items())},
        }

    def text(self, storage_unit_id: int) -> str:
        """The canonical JSON a run stores (see ``snapshot_text``)."""
        return snapshot_text(
            [
                snapshot_entry(key, canonical_json(target_json(target)))
                for key, target in sorted(self.mappings.items())
            ],
            [
                snapshot_entry(str(recipe_id), canonical_json(recipe_json(recipe)))
                for recipe_id, recipe in sorted(self.recipes.items())
            ],
            storage_unit_id,
        )

    @classmethod
    def parse(cls, text: str) -> tuple[Snapshot, int]:
        """A stored snapshot and the storage unit its run issued from."""
        data = json.loads(text)
        return cls.from_json(data), int(data["storage_unit_id"])

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Snapshot:
        return cls(
            mappings={key: _target_from(value) for key, value in data["mappings"].items()},
            recipes={
                int(rid): _recipe_from(int(rid), value) for rid, value in data["recipes"].items()
            },
        )


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def snapshot_entry(key: str, value_json: str) -> str:
    """One member of a snapshot's text: ``"key":value``."""
    return f"{json.dumps(key, ensure_ascii=False)}:{value_json}"


def snapshot_text(mappings: list[str], recipes: list[str], storage_unit_id: int) -> str:
    """A snapshot as stored: its mapping and recipe entries (``snapshot_entry``, in key
    order) and the storage unit, as one JSON object. Equal snapshots give equal texts, so
    runs that read the same snapshot share one stored copy."""
    return "".join(
        [
            '{"mappings":{',
            ",".join(mappings),
            '},"recipes":{',
            ",".join(recipes),
            f'}},"storage_unit_id":{storage_unit_id}}}',
        ]
    )


def target_json(target: Target | None) -> dict[str, Any] | None:
    match target:
        case None:
            return None
        case Ignored():
            return {"ignored": True}
        case IngredientTarget(ingredient_id, factor):
            return {"ingredient_id": ingredient_id, "factor": fraction_text(factor)}
        case RecipeTarget(recipe_id, factor):
            return {"recipe_id": recipe_id, "factor": fraction_text(factor)}
    raise TypeError(target)


def _target_from(data: Mapping[str, Any] | None) -> Target | None:
    if data is None:
        return None
    if data.get("ignored"):
        return Ignored()
    if "ingredient_id" in data:
        return IngredientTarget(int(data["ingredient_id"]), Fraction(data["factor"]))
    return RecipeTarget(int(data["recipe_id"]), Fraction(data["factor"]))


def recipe_json(recipe: RecipeSpec) -> dict[str, Any]:
    return {
        "name": recipe.name,
        "portions": fraction_text(recipe.portions),
        "default_issue_storage_id": recipe.default_issue_storage_id,
        "lines": [
            {
                "ingredient_id": line.ingredient_id,
                "sub_recipe_id": line.sub_recipe_id,
                "quantity": fraction_text(line.quantity),
                "trim": fraction_text(line.trim),
                "issue_storage_id": line.issue_storage_id,
            }
            for line in recipe.lines
        ],
    }


def _recipe_from(recipe_id: int, data: Mapping[str, Any]) -> RecipeSpec:
    return RecipeSpec(
        recipe_id=recipe_id,
        name=data["name"],
        portions=Fraction(data["portions"]),
        default_issue_storage_id=data["default_issue_storage_id"],
        lines=tuple(
            RecipeLineSpec(
                ingredient_id=line["ingredient_id"],
                sub_recipe_id=line["sub_recipe_id"],
                quantity=Fraction(line["quantity"]),
                trim=Fraction(line["trim"]),
                issue_storage_id=line["issue_storage_id"],
            )
            for line in data["lines"]
        ),
    )
