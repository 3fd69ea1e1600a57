"""Settings: the process environment (pydantic-settings) and the site configuration file (TOML), validated strictly.

The site file describes one centre: its rooms, locker banks, devices and rule overrides. Unknown keys and bad values
are refused with an error naming the key (``SiteConfigError``), so a typo never silently changes behaviour.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from devices.camera.quality import BUNDLED_YUNET, YUNET_2023MAR_SHA256, QualityThresholds
from devices.kinds import KINDS, OptionsError, validate_options

Ident = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]

RoomKind = Literal[
    "waiting", "sobering", "interrogation", "inquiry", "search", "collection", "activity", "medical",
    "lawyer", "registration", "witness_waiting",
]
RoomRestriction = Literal["minors_only", "female_only", "male_only", "intoxicated_only", "guard_required"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SiteInfo(_Strict):
    id: Ident
    name: str = Field(min_length=1)
    production: bool = False
    timezone: str = "Asia/Shanghai"


class RoomConfig(_Strict):
    id: Ident
    name: str = Field(min_length=1)
    name_en: str = ""
    kind: RoomKind
    capacity: int = Field(ge=1, le=50)
    restrictions: list[RoomRestriction] = []
    recorder_id: Ident | None = None
    door_lock_id: Ident | None = None
    panic_button_id: Ident | None = None


class LockerBank(_Strict):
    """One lock-control board: ``channels`` compartments at ``address`` on the bus device ``bus``."""

    bus: Ident
    address: int = Field(ge=0, le=15)
    channels: int = Field(ge=1, le=16)  # a KR-CU16 board; no public CU48 frames were found
    size: Literal["small", "medium", "large"] = "medium"
    latch_polarity: Literal["high_is_open", "low_is_open"] = "low_is_open"  # KR-CU16: hook bit set = locked
    id_prefix: str = Field(default="", pattern=r"^[a-z0-9-]{0,16}$")


class DeviceConfig(_Strict):
    """One device. ``kind`` and ``options`` are checked against the one table of device kinds (``devices/kinds.py``):
    an unknown kind or option, or a bad value, is refused here (``check-config``), never skipped at run time."""

    id: Ident
    kind: str
    url: str = Field(min_length=1)
    room_id: Ident | None = None
    required: bool = True
    options: dict[str, Any] = {}

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, kind: str) -> str:
        if kind not in KINDS:
            raise ValueError(f"未知的设备类型 / unknown device kind {kind!r} (known: {', '.join(sorted(KINDS))})")
        return kind

    @field_validator("options")
    @classmethod
    def _options_fit_kind(cls, options: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        kind = info.data.get("kind")
        if isinstance(kind, str) and kind in KINDS:  # an unknown kind is reported on its own key
            validate_options(kind, options)  # OptionsError names each bad key; parse_site puts it under options.
        return options


class MqttConfig(_Strict):
    url: str = "mqtt://127.0.0.1:1883"
    username: str | None = None
    password_file: Path | None = None
    tls_ca_file: Path | None = None
    # <dir>/<device id>.key from `devices credentials`: the keys a device's signed replies are checked with
    device_keys_dir: Path | None = None


class RuleOverride(_Strict):
    """A site's override of one legal-clock row (hours), e.g. when local regulation is stricter."""

    basis: str
    base_hours: float | None = Field(default=None, gt=0, le=72)
    max_hours: float | None = Field(default=None, gt=0, le=72)

    @field_validator("basis")
    @classmethod
    def _known(cls, basis: str) -> str:
        from .domain.rules import DEFAULT_CLOCKS

        if basis not in DEFAULT_CLOCKS:
            raise ValueError(f"unknown legal basis {basis!r} (known: {', '.join(DEFAULT_CLOCKS)})")
        return basis

    @field_validator("base_hours", "max_hours")
    @classmethod
    def _only_shortens(cls, hours: float | None, info: ValidationInfo) -> float | None:
        """A site may make a statutory limit stricter, never longer: the law's hours are maxima."""
        from .domain.rules import DEFAULT_CLOCKS

        rule = DEFAULT_CLOCKS.get(info.data.get("basis", ""))
        if hours is None or rule is None:
            return hours
        limit = rule.base_hours if info.field_name == "base_hours" else rule.max_hours
        if hours > limit:
            raise ValueError(f"{hours:g} h would lengthen the statutory {limit:g} h of {rule.basis} "
                             f"({rule.source[:40]}…); a site may only shorten it")
        return hours


class TimingConfig(_Strict):
    warning_marks_minutes: list[int] = [120, 60, 30]
    overdue_repeat_minutes: int = Field(default=15, ge=1)
    welfare_interval_minutes: int = Field(default=30, ge=5, le=120)
    welfare_interval_intoxicated_minutes: int = Field(default=15, ge=5, le=60)
    alarm_escalation_minutes: int = Field(default=5, ge=1, le=120)
    secure_area_cap_hours: float = Field(default=24, gt=0, le=72)
    kiosk_idle_minutes: int = Field(default=5, ge=1, le=60)
    session_idle_minutes: int = Field(default=30, ge=1, le=480)
    session_absolute_hours: float = Field(default=12, gt=0, le=24)
    device_offline_grace_s: float = Field(default=10, ge=0, le=600)
    # 《公安机关涉案财物管理若干规定》art. 10: seized property reaches the property custodian within 24 h
    case_property_transfer_hours: float = Field(default=24, gt=0, le=240)
    # how long a pending approval waits for a supervisor, and a granted one for its step (services/approvals.py)
    approval_expiry_minutes: int = Field(default=30, ge=1, le=720)
    daily_report_hour: int | None = Field(default=None, ge=0, le=23)  # local hour of the daily report; None: off
    # a new summons on the same case within this time of the last one ending needs an approval (连续传唤)
    repeated_summons_hours: float = Field(default=24, ge=0, le=168)
    # what "at once / promptly" means for notifying family or a minor's guardian (services/notifications.py)
    notify_promptly_hours: float = Field(default=2, gt=0, le=24)


class SyncConfig(_Strict):
    """Central platform sync (README "Central platform sync"). The key file is 0600 and never in the repo."""

    platform_url: str | None = None  # the platform's batch endpoint; https, or http only to a loopback host
    key_file: Path | None = None
    site_key_id: str = Field(default="k1", pattern=r"^[A-Za-z0-9._-]{1,64}$")
    batch_size: int = Field(default=500, ge=1, le=5000)
    include_identity_numbers: bool = False  # only where the platform is entitled to them
    retry_base_seconds: float = Field(default=1.0, gt=0, le=60)
    retry_cap_seconds: float = Field(default=300.0, gt=0, le=3600)
    request_timeout_seconds: float = Field(default=10.0, gt=0, le=300)  # well under lease_seconds
    lease_seconds: float = Field(default=30.0, ge=2, le=600)
    poll_seconds: float = Field(default=2.0, gt=0, le=60)

    @model_validator(mode="after")
    def _endpoint(self) -> SyncConfig:
        if self.platform_url is None:
            return self
        from urllib.parse import urlsplit

        url = urlsplit(self.platform_url)
        if url.scheme not in ("https", "http") or not url.hostname:
            raise ValueError("sync.platform_url must be an http(s) URL")
        if url.scheme == "http" and url.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("sync.platform_url: plain http is allowed only to a loopback host; use https")
        if self.key_file is None:
            raise ValueError("sync.key_file is required when sync.platform_url is set")
        if self.retry_cap_seconds < self.retry_base_seconds:
            raise ValueError("sync.retry_cap_seconds must be at least retry_base_seconds")
        return self


class CaptureConfig(_Strict):
    """Face capture (人像采集): the quality gates' limits, the capture window, and the face detector.

    ``detector = "yunet"`` (the default) uses ``model_path`` when given (resolved against the site file's folder),
    else the YuNet model bundled in the repository; ``detector = "haar"`` uses the Haar cascade of the OpenCV wheel.
    """

    thresholds: QualityThresholds = QualityThresholds()
    window_s: float = Field(default=3.0, gt=0, le=30)
    detector: Literal["yunet", "haar"] = "yunet"
    model_path: Path | None = None
    model_sha256: str = Field(default=YUNET_2023MAR_SHA256, pattern=r"^[0-9a-f]{64}$")

    @model_validator(mode="after")
    def _model_only_for_yunet(self) -> CaptureConfig:
        if self.detector == "haar" and self.model_path is not None:
            raise ValueError('capture.model_path names a YuNet model: it needs detector = "yunet"')
        return self

    @property
    def model_file(self) -> Path | None:
        """The YuNet model to load (the configured one, else the bundled one); None for the Haar cascade."""
        if self.detector == "haar":
            return None
        return self.model_path or BUNDLED_YUNET


class SecurityConfig(_Strict):
    """Sign-in policy. ``kiosk_enrolment = "optional"`` (demo and test benches only) admits an unenrolled kiosk id;
    an enrolled one must still present its token. ``staff_card_login`` enables card + PIN sign-in where the site
    has staff card readers."""

    kiosk_enrolment: Literal["required", "optional"] = "required"
    staff_card_login: bool = False
    # custody staff see the centre only while a duty on the roster runs (services/duty.py); off by default so a
    # site without a roster keeps working, on wherever supervisors keep one
    custody_on_duty: bool = False


class ApprovalsConfig(_Strict):
    """Who holds each approving level the law names (e.g. 继续盘问 to 48 h: a county-level organ, People's Police Law
    art. 9). A grant that says a level must name one listed here; the approval records its holder."""

    levels: dict[str, str] = {"county": "县级以上公安机关负责人"}


class TlsConfig(_Strict):
    """HTTPS for the API and UI (README "Security"). ``uvicorn``: the controller serves TLS itself with the site's
    certificate; ``reverse_proxy``: the shipped nginx config (``deploy/nginx/hcc-controller.conf``) terminates TLS
    on this PC and the controller listens on loopback behind it; ``none``: plain HTTP, demo and test benches only.
    HSTS is sent on every HTTPS response."""

    mode: Literal["none", "uvicorn", "reverse_proxy"] = "none"
    cert_file: Path | None = None
    key_file: Path | None = None
    hsts_max_age: int = Field(default=31536000, ge=300)

    @model_validator(mode="after")
    def _files(self) -> TlsConfig:
        if self.mode == "uvicorn" and (self.cert_file is None or self.key_file is None):
            raise ValueError("tls: mode \"uvicorn\" needs cert_file and key_file")
        return self


class SafeguardsConfig(_Strict):
    """Site policy for a vulnerable subject's interview (services/interview_safeguards.py). ``breath_test``: an
    intoxicated subject is interviewed only after a breath reading below ``breath_threshold_mg_100ml`` (GB 19522:
    20 mg/100 ml is where drinking starts to count). ``adult_presence_window_s``: how recently the appropriate
    adult's visitor tag must have been reported in the interview room."""

    breath_test: bool = True
    breath_threshold_mg_100ml: float = Field(default=20, gt=0, le=200)
    adult_presence_window_s: int = Field(default=300, ge=10, le=3600)


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def production_problems(site: SiteConfig) -> list[str]:
    """What a production site may not do: serve plain HTTP, or talk to a remote broker anonymously or in clear."""
    from urllib.parse import urlsplit

    problems = []
    if site.tls.mode == "none":
        problems.append("tls.mode: a production site serves HTTPS (\"uvicorn\" with its certificate, or "
                        "\"reverse_proxy\")")
    broker = urlsplit(site.mqtt.url)
    if broker.hostname not in LOOPBACK_HOSTS:
        if not site.mqtt.username or site.mqtt.password_file is None:
            problems.append("mqtt: a broker off this PC needs username and password_file")
        if broker.scheme != "mqtts":
            problems.append("mqtt.url: a broker off this PC needs TLS (mqtts://)")
    elif not site.mqtt.username or site.mqtt.password_file is None:
        # The broker on this PC also serves the devices on the centre's network: a production broker has no
        # anonymous clients (`devices credentials` issues the accounts and the ACL), the controller's included.
        problems.append("mqtt: a production site signs in to its broker (username and password_file from "
                        "`devices credentials`)")
    if site.mqtt.device_keys_dir is None:
        # Without the devices' keys a recorder's confirmation could not be checked, and a forged one would start
        # an interview with no recording behind it (rule 3).
        problems.append("mqtt.device_keys_dir: a production site checks its recorders' signed confirmations "
                        "(the keys/ folder of `devices credentials`)")
    return problems


class StorageLocation(_Strict):
    """Where case property (涉案财物) or case files (卷宗) are kept: an evidence locker or file cabinet that is a
    compartment of a locker bank (``locker_id``, opened by the lock board only for a recorded handover), or a
    storage room without a lock we drive."""

    id: Ident
    name: str = Field(min_length=1)
    name_en: str = ""
    kind: Literal["evidence_locker", "storage_room", "file_cabinet"]
    holds: Literal["case_property", "case_file"] = "case_property"
    locker_id: str | None = None


class WelfareConfig(_Strict):
    """Meals, the night's rest and welfare checks (README "Welfare"). The law (《刑事诉讼法》第119条第3款) requires
    food and necessary rest without fixing figures: every default here is site policy. Welfare-check intervals by
    risk (minutes); the shortest risk present in a room applies, else ``timing.welfare_interval_minutes`` (and
    ``timing.welfare_interval_intoxicated_minutes`` for an intoxicated subject)."""

    meal_interval_hours: float = Field(default=6, ge=1, le=12)
    night_rest_start: str = Field(default="22:00", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    night_rest_end: str = Field(default="06:00", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    night_rest_min_hours: float = Field(default=6, ge=1, le=12)
    check_minor_minutes: int = Field(default=15, ge=5, le=120)
    check_ill_minutes: int = Field(default=15, ge=5, le=120)
    check_injured_minutes: int = Field(default=15, ge=5, le=120)
    check_pregnant_minutes: int = Field(default=15, ge=5, le=120)
    check_self_harm_risk_minutes: int = Field(default=10, ge=5, le=120)
    # a checker's tag counts as in the room when a reader reported it there within this many seconds
    presence_window_s: int = Field(default=120, ge=5, le=900)

    @model_validator(mode="after")
    def _window(self) -> WelfareConfig:
        if self.night_rest_start == self.night_rest_end:
            raise ValueError("welfare: night_rest_start and night_rest_end must differ")
        return self


class WitnessConfig(_Strict):
    """The light path of witnesses and victims (README "Witnesses and victims"). ``security_check``: what the site
    requires before a witness or victim goes on to their waiting room, an interview or the exit: ``"light"`` (the
    default: a gate or handheld check, recorded as light, with the same-sex rule), ``"full"`` (the suspects' check,
    recorded as full), or ``"none"`` (no check required; one may still be recorded)."""

    security_check: Literal["none", "light", "full"] = "light"


class BridgeConfig(_Strict):
    """Where the site's devices run (README, "Processes"): ``inprocess`` on the API's event loop (the devicebus
    owns the adapters), or ``process`` in the device bridge (``python -m controller.bridge``), which the controller
    starts and restarts itself unless ``supervise = false`` (production: ``hcc-bridge.service``)."""

    mode: Literal["inprocess", "process"] = "inprocess"
    supervise: bool = True
    command_timeout_s: float = Field(default=15.0, gt=0, le=120)
    # The bridge's CPU priority below the API's (Unix niceness, 0 = the same): when the PC is short of CPU a tap
    # on a kiosk is answered first and the 10 Hz wristband reports wait a few milliseconds. hcc-bridge.service
    # sets the same with ``Nice=``.
    nice: int = Field(default=5, ge=0, le=19)


class SiteConfig(_Strict):
    site: SiteInfo
    rooms: list[RoomConfig]
    locker_banks: list[LockerBank] = []
    devices: list[DeviceConfig] = []
    mqtt: MqttConfig = MqttConfig()
    timing: TimingConfig = TimingConfig()
    rules: list[RuleOverride] = []
    sync: SyncConfig = SyncConfig()
    capture: CaptureConfig = CaptureConfig()
    security: SecurityConfig = SecurityConfig()
    approvals: ApprovalsConfig = ApprovalsConfig()
    tls: TlsConfig = TlsConfig()
    storage_locations: list[StorageLocation] = []
    welfare: WelfareConfig = WelfareConfig()
    safeguards: SafeguardsConfig = SafeguardsConfig()
    witnesses: WitnessConfig = WitnessConfig()
    bridge: BridgeConfig = BridgeConfig()

    @model_validator(mode="after")
    def _references(self) -> SiteConfig:
        if self.site.production and self.security.kiosk_enrolment != "required":
            raise ValueError("security.kiosk_enrolment: a production site requires enrolled kiosks")
        if self.site.production and (problems := production_problems(self)):
            raise ValueError("; ".join(problems))
        room_ids = [r.id for r in self.rooms]
        _unique("rooms", room_ids)
        device_ids = [d.id for d in self.devices]
        _unique("devices", device_ids)
        devices = {d.id: d for d in self.devices}
        for i, room in enumerate(self.rooms):
            for attr, kind in (("recorder_id", "recorder"), ("door_lock_id", "door_lock"),
                               ("panic_button_id", "panic_button")):
                ref = getattr(room, attr)
                if ref is not None and (ref not in devices or devices[ref].kind != kind):
                    raise ValueError(f"rooms.{i}.{attr}: no {kind} device with id {ref!r}")
        for i, dev in enumerate(self.devices):
            if dev.room_id is not None and dev.room_id not in room_ids:
                raise ValueError(f"devices.{i}.room_id: unknown room {dev.room_id!r}")
        seen: set[tuple[str, int]] = set()
        for i, bank in enumerate(self.locker_banks):
            if bank.bus not in devices or devices[bank.bus].kind != "lock_board":
                raise ValueError(f"locker_banks.{i}.bus: no lock_board device with id {bank.bus!r}")
            if (bank.bus, bank.address) in seen:
                raise ValueError(f"locker_banks.{i}.address: board {bank.address} on {bank.bus} listed twice")
            seen.add((bank.bus, bank.address))
        _unique("storage_locations", [loc.id for loc in self.storage_locations])
        compartments = {lid for lid, _b, _c in self.locker_ids()}
        for i, loc in enumerate(self.storage_locations):
            if loc.kind != "storage_room" and loc.locker_id is None:
                raise ValueError(f"storage_locations.{i}.locker_id: a {loc.kind} needs its locker compartment")
            if loc.locker_id is not None and loc.locker_id not in compartments:
                raise ValueError(f"storage_locations.{i}.locker_id: no locker {loc.locker_id!r} in locker_banks")
        _unique("storage_locations.locker_id", [loc.locker_id for loc in self.storage_locations if loc.locker_id])
        return self

    def locker_ids(self) -> list[tuple[str, LockerBank, int]]:
        """Every compartment as (locker id, bank, channel); ids are stable: ``<prefix or b{addr}>-<channel>``."""
        out = []
        for bank in self.locker_banks:
            prefix = bank.id_prefix or f"{bank.bus}-b{bank.address}"
            for ch in range(bank.channels):
                out.append((f"{prefix}-{ch + 1:02d}", bank, ch))
        return out

    def room(self, room_id: str) -> RoomConfig | None:
        return next((r for r in self.rooms if r.id == room_id), None)

    def storage(self, location_id: str) -> StorageLocation | None:
        return next((loc for loc in self.storage_locations if loc.id == location_id), None)


def _unique(what: str, ids: list[str]) -> None:
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ValueError(f"{what}: duplicate id(s) {', '.join(dupes)}")


class SiteConfigError(ValueError):
    """The site file is unreadable or invalid. ``problems`` lists ``(key path, message)``."""

    def __init__(self, path: Path | str, problems: list[tuple[str, str]]) -> None:
        self.path = str(path)
        self.problems = problems
        lines = "; ".join(f"{k}: {m}" for k, m in problems)
        super().__init__(f"站点配置无效 / invalid site config {self.path}: {lines}")


def load_site(path: Path | str) -> SiteConfig:
    p = Path(path)
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SiteConfigError(p, [("(file)", "not found")]) from exc
    except tomllib.TOMLDecodeError as exc:
        raise SiteConfigError(p, [("(syntax)", str(exc))]) from exc
    site = parse_site(raw, p)
    model = site.capture.model_path
    if model is not None and not model.is_absolute():
        site = site.model_copy(update={"capture": site.capture.model_copy(
            update={"model_path": (p.resolve().parent / model).resolve()})})
    if site.capture.model_path is not None and not site.capture.model_path.is_file():
        raise SiteConfigError(p, [("capture.model_path", f"no such file: {site.capture.model_path}")])
    return site


def parse_site(raw: dict[str, Any], source: Path | str = "<memory>") -> SiteConfig:
    try:
        return SiteConfig.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key = ".".join(str(x) for x in err["loc"]) or "(root)"
            msg = err["msg"]
            cause = (err.get("ctx") or {}).get("error")
            if isinstance(cause, OptionsError):  # one problem per bad option, its full key named
                problems += [(f"{key}.{p.key}", f"{p.message_zh} / {p.message_en}") for p in cause.problems]
                continue
            if err["type"] == "extra_forbidden":
                msg = "unknown key"
            elif err["type"] == "value_error":
                msg = msg.removeprefix("Value error, ")
            problems.append((key, msg))
        raise SiteConfigError(source, problems) from exc


class Settings(BaseSettings):
    """Process settings from the environment (prefix ``HCC_``). Secrets come from files, never from the repo."""

    model_config = SettingsConfigDict(env_prefix="HCC_", extra="ignore")

    site_file: Path = Path("site/demo-site.toml")
    data_dir: Path = Path("var/data")
    database_url: str | None = None  # default: sqlite file in data_dir
    host: str = "127.0.0.1"
    port: int = 8080
    fake_clock: bool = False
    fake_clock_running: bool = False  # the fake clock follows the wall clock plus advances (demo)
    secret_key_file: Path | None = None
    metrics_token_file: Path | None = None  # a remote Prometheus's bearer token (0600); loopback needs none
    log_level: str = "INFO"
    bench_endpoints: bool = False  # serves the bare-insert baseline of `make bench`; never on a real site
    # Proxies whose X-Forwarded-For is believed (comma-separated addresses or CIDRs); none by default.
    trusted_proxies: str = ""
    bridge_mode: Literal["inprocess", "process"] | None = None  # overrides the site's ``[bridge] mode`` (tests)
    bridge_supervise: bool | None = None  # overrides ``[bridge] supervise``

    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'controller.db').resolve()}"
