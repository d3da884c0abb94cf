def test_upper():
    assert "fleet".upper() == "FLEET"


def test_split():
    assert "a,b,c".split(",") == ["a", "b", "c"]
