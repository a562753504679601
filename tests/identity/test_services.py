"""The gate and the mapping of ESIA data, without HTTP."""

import pytest

from portal.identity.esia import EsiaPerson
from portal.identity.services import esia_account_level, policy_from_documents


def _person(lvl=None, is_tru=None, trusted=False, r_id_doc=None):
    subject = {
        k: v for k, v in {"urn:esia:sbj:lvl": lvl, "urn:esia:sbj:is_tru": is_tru}.items() if v
    }
    person = {"trusted": trusted} | ({"rIdDoc": r_id_doc} if r_id_doc else {})
    return EsiaPerson(oid="1", claims={"urn:esia:sbj": subject}, person=person)


@pytest.mark.parametrize(
    ("esia", "level"),
    [
        (_person("PR", True, True, 5), "confirmed"),
        (_person("P", None, True, 5), "standard"),  # REST says trusted, the token does not
        (_person("PR", True, False, 5), "standard"),  # the token says so, REST does not
        (_person("P", None, False, None), "simplified"),
        (_person("KD", None, True, 5), "child"),
    ],
)
def test_only_token_and_rest_together_make_a_confirmed_account(esia, level):
    assert esia_account_level(esia) == level


@pytest.mark.parametrize(
    ("documents", "policy"),
    [
        ([{"type": "MDCL_PLCY", "number": "3801010101010126"}], ("3", "", "3801010101010126")),
        ([{"type": "MDCL_PLCY", "series": "3805", "number": "123456"}], ("1", "3805", "123456")),
        ([{"type": "MDCL_PLCY", "number": "123456789"}], ("2", "", "123456789")),
        ([{"type": "RF_PASSPORT", "series": "2510", "number": "000001"}], ("", "", "")),
        ([{"type": "MDCL_PLCY", "number": "12345678901234567890"}], ("", "", "")),
        # A unified number with a wrong control digit is not kept: the user enters it.
        ([{"type": "MDCL_PLCY", "number": "3801010101010127"}], ("", "", "")),
    ],
)
def test_oms_policy_kinds_from_esia_documents(documents, policy):
    assert policy_from_documents(documents) == policy


def test_deploy_checks_catch_a_bad_signer_and_a_running_emulator(settings):
    from portal.identity.checks import esia_configuration

    settings.ESIA_EMULATOR_ENABLED = True
    assert {m.id for m in esia_configuration(None)} == {"identity.W001"}
    settings.ESIA_EMULATOR_ENABLED = False
    settings.ESIA_SIGNER, settings.ESIA_SIGNER_COMMAND = "command", ""
    assert {m.id for m in esia_configuration(None)} == {"identity.E002"}
    settings.ESIA_SIGNER = "cryptopro"
    assert {m.id for m in esia_configuration(None)} == {"identity.E001"}
