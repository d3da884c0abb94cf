"""The packages come from the environment the suite declared, not from the system's Python."""
import os

import attrs
import tomli_w

import shelf


def test_the_pinned_attrs_from_the_environment():
    # Debian's python3 has an older attrs of its own: the environment's comes first on the path.
    assert attrs.__version__ == "23.2.0"
    assert attrs.__file__.startswith(os.environ["TESTFLEET_ENV"])


def test_a_package_only_the_environment_has():
    assert tomli_w.__file__.startswith(os.environ["TESTFLEET_ENV"])


def test_the_project_imports_from_its_src_folder():
    assert os.sep + os.path.join("src", "shelf") in shelf.__file__
