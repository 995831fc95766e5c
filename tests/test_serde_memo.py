"""wxprivacy._serde's remembered privacy_desc_list: reused only for an equal list, never stale
after mutation."""

from __future__ import annotations

import json

from fixture_data import fixture_bytes

from wxprivacy._serde import loads, structure
from wxprivacy.models import PrivacySetting


def descs(setting: PrivacySetting) -> list[tuple[str, str]]:
    assert setting.privacy_desc is not None
    return [(i.privacy_key, i.privacy_desc) for i in setting.privacy_desc.privacy_desc_list]


def test_equal_catalogue_is_reused_and_a_changed_one_is_rebuilt() -> None:
    body = fixture_bytes("getprivacysetting_full.json")
    first = structure(loads(body), PrivacySetting)
    again = structure(loads(body), PrivacySetting)
    assert again.privacy_desc == first.privacy_desc
    data = json.loads(body)
    data["privacy_desc"]["privacy_desc_list"][0]["privacy_desc"] = "changed"
    changed = structure(data, PrivacySetting)
    assert descs(changed)[0][1] == "changed"
    assert descs(changed)[1:] == descs(first)[1:]


def test_mutating_the_decoded_input_afterwards_never_leaks_into_later_results() -> None:
    body = fixture_bytes("getprivacysetting_full.json")
    data = loads(body)
    original = descs(structure(data, PrivacySetting))
    data["privacy_desc"]["privacy_desc_list"][0]["privacy_desc"] = "mutated later"
    # the remembered copy is the list as it was structured, so an equal body still matches it
    assert descs(structure(loads(body), PrivacySetting)) == original
    assert descs(structure(data, PrivacySetting))[0][1] == "mutated later"


def test_mixed_case_catalogue_equals_the_canonical_one() -> None:
    canonical = structure(loads(fixture_bytes("getprivacysetting_full.json")), PrivacySetting)
    for _ in range(2):  # built, then remembered
        mixed = structure(loads(fixture_bytes("getprivacysetting_mixed_case.json")), PrivacySetting)
        assert descs(mixed) == descs(canonical)


def test_a_list_is_remembered_the_second_time_in_a_row_it_is_seen() -> None:
    body = fixture_bytes("getprivacysetting_full.json")
    other = json.loads(body)
    other["privacy_desc"]["privacy_desc_list"][0]["privacy_key"] = "Other"
    for _ in range(2):  # whatever was remembered before, now it is this other catalogue
        structure(other, PrivacySetting)
    first = structure(loads(body), PrivacySetting)
    second = structure(loads(body), PrivacySetting)
    third = structure(loads(body), PrivacySetting)
    assert first.privacy_desc is not None and second.privacy_desc is not None
    assert third.privacy_desc is not None
    assert first.privacy_desc.privacy_desc_list == second.privacy_desc.privacy_desc_list
    assert first.privacy_desc.privacy_desc_list is not second.privacy_desc.privacy_desc_list
    # remembered at the second sighting: the third answer shares its (frozen) instances, and
    # the privacy_desc holding them (nothing else in it)
    assert third.privacy_desc.privacy_desc_list is second.privacy_desc.privacy_desc_list
    assert third.privacy_desc is second.privacy_desc


def test_a_privacy_desc_with_more_than_the_catalogue_is_its_own() -> None:
    body = fixture_bytes("getprivacysetting_full.json")
    for _ in range(3):
        plain = structure(loads(body), PrivacySetting)
    data = json.loads(body)
    data["privacy_desc"]["note"] = "an unknown key"
    extra = structure(data, PrivacySetting)
    assert extra.privacy_desc is not None and plain.privacy_desc is not None
    assert extra.privacy_desc is not plain.privacy_desc
    assert extra.privacy_desc.extras == {"note": "an unknown key"}
    assert extra.privacy_desc.privacy_desc_list is plain.privacy_desc.privacy_desc_list
    assert structure(loads(body), PrivacySetting).privacy_desc == plain.privacy_desc


def test_lists_that_differ_each_time_build_right_and_are_never_shared() -> None:
    body = fixture_bytes("getprivacysetting_full.json")
    results = []
    for index in range(6):
        data = json.loads(body)
        data["privacy_desc"]["privacy_desc_list"][0]["privacy_desc"] = f"text {index % 2}"
        results.append(descs(structure(data, PrivacySetting))[0][1])
    assert results == ["text 0", "text 1"] * 3


def _with_spellings(first: str, second: str, n: int = 6) -> dict[str, object]:
    items = [
        {first: f"{first}{i}", second: f"{second}{i}", "privacy_desc": f"d{i}"} for i in range(n)
    ]
    return {"errcode": 0, "privacy_desc": {"privacy_desc_list": items}}


def test_two_spellings_of_one_key_give_the_same_result_whatever_came_before() -> None:
    """Regression (trial of issue 10): list equality ignores key order but folding two
    spellings of privacy_key keeps the first, so a reordered list got the earlier list's
    instances: the result depended on the answers before it."""
    alone = structure(_with_spellings("PRIVACY_KEY", "Privacy_Key"), PrivacySetting)
    for _ in range(3):  # remembered if it ever could be
        structure(_with_spellings("Privacy_Key", "PRIVACY_KEY"), PrivacySetting)
    after = structure(_with_spellings("PRIVACY_KEY", "Privacy_Key"), PrivacySetting)
    assert after == alone
    assert descs(after) == descs(alone)
