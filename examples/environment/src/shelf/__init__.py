"""A tiny book shelf: attrs for the records, tomli-w to write the catalogue (both from PyPI)."""
import attrs
import tomli_w


@attrs.define
class Book:
    title: str
    pages: int = attrs.field(validator=attrs.validators.gt(0))


def catalogue(books):
    """The shelf as TOML, one table per book, in title order."""
    return tomli_w.dumps({"books": [attrs.asdict(b) for b in sorted(books, key=lambda b: b.title)]})
