"""A correction's value is held to the same field model as the entry it corrects: the subject's name to
``SubjectIn.name``, the case number to ``CaseIn.case_no``, the flags to ``Flags`` and so on. Without this a
correction could store what registration refuses (a name of two million characters, a null name, an object as a
case number)."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel, ValidationError, create_model

from ..domain.errors import invalid
from .commands import CaseIn, CollectionRecord, Findings, Flags, SubjectIn

# field -> (model, attribute); attribute None: the value is a (partial) object of that model
FIELD_MODELS: dict[str, tuple[type[BaseModel], str | None]] = {
    "subject.name": (SubjectIn, "name"),
    "subject.address": (SubjectIn, "address"),
    "subject.ethnicity": (SubjectIn, "ethnicity"),
    "case.summary": (CaseIn, "summary"),
    "case.case_no": (CaseIn, "case_no"),
    "flags": (Flags, None),
    "search.findings": (Findings, None),
    "collection.notes": (CollectionRecord, "notes"),
    "subject.sex": (SubjectIn, "sex"),
    "subject.birth_date": (SubjectIn, "birth_date"),
}


@cache
def _one_field_model(model: type[BaseModel], attr: str) -> type[BaseModel]:
    info = model.model_fields[attr]
    annotation: Any = info.annotation  # the field's metadata (lengths, patterns) travels in ``info``
    built: type[BaseModel] = create_model(f"{model.__name__}_{attr}", __config__=model.model_config,
                                          value=(annotation, info))
    return built


def validate_value(field: str, value: Any) -> Any:
    """The value, validated (and normalised, e.g. stripped) as registration would; refuses with INVALID_VALUE."""
    model, attr = FIELD_MODELS[field]
    try:
        if attr is None:
            if not isinstance(value, dict):
                raise invalid("INVALID_VALUE", "该项须为对象", "this field takes an object", field=field)
            # only the keys given are corrected; each is checked as the model checks it
            return model.model_validate(value).model_dump(exclude_unset=True)
        return _one_field_model(model, attr).model_validate({"value": value}).model_dump()["value"]
    except ValidationError as exc:
        errors = [{"field": ".".join(str(x) for x in e["loc"] if x != "value") or field, "type": e["type"],
                   "message": e["msg"]} for e in exc.errors()]
        raise invalid("INVALID_VALUE", "更正的内容不符合该项的格式要求", "the corrected value does not fit the field",
                      field=field, errors=errors) from None
