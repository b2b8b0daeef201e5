from __future__ import annotations

from collections.abc import Iterator

import pytest

from slipway.adapters.factory import open_metadata_store
from slipway.core.protocols import MetadataStore

BACKENDS = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def backend_url(request: pytest.FixtureRequest, backend: str) -> str:
    if backend == "memory":
        return "memory://"
    return str(request.getfixturevalue(f"{backend}_url"))


@pytest.fixture(params=BACKENDS)
def metadata_url(request: pytest.FixtureRequest) -> str:
    return backend_url(request, request.param)


@pytest.fixture
def metadata_store(metadata_url: str) -> Iterator[MetadataStore]:
    store = open_metadata_store(metadata_url)
    yield store
    store.close()


@pytest.fixture(params=BACKENDS[1:])
def sql_url(request: pytest.FixtureRequest) -> str:
    return backend_url(request, request.param)
