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


def test_line_breaks_and_control_characters_cannot_forge_log_lines():
    record = logging.LogRecord(
        "x", logging.WARNING, __file__, 1, "error %s", ("a\r\n2026-12-01 INFO forged\x00",), None
    )
    RedactPersonalData().filter(record)
    message = record.getMessage()
    assert "\n" not in message and "\r" not in message and "\x00" not in message
    assert "\\r\\n2026-12-01 INFO forged\\x00" in message


def test_the_dev_servers_request_log_goes_through_the_redaction(capsys):
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    server_log = logging.getLogger("django.server")
    assert server_log.handlers, "django.server has its own handler"
    for handler in server_log.handlers:
        assert any(isinstance(f, RedactPersonalData) for f in handler.filters), handler
    server_log.info('"GET /cabinet/?snils=156-301-789 58\r\nforged HTTP/1.1" 200 12')
    output = capsys.readouterr().err
    assert "156-301-789" not in output and MASK in output
    assert "\r\nforged" not in output
    server_log.info('"GET /?snils=156-301-789%2058 HTTP/1.1" 200 12')  # as runserver writes it
    assert "156-301-789" not in capsys.readouterr().err
