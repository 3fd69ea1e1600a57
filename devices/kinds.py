"""The one table of device kinds: for each kind the site may list, its adapter (module and class, imported lazily),
how the registry builds it (its link style), its default baud rate (serial kinds) and its options model.

The registry builds adapters from it, the site configuration validates ``kind`` and ``options`` with it (so a bad
option is refused by ``check-config`` with its key named, never skipped at run time), and ``hw_sim`` takes the serial
kinds and their baud rates from it. A new kind is one row here.

Options common to every kind are the intake's (``devices/intake.py``): ``intake_rate_per_s``, ``intake_burst`` and
``intake_queue_max``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

Style = Literal["mqtt", "serial", "camera", "none"]
STANDARD_BAUDS = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400)


class DeviceOptions(BaseModel):
    """Every kind's options: the per-device intake (rate limit and bounded queue, see ``devices/intake.py``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # A device may report this many events per second on average (``intake_burst`` at once) before its events
    # wait in its queue; a full queue folds duplicates and never drops the newest critical event.
    intake_rate_per_s: float = Field(default=2000.0, gt=0, le=100_000)
    intake_burst: int = Field(default=2000, ge=1, le=100_000)
    intake_queue_max: int = Field(default=1000, ge=8, le=100_000)


class MqttOptions(DeviceOptions):
    command_timeout_s: float = Field(default=5.0, gt=0, le=120)


class RecorderOptions(MqttOptions):
    heartbeat_limit_s: float = Field(default=15.0, gt=0, le=600)  # silence after which the recorder is degraded
    heartbeat_s: float = Field(default=5.0, gt=0, le=600)  # the simulator's heartbeat period (hw_sim reads it)


class SerialOptions(DeviceOptions):
    baud: Literal[1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400] | None = None  # None: the kind's
    timeout_s: float | None = Field(default=None, gt=0, le=10)  # per try; None: the adapter's default
    retries: int | None = Field(default=None, ge=0, le=10)
    reopen_max_s: float = Field(default=2.0, gt=0, le=60)


class LineOptions(SerialOptions):
    heartbeat_s: float | None = Field(default=None, ge=0, le=600)  # STAT? period; 0 turns it off


class BoardOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    address: int = Field(ge=0, le=15)
    channels: int = Field(default=16, ge=1, le=16)
    latch_polarity: Literal["high_is_open", "low_is_open"] = "low_is_open"


class LockBoardOptions(SerialOptions):
    poll_s: float = Field(default=0.5, ge=0, le=60)  # 0 turns the poll off
    boards: list[BoardOptions] = []  # only when no locker bank names the bus (the site's banks win)


class IdReaderOptions(SerialOptions):
    poll_s: float = Field(default=0.3, ge=0, le=10)  # 0 turns the card poll off (tests drive it)
    max_read_failures: int = Field(default=3, ge=1, le=100)


@dataclass(frozen=True, slots=True)
class Kind:
    """One kind of device: ``module``/``adapter`` name its adapter class (None: no adapter, e.g. a handheld
    detector that is only listed), ``style`` how the registry builds it, ``default_baud`` for serial kinds."""

    name: str
    module: str | None
    adapter: str | None
    style: Style
    options: type[DeviceOptions]
    default_baud: int | None = None


KINDS: Mapping[str, Kind] = {k.name: k for k in (
    Kind("wristband_reader", "devices.wristband_reader.adapter", "WristbandReaderAdapter", "mqtt", MqttOptions),
    Kind("door_lock", "devices.door_lock.adapter", "DoorLockAdapter", "mqtt", MqttOptions),
    Kind("panic_button", "devices.panic_button.adapter", "PanicButtonAdapter", "mqtt", MqttOptions),
    Kind("alarm_beacon", "devices.alarm_beacon.adapter", "AlarmBeaconAdapter", "mqtt", MqttOptions),
    Kind("recorder", "devices.recorder.adapter", "RecorderAdapter", "mqtt", RecorderOptions),
    Kind("lock_board", "devices.lock_board.adapter", "LockBoardAdapter", "serial", LockBoardOptions, 19200),
    Kind("id_reader", "devices.id_reader.adapter", "IdReaderAdapter", "serial", IdReaderOptions, 115200),
    Kind("metal_gate", "devices.metal_gate.adapter", "MetalGateAdapter", "serial", LineOptions, 9600),
    Kind("breathalyser", "devices.breathalyser.adapter", "BreathalyserAdapter", "serial", LineOptions, 9600),
    Kind("capture_camera", "devices.camera.adapter", "CameraAdapter", "camera", DeviceOptions),
    Kind("handheld_detector", None, None, "none", DeviceOptions),
)}


def kind(name: str) -> Kind:
    """The row of ``name``; LookupError for a kind the table does not list."""
    try:
        return KINDS[name]
    except KeyError:
        raise LookupError(f"unknown device kind {name!r}") from None


def serial_bauds() -> dict[str, int]:
    """Serial kinds and their default baud rates (what ``hw_sim`` paces its ptys at when the site names none)."""
    return {k.name: k.default_baud for k in KINDS.values() if k.style == "serial" and k.default_baud}


@dataclass(frozen=True, slots=True)
class OptionProblem:
    """One bad option: ``key`` is its path inside ``options`` (``baud``, ``boards.0.address``)."""

    key: str
    message_zh: str
    message_en: str


class OptionsError(ValueError):
    """A device's options do not fit its kind's model; ``problems`` names each bad key."""

    def __init__(self, kind_name: str, problems: list[OptionProblem]) -> None:
        self.kind_name = kind_name
        self.problems = problems
        text = "; ".join(f"{p.key}: {p.message_zh} / {p.message_en}" for p in problems)
        super().__init__(f"{kind_name} options: {text}")


def validate_options(kind_name: str, options: Mapping[str, Any] | None) -> DeviceOptions:
    """The options of one device checked against its kind's model: OptionsError (naming each key, in Chinese and
    English) for an unknown key or a bad value; LookupError for an unknown kind."""
    model = kind(kind_name).options
    try:
        return model.model_validate(dict(options or {}))
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key = ".".join(str(x) for x in err["loc"]) or "(options)"
            if err["type"] == "extra_forbidden":
                zh, en = f"{kind_name} 设备没有此选项", f"no such option for a {kind_name}"
            elif err["type"] == "missing":
                zh, en = "缺少必填选项", "required option missing"
            else:
                zh, en = "选项取值无效", str(err["msg"])
            problems.append(OptionProblem(key, zh, en))
        raise OptionsError(kind_name, problems) from None
