"""Names the evaluation pipeline shares with the team's command, the gate Lambda, CI and the data lake.

Changing one of these changes where a run reads or writes, or what consumers match on.
"""

from __future__ import annotations

from ... import naming

EVENT_SOURCE = "agentzone.evaluation"
PASSED_DETAIL_TYPE = "AgentZone Evaluation Passed"
FAILED_DETAIL_TYPE = "AgentZone Evaluation Failed"
# Every canary run, pass or fail: the data lake's feedback connector forwards these (docs/data-lake.md).
CANARY_DETAIL_TYPE = "AgentZone Canary Signal"
HARNESS_PREFIX = "harness/"
DATASETS_PREFIX = "datasets/"
FEEDBACK_PREFIX = "feedback/"
# Where each run's metrics land in the results bucket, by mode.
OUTPUT_PREFIXES = {"release": "runs", "canary": "canary"}
BEDROCK_OUTPUT_PREFIX = "bedrock"
# Bedrock evaluation job service roles are named <prefix>-<tenant>-<environment>.
EVALUATION_JOB_ROLE_PREFIX = naming.EVALUATION_ROLE_PREFIX
# Where the team's command finds the golden set and writes its metrics inside the build.
METRICS_FILE = "/tmp/agentzone/metrics.json"
DATASET_DIR = "/tmp/agentzone/dataset"
# The gate Lambda ships only these (standard library + boto3).
GATE_FILES = (
    "agentzone/__init__.py",
    "agentzone/evaluation/__init__.py",
    "agentzone/evaluation/gate.py",
    "agentzone/evaluation/record.py",
    "agentzone/handlers/__init__.py",
    "agentzone/handlers/eval_gate.py",
)
# Config metric names AgentCore online evaluation has a built-in evaluator for.
ONLINE_EVALUATORS = {
    "coherence": "COHERENCE",
    "conciseness": "CONCISENESS",
    "correctness": "CORRECTNESS",
    "faithfulness": "FAITHFULNESS",
    "goal_success_rate": "GOAL_SUCCESS_RATE",
    "harmfulness": "HARMFULNESS",
    "helpfulness": "HELPFULNESS",
    "instruction_following": "INSTRUCTION_FOLLOWING",
    "following_instructions": "INSTRUCTION_FOLLOWING",
    "refusal": "REFUSAL",
    "relevance": "RESPONSE_RELEVANCE",
    "response_relevance": "RESPONSE_RELEVANCE",
    "stereotyping": "STEREOTYPING",
    "tool_parameter_accuracy": "TOOL_PARAMETER_ACCURACY",
    "tool_selection_accuracy": "TOOL_SELECTION_ACCURACY",
}
# Where AgentCore online evaluation reads agent spans (transaction search) and writes its results.
SPANS_LOG_GROUP = "aws/spans"
ONLINE_RESULTS_LOG_GROUPS = "/aws/bedrock-agentcore/evaluations/"
