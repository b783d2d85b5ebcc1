"""Lists show personal data masked, the same way in every module."""

from core.privacy import mask_id, mask_name, mask_phone


def test_phone_keeps_only_the_first_three_and_last_four_digits():
    assert mask_phone("13912345678") == "139****5678"
    assert mask_phone("0553-1234567") == "055*****4567"


def test_a_short_phone_never_shows_in_full():
    assert mask_phone("1234567") == "123****"
    assert mask_phone("12345") == "*****"
    assert mask_phone(None) == ""


def test_id_number_keeps_area_code_and_last_four():
    assert mask_id("34022119800101123X") == "340221********123X"
    assert mask_id("123") == "***"


def test_name_keeps_the_family_name():
    assert mask_name("王小明") == "王**"
    assert mask_name("李") == "李*"
