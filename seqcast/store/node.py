"""Reading a parsed JSON document one typed field at a time, with the field's path in errors.

``Node(doc, "m/seqcast.json", "").get("series").items()[0].get("n_rows").integer(1)``
either returns the value or raises one ArtifactError such as ``m/seqcast.json:
series[0].n_rows must be a whole number of at least 1, got 'x'. Retrain with `seqcast
train`.``
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from seqcast.errors import ArtifactError, SeqcastError
from seqcast.store.schema import RETRAIN

_FIX = RETRAIN

_SHOWN = reprlib.Repr()
"""How a wrong value is quoted: as repr() would, but never more than 4 levels deep
(a crafted file's nesting must not overflow the stack while the error is worded);
the message keeps its first 60 characters anyway."""
_SHOWN.maxlevel = 4
for _name in (
    "maxdict",
    "maxlist",
    "maxtuple",
    "maxset",
    "maxstring",
    "maxlong",
    "maxother",
):
    setattr(_SHOWN, _name, 10_000)


class Node:
    """A value inside the document, with its dotted path for messages."""

    __slots__ = ("path", "value", "where")

    def __init__(self, value: Any, where: str, path: str) -> None:
        self.value = value
        self.where = where
        self.path = path

    def fail(self, expected: str) -> ArtifactError:
        """Return the error saying this field must be ``expected``."""
        shown = _SHOWN.repr(self.value)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        return ArtifactError(
            f"{self.where}: {self.path or 'the document'} must be {expected}, got {shown}. {_FIX}"
        )

    def mapping(self) -> Mapping[str, Any]:
        """Return the value as an object, or fail."""
        if not isinstance(self.value, Mapping):
            raise self.fail("an object")
        return self.value

    def get(self, key: str) -> Node:
        """Return the child ``key``, failing when it is missing."""
        mapping = self.mapping()
        path = f"{self.path}.{key}" if self.path else key
        if key not in mapping:
            raise ArtifactError(f"{self.where}: {path} is missing. {_FIX}")
        return Node(mapping[key], self.where, path)

    def opt(self, key: str) -> Node | None:
        """Return the child ``key``, or None when it is missing or null."""
        mapping = self.mapping()
        if mapping.get(key) is None:
            return None
        return self.get(key)

    def items(self) -> list[Node]:
        """Return the elements of a list, each with its index in the path."""
        if not isinstance(self.value, list):
            raise self.fail("a list")
        return [
            Node(v, self.where, f"{self.path}[{i}]") for i, v in enumerate(self.value)
        ]

    def text(self, *, empty: bool = True) -> str:
        """Return the value as text (non-empty unless ``empty``)."""
        if not isinstance(self.value, str) or (not empty and not self.value):
            raise self.fail("text" if empty else "non-empty text")
        return self.value

    def integer(self, lo: int = 0) -> int:
        """Return the value as a whole number of at least ``lo``."""
        if (
            isinstance(self.value, bool)
            or not isinstance(self.value, int)
            or self.value < lo
        ):
            raise self.fail(f"a whole number of at least {lo}")
        return self.value

    def number(self) -> float:
        """Return the value as a finite number."""
        if isinstance(self.value, bool) or not isinstance(self.value, int | float):
            raise self.fail("a number")
        if not math.isfinite(float(self.value)):
            raise self.fail("a finite number")
        return float(self.value)

    def fraction(self) -> float:
        """Return the value as a number between 0 and 1."""
        value = self.number()
        if not 0.0 <= value <= 1.0:
            raise self.fail("a fraction between 0 and 1")
        return value

    def number_or_none(self) -> float | None:
        """Return a finite number, or None for null."""
        return None if self.value is None else self.number()

    def flag(self) -> bool:
        """Return the value as true or false."""
        if not isinstance(self.value, bool):
            raise self.fail("true or false")
        return self.value

    def date(self, *, zone: bool = False) -> str:
        """Return the value as an ISO timestamp string, without a time zone unless ``zone``.

        The data's dates are time-zone free (data is read into naive timestamps), so
        such a stamp with an offset can only come from an edited file; ``zone=True``
        is for stamps of the clock, such as when the model was created (UTC).
        """
        text = self.text(empty=False)
        try:
            stamp = datetime.fromisoformat(text)
        except ValueError:
            raise self.fail("an ISO timestamp") from None
        if stamp.tzinfo is not None and not zone:
            raise self.fail("an ISO timestamp without a time zone")
        return text

    def texts(self) -> tuple[str, ...]:
        """Return a list of texts as a tuple."""
        return tuple(n.text() for n in self.items())

    def built(self, build: Any) -> Any:
        """Build a record with another module's ``from_dict``, turning its errors into ours."""
        try:
            return build(self.mapping())
        except ArtifactError as exc:
            raise ArtifactError(f"{self.where}: {self.path}: {exc}") from None
        except (
            KeyError,
            TypeError,
            ValueError,
            IndexError,
            AttributeError,
            OverflowError,
            SeqcastError,
        ) as exc:
            raise self.fail(f"valid ({type(exc).__name__}: {str(exc)[:80]})") from None
