"""Lookups declared in the artifact or at deployment; the apartments example end to end."""

from __future__ import annotations

import json

import pytest

from slipway.artifacts.builder import BuildSpec, build_artifact
from slipway.artifacts.loader import load_artifact
from slipway.core.errors import IntegrityError, InvalidInputError, NotFoundError
from slipway.enrichment.artifact import LOOKUPS_FILE, LookupsStep, artifact_lookups, deployment_lookups
from slipway.examples import apartments

ZIP, PRICE = apartments.LOOKUP_KEY, apartments.LOOKUP_VALUE


def test_the_artifact_stores_its_lookups_and_a_manifest_section(lookup_artifact, loaded_lookup_artifact):
    section = lookup_artifact.manifest.sections["lookups"]
    assert section == {"file": LOOKUPS_FILE, "names": ["zip_prices"], "provides": [PRICE], "requires": [ZIP]}
    stored = json.loads((lookup_artifact.path / LOOKUPS_FILE).read_text())
    assert stored["lookups"][0]["source"] == {
        "kind": "sql",
        "url_env": apartments.ZIP_DB_URL_ENV,
        "table": "zip_prices",
        "columns": {},
    }
    (spec,) = artifact_lookups(loaded_lookup_artifact)
    assert spec.name == "zip_prices" and spec.on_miss.action == "reject"


def test_a_changed_lookups_file_is_refused_at_load(lookup_artifact, copy_artifact):
    copy = copy_artifact(lookup_artifact)
    path = copy / LOOKUPS_FILE
    path.write_text(path.read_text().replace("reject", "default"))
    with pytest.raises(IntegrityError, match=r"lookups/lookups\.json' was modified"):
        load_artifact(copy)


def build_with(apartments_model, apartments_data, tmp_path, lookups):
    spec = BuildSpec(
        name="apartments", train=apartments_data.train, target="price", features=apartments.FEATURES
    )
    return build_artifact(apartments_model, spec, output=tmp_path / "a", steps=[LookupsStep(lookups)])


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (
            {"values": {"price_per_m2": "number"}},
            "provides 'price_per_m2', which is not a feature of the model",
        ),
        (
            {"values": {PRICE: "string"}},
            "declared string, but the model was trained on number values; declare it as number",
        ),
        (
            {"source": {"kind": "sql", "table": "zip_prices", "url": "postgresql://app:hunter2@db/x"}},
            "holds a password.*url_env",
        ),
    ],
    ids=["not-a-feature", "wrong-type", "password-inline"],
)
def test_lookups_that_do_not_fit_the_model_fail_the_build(
    apartments_model, apartments_data, tmp_path, change, match
):
    lookup = {**apartments.lookup(), **change}
    if "values" in change:
        lookup.pop("on_error")
    with pytest.raises(InvalidInputError, match=match) as raised:
        build_with(apartments_model, apartments_data, tmp_path, [lookup])
    assert "hunter2" not in str(raised.value)
    assert not (tmp_path / "a").exists(), "nothing half-written"


def test_chained_lookups_are_refused(apartments_model, apartments_data, tmp_path):
    chained = {
        "name": "chained",
        "keys": {PRICE: "number"},
        "values": {"surface": "number"},
        "source": {"kind": "sql", "url_env": "X", "table": "t"},
    }
    with pytest.raises(InvalidInputError, match="its key 'zip_avg_price_m2' is filled by another lookup"):
        build_with(apartments_model, apartments_data, tmp_path, [apartments.lookup(), chained])


def test_a_deployment_file_overrides_the_artifacts_lookup(loaded_lookup_artifact, tmp_path):
    override = tmp_path / "deploy.yaml"
    override.write_text(
        "lookups:\n  - name: zip_prices\n    timeout_ms: 80\n    source: {url_env: PROD_ZIP_URL}\n"
    )
    (spec,) = deployment_lookups(loaded_lookup_artifact, override)
    assert (
        spec.timeout_ms == 80 and spec.source.url_env == "PROD_ZIP_URL" and spec.source.table == "zip_prices"
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text("- name: zip_prices\n  values: {zip_avg_price_m2: boolean}\n  on_error: reject\n")
    with pytest.raises(InvalidInputError, match="declared boolean"):
        deployment_lookups(loaded_lookup_artifact, bad)


def test_the_apartments_model_scores_from_the_zip_code_alone(
    slipway_home, apartments_model, apartments_data, tmp_path
):
    url = apartments.write_zip_table(tmp_path / "zip.db")
    built = slipway_home.build(
        apartments_model,
        name="apartments",
        train=apartments_data.train,
        validation=apartments_data.validation,
        target="price",
        features=apartments.FEATURES,
        lookups=[apartments.lookup()],
        compile=False,
    )
    generous = [{"name": "zip_prices", "timeout_ms": 5_000}]  # a cold connection on a loaded machine
    scorer = slipway_home.scorer(built.path, lookups=generous, environ={apartments.ZIP_DB_URL_ENV: url})
    assert scorer.input_columns == ("surface", "rooms", "floor", "construction_year", ZIP)
    requests = apartments_data.holdout.drop(columns=[PRICE, "price"]).head(50)
    scored = scorer.score_records(requests.to_dict("records"))
    expected = apartments_model.predict(apartments_data.holdout[list(apartments.FEATURES)].head(50))
    assert scored.predictions.tolist() == pytest.approx(expected.tolist())
    with pytest.raises(InvalidInputError, match=f"unexpected column '{PRICE}'"):
        scorer.score_records([{**requests.iloc[0].to_dict(), PRICE: 1.0}])
    slipway_home.close()  # closes the lookup connections the scorer opened
    scorer.stages[0].cache.clear()
    after = scorer.score_records(requests.head(1).to_dict("records"))
    assert after.flags[0][0].detail["error"] == "the lookup was closed"


def test_the_lookup_database_url_must_be_given(slipway_home, loaded_lookup_artifact):
    with pytest.raises(NotFoundError, match="APARTMENTS_ZIP_DB_URL is not set"):
        slipway_home.scorer(loaded_lookup_artifact, environ={})
