"""Forms posted by the pages, read into pydantic models: the same models as the JSON bodies where
the form has their shape, a model of the page's own where it does not (one box for many numbers,
a box per language). A refused form shows each error next to its field.

A route takes the posted form (`PostedForm`) and validates it with `parse_form` inside the `try`
that renders the form again with its errors, so a refused form never becomes a JSON 422.

An error is shown as a sentence in the page's language, from the catalogue the JSON API's messages
come from too (`mla_core.core.messages`): never a raw code (`already_taken`) nor pydantic's English.
The page's language is set for the request by `page_language`, which every site's app depends on.
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from functools import lru_cache
from types import UnionType
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from fastapi import Depends, Request
from pydantic import AfterValidator, BaseModel, BeforeValidator, ValidationError
from starlette.datastructures import FormData

from mla_core.core import messages
from mla_core.core.errors import AppError
from mla_core.core.fields import indian_number

Model = TypeVar("Model", bound=BaseModel)


async def posted_form(request: Request) -> FormData:
    """The posted form, read once (the CSRF check reads the same)."""
    return await request.form()


PostedForm = Annotated[FormData, Depends(posted_form)]


def parse_form(form: FormData, model: type[Model]) -> Model:
    """The form as `model`: each field `model` declares, a blank one left out (so it takes the
    model's default, or is missing), a list field with every value sent (checkboxes). A model that
    allows extra fields gets the form's other fields too (the CSRF token aside). Raises pydantic's
    `ValidationError` as `model` does."""
    declared = _fields(model)
    data: dict[str, Any] = {}
    for name, many in declared.items():
        sent = [value for value in form.getlist(name) if isinstance(value, str) and value.strip()]
        if sent:
            data[name] = sent if many else sent[0]
    if model.model_config.get("extra") == "allow":
        data |= {
            key: value
            for key, value in form.items()
            if key not in declared and key != "csrf" and isinstance(value, str) and value.strip()
        }
    return model.model_validate(data)


@lru_cache(maxsize=64)
def _fields(model: type[BaseModel]) -> dict[str, bool]:
    """The form names of `model`'s fields, and whether each takes a list."""
    return {field.alias or name: _takes_many(field.annotation) for name, field in model.model_fields.items()}


def _takes_many(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _takes_many(get_args(annotation)[0])
    if origin in (Union, UnionType):
        return any(_takes_many(arg) for arg in get_args(annotation))
    return origin in (list, set, tuple, frozenset)


def split_box(value: object) -> object:
    """What was typed into one box for many values (or into several such boxes), value by value;
    anything else is left for the model to refuse."""
    texts = [value] if isinstance(value, str) else value
    if isinstance(texts, list) and all(isinstance(text, str) for text in texts):
        return " ".join(texts).replace(",", " ").split()
    return value


def split_numbers(value: object) -> object:
    """Phone numbers typed into one box (or several), each as written: between commas or new lines,
    or spaces when a number's own spaces (`+91 98765 43210`) are read as part of it: the longest run
    of words that is a number is one number. Anything else is left for the model to refuse."""
    texts = [value] if isinstance(value, str) else value
    if not (isinstance(texts, list) and all(isinstance(text, str) for text in texts)):
        return value
    numbers: list[str] = []
    for piece in re.split(r"[,;\n]", "\n".join(texts)):
        words = piece.split()
        while words:
            taken = next((n for n in range(min(len(words), _WORDS_IN_A_NUMBER), 1, -1) if _is_number(words[:n])), 1)
            numbers.append(" ".join(words[:taken]))
            words = words[taken:]
    return numbers


# The most words a number is written in (`+91 044 2345 6789`, `0 1800 425 1234`).
_WORDS_IN_A_NUMBER = 5


def _is_number(words: list[str]) -> bool:
    try:
        indian_number(" ".join(words))
    except ValueError:
        return False
    return True


# Phone numbers typed into one box, between commas, new lines or spaces (`split_numbers`).
NumbersBox = Annotated[list[str], BeforeValidator(split_numbers)]


class OnceKey(BaseModel):
    """The hidden key of a form that makes something (a complaint, a tenant), new with each blank
    form: the same form posted twice makes one."""

    idempotency_key: Annotated[str, AfterValidator(lambda key: key[:200])] | None = None


# The language of the page being answered (a request's own: set by `page_language`).
_PAGE_LANGUAGE: ContextVar[str] = ContextVar("page_language", default="en")


def set_page_language(lang: str) -> None:
    """The language the form errors of this request are written in (`field_errors`)."""
    _PAGE_LANGUAGE.set(lang)


def field_errors(exc: ValidationError | AppError, lang: str | None = None) -> dict[str, str]:
    """Errors by field name, each a sentence in `lang` (the page's language when not given), to
    show next to each field of a form."""
    lang = lang or _PAGE_LANGUAGE.get()
    if isinstance(exc, ValidationError):
        errors: dict[str, str] = {}
        for error in exc.errors():
            field = ".".join(str(p) for p in error["loc"]) or "form"
            if error["type"] in ("literal_error", "enum"):  # the page lists its choices in words
                errors.setdefault(field, messages.sentence("choose_from_list", lang) or "")
            errors.setdefault(field, messages.pydantic_sentence(error, field, lang))
        return errors
    fallback = messages.error_sentence(exc.code, exc.message, [], lang)
    errors = {
        str(d["field"]): messages.detail_sentence(d, lang) or (exc.message if lang == "en" else fallback)
        for d in exc.details
        if d.get("field")
    }
    return errors or {"form": messages.error_sentence(exc.code, exc.message, exc.details, lang)}
