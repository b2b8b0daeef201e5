import pytest

from slipway.core.settings import Secret, Settings, redact_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql+psycopg://app:s3cret@db:5432/reg", "postgresql+psycopg://app:***@db:5432/reg"),
        ("postgresql://postgres@127.0.0.1/test", "postgresql://postgres@127.0.0.1/test"),
        ("redis://:pw@cache:6379/0", "redis://:***@cache:6379/0"),
        ("s3://bucket/prefix", "s3://bucket/prefix"),
        ("sqlite:///tmp/x.db", "sqlite:///tmp/x.db"),
    ],
    ids=["password", "no-password", "redis-password", "s3", "sqlite"],
)
def test_redact_url_hides_only_passwords(url, shown):
    assert redact_url(url) == shown


def test_a_secret_never_shows_in_repr():
    settings = Settings.from_env({"SLIPWAY_REGISTRY_URL": "postgresql://u:topsecret@h/db"}, home="/tmp/h")
    assert "topsecret" not in repr(settings)
    assert repr(Secret("x")) == "Secret('***')"


def test_defaults_live_under_the_home_folder():
    settings = Settings.from_env({}, home="/srv/slipway")
    assert settings.registry_url == "sqlite:////srv/slipway/registry.db"
    assert settings.store_url == "/srv/slipway/artifacts"
