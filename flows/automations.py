"""The Prefect automations newsflow ships: a run whose process died with its machine is marked Crashed; and, on
request, a notification for every run that failed or completed with failures.

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

from flows.ingest import COMPLETED_WITH_FAILURES

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

    # A final state's event carries its name: "Completed with failures" (flows.ingest) is one too.
    names = ("Completed", "Completed with failures", "Failed", "Cancelled", "Crashed")
    final = {f"prefect.flow-run.{s}" for s in names}
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


NOTIFY_NAME = "newsflow: notify on runs with failures"
NOTIFY_SUBJECT = "newsflow: {{ flow_run.name }} ({{ flow.name }}) {{ flow_run.state.name }}"
NOTIFY_BODY = (
    "Flow run {{ flow_run.name }} of {{ flow.name }} ended {{ flow_run.state.name }}: {{ flow_run.state.message }}"
)


def failures_automation(block_document_id: str) -> Any:
    """The automation (not yet created) that sends a notification through a Prefect notification block when a
    newsflow run completes with failures or fails (every input failed, or an error stopped it)."""
    from uuid import UUID

    from prefect.automations import Automation
    from prefect.events.actions import SendNotification
    from prefect.events.schemas.automations import EventTrigger, Posture
    from prefect.events.schemas.events import ResourceSpecification

    return Automation(
        name=NOTIFY_NAME,
        description="A notification for each newsflow run that failed or completed with failures (by newsflow).",
        trigger=EventTrigger(
            # The final states' own events (the run's state is then final, for the message), not FAILURES_EVENT:
            # that one is sent from inside the run, before its state is set.
            expect={f"prefect.flow-run.{COMPLETED_WITH_FAILURES}", "prefect.flow-run.Failed"},
            match=ResourceSpecification({"prefect.resource.id": "prefect.flow-run.*"}),
            # Only newsflow's flows: their names all start with "newsflow-".
            match_related=ResourceSpecification(
                {"prefect.resource.role": "flow", "prefect.resource.name": "newsflow-*"}
            ),
            posture=Posture.Reactive,
            threshold=1,
            within=timedelta(0),
        ),
        actions=[SendNotification(block_document_id=UUID(block_document_id), subject=NOTIFY_SUBJECT, body=NOTIFY_BODY)],
    )


def install_failures_automation(block: str) -> str:
    """Create the notification automation with the notification block named `block` ('slack-webhook/ops'),
    replacing one of the same name; its id. ValueError when no such block exists."""
    from prefect.blocks.core import Block
    from prefect.client.orchestration import get_client

    try:
        loaded: Any = Block.load(block)  # called outside an event loop: the block itself
    except (ValueError, KeyError) as exc:
        raise ValueError(f"no notification block {block!r} on the server ({exc})") from None
    if not hasattr(loaded, "notify") or loaded._block_document_id is None:
        raise ValueError(f"block {block!r} is not a notification block")
    with get_client(sync_client=True) as client:
        for old in client.read_automations_by_name(name=NOTIFY_NAME):
            client.delete_automation(old.id)
    created = failures_automation(str(loaded._block_document_id)).create()
    return str(created.id)
