"""Runtime safety controls, agent side and operator side.

* :mod:`.killswitch` - the kill-switch parameter name, a cached reader for agent
  code, and what ``agentzone killswitch on|off|status`` does.
* :mod:`.circuit_breaker` - the request the agent's loop sends the circuit
  breaker state machine per step, and how to read its answer.
* :mod:`.metrics` - the EMF record an agent prints so the per-session and
  daily cost alarms see its spend.
* :mod:`.audit` - the audit record an agent prints for every tool call (the
  operations guidance's schema), with the counts the audit alarms watch.
* :mod:`.playbooks` - the incident playbooks (SSM Automation documents)
  operators run on a runaway loop, a prompt injection or a cost explosion.

The CDK side is :class:`agentzone.blueprints.safety.SafetyControls`.
"""

from .audit import AuditRecord, emit_audit
from .circuit_breaker import CircuitBreaker, Decision, decision_from_execution
from .killswitch import KillSwitch, kill_switch_parameter
from .metrics import NAMESPACE, emit_session_cost

__all__ = [
    "NAMESPACE",
    "AuditRecord",
    "CircuitBreaker",
    "Decision",
    "KillSwitch",
    "decision_from_execution",
    "emit_audit",
    "emit_session_cost",
    "kill_switch_parameter",
]
