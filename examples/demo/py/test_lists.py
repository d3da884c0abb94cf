from helpers import double


def test_double():
    assert double([1, 2]) == [2, 4]
