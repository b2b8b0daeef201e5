"""``GuardsStep``: fit the guards when the artifact is built and store them as plain numbers.

Everything goes to ``profile/guards/guards.json`` (and a fallback model, if any, under
``profile/guards/fallback/``), so the manifest verifies it like every other file. The manifest
section ``guards`` summarises what was fitted, and why conformal prediction was left out when
it was.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from slipway.core.errors import InvalidInputError
from slipway.guards.anomaly import fit_anomaly
from slipway.guards.config import ConformalConfig, GuardsConfig, GuardsInput, check_guards, parse_guards
from slipway.guards.domain import fit_domain
from slipway.guards.fallback import save_fallback
from slipway.guards.output import fit_output

if TYPE_CHECKING:
    from slipway.artifacts.steps import BuildContext

SECTION = "guards"
GUARDS_FILE = "profile/guards/guards.json"
#: Conformal prediction is on by default only with at least this many validation rows.
DEFAULT_CONFORMAL_ROWS = 200
#: Without validation data, this share of the training rows is held out for the anomaly threshold.
HELD_OUT_SHARE = 0.2


class GuardsStep:
    """Build step fitting the runtime guards (see ``slipway.guards.config`` for the options)."""

    name = SECTION

    def __init__(self, guards: GuardsInput = None) -> None:
        self.config: GuardsConfig | None = parse_guards(guards)

    def run(self, context: BuildContext) -> dict[str, Any] | None:
        config = self.config
        if config is None:
            return None
        check_guards(
            config,
            features=context.features,
            profile=context.profile,
            task=context.task,
            classes=context.classes,
        )
        assert context.profile is not None
        assert context.train is not None
        fitted: dict[str, Any] = {}
        summary: dict[str, Any] = {"file": GUARDS_FILE}
        # first the fallback: a model that cannot answer fails the build before any fitting
        if config.fallback is not None:
            fitted["fallback"] = save_fallback(
                config.fallback,
                root=context.root,
                task=context.task,
                features=context.features,
                classes=context.classes,
                sample=context.train.head(20),
            )
        if config.domain is not None:
            fitted["domain"] = fit_domain(config.domain, context.profile)
        if config.anomaly is not None:
            fitted["anomaly"] = self._anomaly(config, context)
        conformal, reason = self._conformal_config(config, context)
        if conformal is not None:
            from slipway.guards.calibration import fit_conformal

            assert context.target is not None
            assert context.validation is not None
            fitted["conformal"] = fit_conformal(
                conformal,
                context.runner,
                task=context.task,
                features=context.features,
                target=context.target,
                calibration=context.validation,
            )
        elif reason is not None:
            summary["conformal_skipped"] = reason
        if config.output is not None:
            output = fit_output(config.output, context.profile, context.task)
            if output is not None:
                fitted["output"] = output
        target = context.root / GUARDS_FILE
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(json.dumps(fitted, sort_keys=True, indent=1, allow_nan=False).encode() + b"\n")
        summary["guards"] = [name for name in ("domain", "anomaly", "conformal", "output") if name in fitted]
        summary["policies"] = {name: fitted[name]["policy"] for name in summary["guards"]}
        summary["fallback"] = (
            "rule" if "rule" in fitted.get("fallback", {}) else ("model" if "fallback" in fitted else None)
        )
        return summary

    def _anomaly(self, config: GuardsConfig, context: BuildContext) -> dict[str, Any]:
        assert config.anomaly is not None
        assert context.profile is not None
        assert context.train is not None
        numeric = tuple(f.name for f in context.profile.features if f.is_numeric)
        features = tuple(config.anomaly.features or numeric)
        train, held_out = context.train, context.validation
        if held_out is None or len(held_out) < 20:
            order = np.random.default_rng(0).permutation(len(train))
            cut = int(len(train) * (1 - HELD_OUT_SHARE))
            train, held_out = train.iloc[order[:cut]], train.iloc[order[cut:]]
        if len(train) < 10 or len(held_out) < 1:
            raise InvalidInputError(
                f"guards: the anomaly detector needs at least 10 training rows, got {len(train)}; "
                "give more training data or set anomaly: false"
            )
        return fit_anomaly(config.anomaly, pd.DataFrame(train), pd.DataFrame(held_out), features)

    @staticmethod
    def _conformal_config(
        config: GuardsConfig, context: BuildContext
    ) -> tuple[ConformalConfig | None, str | None]:
        """The conformal settings to calibrate with, or None and why not."""
        validation = context.validation
        usable = validation is not None and context.target is not None and context.target in validation
        if context.task == "classification" and context.classes is None:
            usable = False
        if config.conformal is not None:
            if not usable:
                raise InvalidInputError(
                    "guards: conformal prediction is calibrated on validation data with the target "
                    "(validation=..., target=...), and this build has none; add it or set conformal: false"
                )
            return config.conformal, None
        if not config.conformal_auto:
            return None, None
        if not usable:
            return None, "no validation data with the target to calibrate on"
        assert validation is not None
        if len(validation) < DEFAULT_CONFORMAL_ROWS:
            return (
                None,
                f"only {len(validation)} validation rows (the default needs {DEFAULT_CONFORMAL_ROWS})",
            )
        return ConformalConfig.model_validate({}), None


def describe_guards(section: dict[str, Any]) -> str:
    """One line for a manifest's ``guards`` section: each guard with its policy, and the fallback."""
    policies = section.get("policies") or {}
    text = ", ".join(f"{name} ({policy})" for name, policy in policies.items()) or "none"
    if section.get("fallback"):
        text += f"; fallback {section['fallback']}"
    if section.get("conformal_skipped"):
        text += f"; no conformal: {section['conformal_skipped']}"
    return text
