import pytest

from shelf import Book, catalogue


def test_a_book_needs_pages():
    with pytest.raises(ValueError):
        Book("Empty", 0)


def test_the_catalogue_is_toml_in_title_order():
    text = catalogue([Book("Zed", 10), Book("Alpha", 3)])
    assert text.index('"Alpha"') < text.index('"Zed"')
    assert "pages = 3" in text
