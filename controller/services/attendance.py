"""Who is in an interview: an officer, an appropriate adult or an interpreter attends one interview at a time.

《刑事诉讼法》第118条 requires the two (or more) investigators to conduct the interrogation themselves, and
第281条 / 《公安机关办理刑事案件程序规定》第323条 the appropriate adult to be present; a person cannot be present in
two rooms at once, so an interview naming someone already in another unfinished (active or paused) interview is
refused. The room itself is checked by ``rules.check_interview`` (ROOM_OCCUPIED).
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from ..domain.errors import RuleViolation
from ..store.tables import Interview
from .commands import StartInterview


def _same_person(a: str | None, b: str | None) -> bool:
    # names as typed: ignore spaces (full- or half-width) people put inside Chinese names
    def norm(s: str) -> str:
        return "".join(s.split()).replace("\u3000", "").casefold()

    return a is not None and b is not None and norm(a) == norm(b) != ""


def check_attendance(session: Session, cmd: StartInterview) -> None:
    """Refuses an interview whose officer, appropriate adult or interpreter is in another unfinished interview."""
    ongoing = session.exec(select(Interview).where(col(Interview.state) != "ended")).all()
    wanted = list(dict.fromkeys(cmd.officer_ids))
    for iv in ongoing:
        busy = [o for o in wanted if o in (iv.officer_ids or [])]
        if busy:
            raise RuleViolation("OFFICER_IN_ANOTHER_INTERVIEW", "办案民警正在另一讯问/询问中，不能同时参加两场",
                                "an officer is already in another interview", officer_ids=busy,
                                interview_id=iv.id, room_id=iv.room_id)
        adult = (iv.appropriate_adult or {}).get("name")
        if cmd.appropriate_adult is not None and _same_person(cmd.appropriate_adult.name, adult):
            raise RuleViolation("APPROPRIATE_ADULT_IN_ANOTHER_INTERVIEW",
                                "该法定代理人/合适成年人正在另一讯问/询问中到场",
                                "the appropriate adult is already present at another interview",
                                interview_id=iv.id, room_id=iv.room_id)
        if _same_person(cmd.interpreter, iv.interpreter):
            raise RuleViolation("INTERPRETER_IN_ANOTHER_INTERVIEW", "该翻译人员正在另一讯问/询问中",
                                "the interpreter is already in another interview",
                                interview_id=iv.id, room_id=iv.room_id)
