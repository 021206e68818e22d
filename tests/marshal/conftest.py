"""Fixtures for the marshal/errors tests; plain helpers live in marshal_helpers.py."""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fastrt.marshal import Marshaller  # noqa: E402


@pytest.fixture(params=[True, False], ids=["ascii", "utf8"])
def ensure_ascii(request):
    return request.param


@pytest.fixture(params=["reference-path", "fast-path"])
def marshaller_factory(request):
    def make(ensure_ascii: bool, extended: bool = False) -> Marshaller:
        marshaller = Marshaller(ensure_ascii, extended)
        if request.param == "fast-path":
            marshaller.enable_fast_path()
        return marshaller

    make.fast = request.param == "fast-path"
    return make
