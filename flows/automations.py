"""The Prefect automation newsflow ships: a run whose process died with its machine is marked Crashed.

A worker and its flow processes killed together (a lost machine) leave their runs RUNNING for good: nothing is
left to report the end, retry is refused and cancel sticks in CANCELLING. Flow runs of deployments send
heartbeat events (every PREFECT_FLOWS_HEARTBEAT_FREQUENCY s, at least 30; prefect.yaml and `newsflow serve`
set 30). The automation expects, after each heartbeat, another heartbeat or a final state within `within`
seconds; when neither comes, the server marks the run Crashed, and its retry starts it again (storing is an
upsert, so nothing is doubled). The trigger follows Prefect's "detect zombie flows" guide.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

NAME = "newsflow: crash runs whose heartbeats stopped"
HEARTBEAT_SECONDS = 30  # the frequency prefect.yaml and `newsflow serve` give flow runs (Prefect's minimum)
DEFAULT_WITHIN = 90  # three missed heartbeats at that frequency


def zombie_automation(within: int = DEFAULT_WITHIN) -> Any:
    """The automation (not yet created on a server)."""
    from prefect.automations import Automation
    from prefect.client.schemas.objects import StateType
    from prefect.events.actions import ChangeFlowRunState
    from prefect.events.schemas.automations import EventTrigger, Posture
    from prefect.events.schemas.events import ResourceSpecification

    final = {f"prefect.flow-run.{s}" for s in ("Completed", "Failed", "Cancelled", "Crashed")}
    return Automation(
        name=NAME,
        description=f"Flow runs with no heartbeat for {within} s are marked Crashed (created by newsflow).",
        trigger=EventTrigger(
            after={"prefect.flow-run.heartbeat"},
            expect={"prefect.flow-run.heartbeat", *final},
            match=ResourceSpecification({"prefect.resource.id": ["prefect.flow-run.*"]}),
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=timedelta(seconds=within),
        ),
        actions=[
            ChangeFlowRunState(
                state=StateType.CRASHED,
                name=None,
                force=False,
                message=f"No heartbeat for {within} s: the run's process is gone.",
            )
        ],
    )


def install_zombie_automation(within: int = DEFAULT_WITHIN) -> str:
    """Create the automation on the current Prefect server, replacing one of the same name; its id."""
    if within <= HEARTBEAT_SECONDS:
        raise ValueError(f"within must be longer than the heartbeat interval ({HEARTBEAT_SECONDS} s), got {within}")
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        for old in client.read_automations_by_name(name=NAME):
            client.delete_automation(old.id)
    created = zombie_automation(within).create()
    return str(created.id)
