"""The checkpoints of a session day: when each is due, from when a note may record it, and how
it stands on the timeline. Plain functions of times and settings, no database."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from telehealth.monitoring.models import Checkpoint


@dataclass(frozen=True)
class CheckpointRules:
    """The clinical reference's timings, from the settings."""

    #: Due times after the medication.
    plus_40: timedelta
    end_of_session: timedelta
    #: How long after its due time a checkpoint with no note becomes overdue, and one recorded
    #: after then is late.
    grace: timedelta
    #: +40 min may be recorded from this long after the medication; end-of-session from this
    #: long before its due time.
    plus_40_opens: timedelta
    end_of_session_opens_early: timedelta

    @classmethod
    def of(cls, config: Mapping[str, Any]) -> CheckpointRules:
        return cls(
            plus_40=timedelta(minutes=config["CHECKPOINT_PLUS_40_MINUTES"]),
            end_of_session=timedelta(minutes=config["CHECKPOINT_END_OF_SESSION_MINUTES"]),
            grace=timedelta(minutes=config["CHECKPOINT_GRACE_MINUTES"]),
            plus_40_opens=timedelta(minutes=config["CHECKPOINT_PLUS_40_OPENS_MINUTES"]),
            end_of_session_opens_early=timedelta(
                minutes=config["CHECKPOINT_END_OF_SESSION_OPENS_EARLY_MINUTES"]
            ),
        )


def due_times(
    scheduled_start: datetime, taken: datetime | None, rules: CheckpointRules
) -> dict[Checkpoint, datetime | None]:
    """Pre-session is due at the scheduled start, or at the medication if that came first (it
    is recorded before the medication); +40 min and end-of-session count from
    `medication_taken_at` and have no due time until then."""
    if taken is None:
        return {
            Checkpoint.PRE_SESSION: scheduled_start,
            Checkpoint.PLUS_40_MIN: None,
            Checkpoint.END_OF_SESSION: None,
        }
    return {
        Checkpoint.PRE_SESSION: min(scheduled_start, taken),
        Checkpoint.PLUS_40_MIN: taken + rules.plus_40,
        Checkpoint.END_OF_SESSION: taken + rules.end_of_session,
    }


def outside_window(
    checkpoint: Checkpoint, observed_at: datetime, taken: datetime | None, rules: CheckpointRules
) -> dict[str, str] | None:
    """Why a note observed at `observed_at` cannot record `checkpoint` (field -> message), or
    None when it can. A note observed after its due time plus grace still records it: late."""
    if checkpoint is Checkpoint.PRE_SESSION:
        if taken is not None and observed_at >= taken:
            return {
                "observed_at": "The pre-session checkpoint is observed before the medication "
                f"(taken at {taken.isoformat(timespec='seconds')})."
            }
        return None
    if taken is None:
        return {
            "checkpoint": f"The {checkpoint.value} checkpoint counts from the medication: "
            "record that it was taken first."
        }
    if checkpoint is Checkpoint.PLUS_40_MIN:
        opens = taken + rules.plus_40_opens
    else:
        opens = taken + rules.end_of_session - rules.end_of_session_opens_early
    if observed_at < opens:
        return {
            "observed_at": f"The {checkpoint.value} checkpoint's window opens at "
            f"{opens.isoformat(timespec='seconds')}."
        }
    return None


@dataclass(frozen=True)
class CheckpointStatus:
    name: Checkpoint
    due_at: datetime | None
    status: str  # pending, done, late or overdue
    note_id: uuid.UUID | None
    observed_at: datetime | None


def status_of(
    name: Checkpoint,
    due_at: datetime | None,
    recorded: tuple[uuid.UUID, datetime] | None,
    now: datetime | None,
    grace: timedelta,
) -> CheckpointStatus:
    """`recorded` is the first note that records the checkpoint (id, observed at); `now` is
    None for a session that ended without treatment, which has nothing to fall behind on."""
    if recorded is not None:
        note_id, observed_at = recorded
        late = due_at is not None and observed_at > due_at + grace
        return CheckpointStatus(name, due_at, "late" if late else "done", note_id, observed_at)
    overdue = due_at is not None and now is not None and now > due_at + grace
    return CheckpointStatus(name, due_at, "overdue" if overdue else "pending", None, None)
