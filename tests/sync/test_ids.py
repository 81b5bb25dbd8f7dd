"""Row ids: every form ``uuid.UUID`` reads gives the same id and its one canonical text."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync import ids
from sync.ids import canonical, uuid_of

FORMS = [str, lambda u: str(u).upper(), lambda u: u.hex, lambda u: "{" + str(u) + "}", lambda u: u.urn]


@given(st.uuids(), st.sampled_from(FORMS))
def test_every_written_form_names_the_same_id(value: uuid.UUID, form) -> None:  # type: ignore[no-untyped-def]
    text = form(value)
    for _ in range(2):  # the second answer comes from the cache and must be the same
        assert uuid_of(text) == value
        assert canonical(text) == str(value)
    assert uuid_of(value) is value
    assert canonical(value) == str(value)


@pytest.mark.parametrize("bad", ["", "not-a-uuid", "1234", None, 42, "0" * 31, str(uuid.UUID(int=1)) + "0"])
def test_what_names_no_id_is_refused_every_time(bad: object) -> None:
    for _ in range(2):  # refusals are not remembered as answers
        with pytest.raises(ValueError):
            uuid_of(bad)
        with pytest.raises(ValueError):
            canonical(bad)


def test_the_cache_stays_bounded_and_right_when_it_starts_over() -> None:
    values = [uuid.UUID(int=i + 1) for i in range(ids.CACHE_MAX + 10)]
    for value in values:
        assert canonical(str(value).upper()) == str(value)
        assert len(ids._known) <= ids.CACHE_MAX + 1
    first = str(values[0]).upper()  # forgotten when the cache started over: parsed again
    assert uuid_of(first) == values[0]
    assert canonical(first) == str(values[0])
