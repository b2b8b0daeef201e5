from __future__ import annotations

from collections.abc import Iterator

import pytest

from slipway.adapters.factory import open_metadata_store
from slipway.core.protocols import MetadataStore


@pytest.fixture
def metadata_store(metadata_url: str) -> Iterator[MetadataStore]:
    store = open_metadata_store(metadata_url)
    yield store
    store.close()
