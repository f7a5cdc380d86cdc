"""The promotion gate: thresholds, regression against the approved baseline, and a readable report.

Pure standard library: the pipeline's gate Lambda, the canary and ``agentzone eval
gate`` all decide with :func:`evaluate`, so a version the pipeline passed is the
version the CLI passes (given the same baseline).

Scores are 0..1, higher is better. A version passes when every metric named in
the thresholds is present, reaches its threshold, and has dropped by no more than
``max_regression`` against the approved baseline (when there is one). Metrics the
thresholds do not name are reported but never gate.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

PASS = "pass"
BELOW_THRESHOLD = "below_threshold"
REGRESSED = "regressed"
MISSING = "missing"
# Scores are compared after rounding: 0.1 + 0.2 must reach a 0.3 threshold.
_PRECISION = 9
METRIC_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class InvalidMetrics(ValueError):
    """A metrics document or threshold set that cannot be gated (not 0..1 numbers, bad names)."""


@dataclass(frozen=True)
class Check:
    """One gated metric: its score, threshold, baseline score and verdict."""

    metric: str
    score: float | None
    threshold: float
    baseline: float | None
    max_regression: float
    status: str

    @property
    def passed(self) -> bool:
        return self.status == PASS

    @property
    def drop(self) -> float | None:
        """How far the score fell below the baseline (negative: it improved)."""
        if self.score is None or self.baseline is None:
            return None
        return round(self.baseline - self.score, _PRECISION)

    def describe(self) -> str:
        score = "missing" if self.score is None else f"{self.score:.3f}"
        base = "" if self.baseline is None else f", baseline {self.baseline:.3f}"
        if self.status == MISSING:
            why = "the evaluation reported no score for it"
        elif self.status == BELOW_THRESHOLD:
            why = f"below the threshold {self.threshold:.3f} by {self.threshold - (self.score or 0):.3f}"
        elif self.status == REGRESSED:
            why = f"dropped {self.drop:.3f} against the baseline, more than the allowed {self.max_regression:.3f}"
        else:
            why = "ok"
        return f"{self.metric}: {score} (threshold {self.threshold:.3f}{base}) {why}"


@dataclass(frozen=True)
class GateResult:
    """The verdict for one agent version."""

    agent: str
    version: str
    checks: tuple[Check, ...]
    baseline_version: str | None = None
    max_regression: float = 0.0
    extra_metrics: dict[str, float] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [check for check in self.checks if not check.passed]

    @property
    def worst_drop(self) -> float:
        """The largest drop of any gated metric against the baseline (0 without a baseline or when all improved)."""
        drops = [check.drop for check in self.checks if check.drop is not None]
        return max([0.0, *drops])

    def report(self) -> str:
        verdict = "PASSED" if self.passed else "FAILED"
        base = f"baseline {self.baseline_version}" if self.baseline_version else "no approved baseline yet"
        lines = [f"{self.agent} version {self.version}: {verdict} ({base}, max regression {self.max_regression:.3f})"]
        for check in self.checks:
            mark = "ok  " if check.passed else "FAIL"
            lines.append(f"  {mark} {check.describe()}")
        for name, score in sorted(self.extra_metrics.items()):
            lines.append(f"  info {name}: {score:.3f} (not gated)")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "version": self.version,
            "passed": self.passed,
            "baseline_version": self.baseline_version,
            "max_regression": self.max_regression,
            "worst_drop": self.worst_drop,
            "checks": [{**asdict(check), "drop": check.drop} for check in self.checks],
            "extra_metrics": dict(sorted(self.extra_metrics.items())),
            "report": self.report(),
        }


def _score(name: str, value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidMetrics(f"{what} {name!r} is {value!r}; scores are numbers from 0 to 1")
    if not 0 <= value <= 1:
        raise InvalidMetrics(f"{what} {name!r} is {value}; scores are from 0 to 1")
    return float(value)


def _scores(values: object, what: str) -> dict[str, float]:
    if not isinstance(values, Mapping):
        raise InvalidMetrics(f"{what}s must be a mapping of metric name to score, not {type(values).__name__}")
    out = {}
    for name, value in values.items():
        if not isinstance(name, str) or not METRIC_NAME.match(name):
            raise InvalidMetrics(f"{what} name {name!r} must match {METRIC_NAME.pattern} (e.g. correctness)")
        out[name] = _score(name, value, what)
    return out


def evaluate(
    metrics: Mapping[str, float],
    thresholds: Mapping[str, float],
    *,
    max_regression: float,
    baseline: Mapping[str, float] | None = None,
    baseline_version: str | None = None,
    agent: str = "",
    version: str = "",
) -> GateResult:
    """Gate ``metrics`` against ``thresholds`` and, when given, the approved ``baseline``."""
    thresholds = _scores(thresholds, "threshold")
    if not thresholds:
        raise InvalidMetrics("at least one threshold is needed to gate a version")
    metrics = _scores(metrics, "metric")
    baseline = _scores(baseline or {}, "baseline metric")
    max_regression = _score("max_regression", max_regression, "setting")
    checks = []
    for name in sorted(thresholds):
        score, threshold, base = metrics.get(name), thresholds[name], baseline.get(name)
        if score is None:
            status = MISSING
        elif round(score - threshold, _PRECISION) < 0:
            status = BELOW_THRESHOLD
        elif base is not None and round(base - score - max_regression, _PRECISION) > 0:
            status = REGRESSED
        else:
            status = PASS
        checks.append(Check(name, score, threshold, base, max_regression, status))
    extra = {name: score for name, score in metrics.items() if name not in thresholds}
    return GateResult(agent, version, tuple(checks), baseline_version if baseline else None, max_regression, extra)


# ---------------------------------------------------------------------------- metrics documents


def parse_metrics(document: str | bytes | Mapping[str, Any]) -> dict[str, float]:
    """The metrics a team's evaluation command writes: ``{"metrics": {"correctness": 0.93}}`` or the bare mapping."""
    if isinstance(document, (str, bytes)):
        try:
            document = json.loads(document)
        except ValueError as exc:
            raise InvalidMetrics(f"metrics file is not JSON: {exc}") from None
    if isinstance(document, Mapping) and isinstance(document.get("metrics"), Mapping):
        document = document["metrics"]
    return _scores(document, "metric")


# Bedrock model-evaluation (LLM-as-a-judge) built-in metrics, by the snake_case name config uses.
BEDROCK_METRICS = {
    "correctness": "Builtin.Correctness",
    "completeness": "Builtin.Completeness",
    "faithfulness": "Builtin.Faithfulness",
    "helpfulness": "Builtin.Helpfulness",
    "coherence": "Builtin.Coherence",
    "relevance": "Builtin.Relevance",
    "following_instructions": "Builtin.FollowingInstructions",
    "professional_style_and_tone": "Builtin.ProfessionalStyleAndTone",
}
_FROM_BEDROCK = {value: key for key, value in BEDROCK_METRICS.items()}


def parse_bedrock_output(lines: Iterable[str]) -> dict[str, float]:
    """Average the per-record judge scores in a Bedrock evaluation job's ``*_output.jsonl`` records.

    Each record carries ``automatedEvaluationResult.scores[]`` with ``metricName`` and
    ``result`` (already 0..1); records a judge could not score are left out of the mean.
    """
    sums: dict[str, list[float]] = {}
    for line in lines:
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise InvalidMetrics(f"evaluation output line is not JSON: {exc}") from None
        for score in (record.get("automatedEvaluationResult") or {}).get("scores", []):
            name = _FROM_BEDROCK.get(score.get("metricName"))
            value = score.get("result")
            if name is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
                sums.setdefault(name, []).append(float(value))
    return {name: round(sum(values) / len(values), _PRECISION) for name, values in sorted(sums.items())}
