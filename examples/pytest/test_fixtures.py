import pytest


@pytest.fixture
def database():
    raise ConnectionError("the fixture cannot reach its database (errors on purpose)")


def test_uses_database_errors_on_purpose(database):
    assert database


class TestGrouped:
    def test_inside_class(self):
        assert "fleet".upper() == "FLEET"

    @pytest.mark.skipif(True, reason="skipped by condition")
    def test_conditionally_skipped(self):
        pass
