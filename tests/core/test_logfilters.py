import logging

from portal.core.logfilters import MASK, RedactPersonalData, redact


def test_snils_and_policy_numbers_are_masked():
    text = redact("patient 156-301-789 58 policy 3801010101010126 slot 42")
    assert "156-301" not in text and "3801010101010126" not in text
    assert text.count(MASK) == 2
    assert "slot 42" in text


def test_filter_rewrites_the_record_with_arguments():
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "policy %s", ("3801010101010126",), None
    )
    RedactPersonalData().filter(record)
    assert record.getMessage() == f"policy {MASK}"


def test_console_handler_carries_the_filter():
    from django.conf import settings

    assert "redact" in settings.LOGGING["handlers"]["console"]["filters"]
