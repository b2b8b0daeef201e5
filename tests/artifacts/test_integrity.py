"""Every byte of an artifact is checked on every load (issue 2, "Integrity")."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import pytest
from sklearn.linear_model import LogisticRegression

from slipway.artifacts.builder import BuildSpec, build_artifact
from slipway.artifacts.flavors.sklearn import canonical_skops
from slipway.artifacts.loader import load_artifact
from slipway.core.errors import IntegrityError, UntrustedContentError
from slipway.core.manifest import MANIFEST_NAME
from slipway.core.model import TrustOptions


@pytest.fixture(scope="module")
def full_artifact(tmp_path_factory, small_frame, mean_model_class, sample_code):
    """An artifact with every kind of file: model files, code, tests, embedded data, profile, docs."""
    tests_dir = tmp_path_factory.mktemp("plan")
    (tests_dir / "plan.yaml").write_text("scenarios: []\n")
    (tests_dir / "base_case.csv").write_text("x,n,r\n0.1,1,1.2\n")
    spec = BuildSpec(
        name="full",
        train=small_frame,
        validation=small_frame.head(50),
        target="r",
        features=["x", "n"],
        code=[sample_code / "mean_model.py"],
        tests=tests_dir,
        embed_data=True,
        params={"alpha": 1},
        model_card={"owner": "team@example.com", "risk_level": "low"},
    )
    return build_artifact(mean_model_class(1.5, 2.0), spec, output=tmp_path_factory.mktemp("a") / "full")


def every_file(artifact) -> list[str]:
    return [MANIFEST_NAME, *(entry.path for entry in artifact.manifest.files)]


def test_the_full_artifact_has_every_kind_of_file(full_artifact):
    top = {path.split("/")[0] for path in every_file(full_artifact)}
    assert top == {
        MANIFEST_NAME,
        "model",
        "code",
        "params.json",
        "data.json",
        "data",
        "environment",
        "docs",
        "tests",
        "profile",
    }


def test_every_changed_byte_refuses_the_load_and_names_the_file(full_artifact, tmp_path):
    for index, relative in enumerate(every_file(full_artifact)):
        copy = tmp_path / f"copy{index}"
        shutil.copytree(full_artifact.path, copy)
        target = copy / relative
        data = bytearray(target.read_bytes())
        data[len(data) // 2] ^= 0x01
        target.write_bytes(bytes(data))
        with pytest.raises(IntegrityError) as caught:
            load_artifact(copy)
        assert repr(relative) in str(caught.value) or relative in str(caught.value), (
            relative,
            str(caught.value),
        )


def test_an_untouched_copy_loads(full_artifact, copy_artifact):
    loaded = load_artifact(copy_artifact(full_artifact.path))
    assert loaded.digest == full_artifact.digest


def test_a_missing_file_is_named(full_artifact, copy_artifact):
    copy = copy_artifact(full_artifact.path)
    (copy / "params.json").unlink()
    with pytest.raises(IntegrityError, match=r"artifact file 'params\.json' is missing"):
        load_artifact(copy)


@pytest.mark.parametrize(
    "extra", ["notes.txt", "code/__pycache__/mean_model.cpython-311.pyc", "model/extra.bin"]
)
def test_an_extra_file_is_named(full_artifact, copy_artifact, extra):
    copy = copy_artifact(full_artifact.path)
    (copy / extra).parent.mkdir(parents=True, exist_ok=True)
    (copy / extra).write_bytes(b"planted")
    with pytest.raises(IntegrityError, match=f"unexpected file '{extra}'"):
        load_artifact(copy)


def test_a_symlink_is_refused(full_artifact, copy_artifact):
    copy = copy_artifact(full_artifact.path)
    (copy / "link").symlink_to("/etc/hostname")
    with pytest.raises(IntegrityError, match="symbolic link 'link'"):
        load_artifact(copy)


def test_a_digest_other_than_the_expected_one_is_refused(full_artifact):
    with pytest.raises(IntegrityError, match=r"expected 0{64}"):
        load_artifact(full_artifact.path, expected_digest="0" * 64)


def test_loading_python_code_leaves_no_bytecode_behind(full_artifact, copy_artifact):
    copy = copy_artifact(full_artifact.path)
    load_artifact(copy)
    assert not list(copy.rglob("__pycache__"))
    load_artifact(copy)  # and a second load still verifies


class Unknown:
    def predict(self, frame):
        return frame.iloc[:, 0]


@pytest.fixture
def pickle_artifact(tmp_path, small_frame):
    spec = BuildSpec(name="pickled", train=small_frame, target="r", features=["x"], trust_pickle=True)
    return build_artifact(Unknown(), spec, output=tmp_path / "pickled")


def test_a_pickle_artifact_is_refused_without_the_trust_option(pickle_artifact):
    assert pickle_artifact.manifest.model.trusted_pickle
    with pytest.raises(UntrustedContentError, match=r"holds a pickle model.*trust_pickle=True"):
        load_artifact(pickle_artifact.path)


def test_a_pickle_artifact_loads_when_trusted(pickle_artifact, small_frame):
    loaded = load_artifact(pickle_artifact.path, trust=TrustOptions(pickle=True))
    assert list(loaded.runner.predict(small_frame[["x"]].head(3))) == list(small_frame.x.head(3))


def test_building_a_pickle_model_without_trust_is_refused(tmp_path, small_frame):
    with pytest.raises(UntrustedContentError, match="pickle"):
        build_artifact(
            Unknown(),
            BuildSpec(name="p", train=small_frame, target="r", features=["x"]),
            output=tmp_path / "p",
        )
    assert not (tmp_path / "p").exists()


class Planted:
    """Not a scikit-learn type: a skops file naming it must be refused."""


def test_a_skops_file_with_a_type_outside_the_trusted_list_is_refused(tmp_path, small_frame):
    import skops.io as sio

    model = LogisticRegression().fit(small_frame[["x"]], small_frame.y)
    built = build_artifact(
        model, BuildSpec(name="s", train=small_frame, target="y", features=["x"]), output=tmp_path / "s"
    )
    model.planted_ = Planted()  # a smuggled attribute of a foreign type
    skops_file = built.path / "model" / "model.skops"
    skops_file.write_bytes(canonical_skops(sio.dumps(model)))
    rehash(built.path)
    with pytest.raises(UntrustedContentError, match=r"types outside slipway's trusted list: .*Planted"):
        load_artifact(built.path)
    # Trusting it explicitly, at load time, is the caller's decision.
    name = f"{Planted.__module__}.{Planted.__qualname__}"
    assert load_artifact(built.path, trust=TrustOptions(skops_types=(name,))).runner.classes == (0, 1)


def test_the_trusted_list_is_never_read_from_the_artifact(tmp_path, small_frame):
    """skops once read trusted types from the model's own metadata; slipway decides them itself."""
    from slipway.artifacts.flavors.sklearn import is_trusted_type

    assert is_trusted_type("sklearn.linear_model._logistic.LogisticRegression")
    assert is_trusted_type("numpy.log")
    for name in (
        "builtins.eval",
        "os.system",
        "builtins.exec",
        "subprocess.Popen",
        "sklearn.utils._testing.assert_no_warnings",
    ):
        assert not is_trusted_type(name), name


def rehash(root: Path) -> None:
    """Rewrite the manifest after a deliberate change, as an attacker with write access could."""
    from slipway.artifacts.builder import _entries
    from slipway.core.manifest import parse_manifest

    manifest = parse_manifest((root / MANIFEST_NAME).read_bytes())
    updated = manifest.model_copy(update={"files": tuple(_entries(root))})
    (root / MANIFEST_NAME).write_bytes(updated.to_bytes())


def test_pickle_module_is_not_used_by_safe_flavors(small_frame, tmp_path):
    """A skops artifact loads with pickle.loads unavailable: it never unpickles."""
    model = LogisticRegression().fit(small_frame[["x"]], small_frame.y)
    built = build_artifact(
        model, BuildSpec(name="s", train=small_frame, target="y", features=["x"]), output=tmp_path / "s"
    )
    original = pickle.loads
    try:
        pickle.loads = None  # type: ignore[assignment]
        load_artifact(built.path)
    finally:
        pickle.loads = original
