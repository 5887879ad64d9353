"""The phone catalog against the facts of the CIC Managed IP Phones admin guide."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest

from mipc.catalog.models import Catalog, CatalogError, load_catalog, version_key

GUIDE_LANGUAGES = 18


@pytest.fixture(scope="module")
def cat() -> Catalog:
    return load_catalog()


def _raw_text() -> str:
    return (resources.files("mipc") / "catalog" / "data" / "catalog.json").read_text(
        encoding="utf-8"
    )


def _raw() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_raw_text())
    return data


def test_json_is_deterministic() -> None:
    text = _raw_text()
    assert text == json.dumps(_raw(), indent=2, sort_keys=True) + "\n"


def test_load_is_cached() -> None:
    assert load_catalog() is load_catalog()


def test_every_model_has_exactly_one_latest_firmware(cat: Catalog) -> None:
    for mid in cat.models:
        latest = [fw for fw in cat.firmware if mid in fw.latest_for]
        if mid == "SoftPhone":
            assert latest == []
            assert cat.latest_firmware(mid) is None
        else:
            assert len(latest) == 1, mid
            assert cat.latest_firmware(mid) is latest[0]
            assert cat.firmware_for(mid)[0] is latest[0], mid


def test_latest_is_highest_version_except_known_cases(cat: Catalog) -> None:
    for mid in cat.models:
        fws = cat.firmware_for(mid)
        if not fws or cat.models[mid].family != "polycom":
            continue
        keys = [version_key(fw.version) for fw in fws]
        assert keys == sorted(keys, reverse=True), mid


def test_latest_versions(cat: Catalog) -> None:
    def latest(mid: str) -> str | None:
        fw = cat.latest_firmware(mid)
        return fw.label if fw else None

    for mid in ("VVX250", "VVX350", "VVX450"):
        assert latest(mid) == "6.4.5.1251"  # new hardware revision build wins
    for mid in ("VVX101", "VVX150", "VVX201", "VVX301", "VVX311", "VVX401", "VVX411"):
        assert latest(mid) == "6.4.5.1210"
    for mid in ("VVX300", "VVX310", "VVX400", "VVX410", "VVX500", "VVX600", "VVXD60"):
        assert latest(mid) == "5.9.7.4477 Rev F"
    assert latest("Trio8500") == "5.9.6.3432"
    assert latest("Trio8800") == "5.9.0 Rev AD"
    for mid in ("IP321", "IP335", "IP670", "IP6000", "IP7000"):
        assert latest(mid) == "4.0.15.1009"
    assert latest("IP5000") == "4.0.8c"
    assert latest("SL8440") == latest("SL8450") == "4.0.2b"
    assert latest("IP330") == "3.2.7"
    assert latest("IP4000") == latest("IP601") == "3.1.6"
    assert latest("IP300") == "2.1.4"
    assert latest("ISS1") == latest("ISS2") == "2.0.4.15.7"
    for mid in ("AC405", "AC420HD", "AC440HD", "GEN405", "GEN420HD"):
        assert latest(mid) == "2.2.16.643"


def test_firmware_table_is_complete(cat: Catalog) -> None:
    printed = {
        "6.4.5.1251", "6.4.5.1210", "5.9.7.4477", "5.9.6.3432", "5.9.6.2327", "5.9.3.2857",
        "5.9.0", "5.8.1", "5.8.0", "5.5.4", "5.4.5G", "4.0.15.1009", "4.0.14.1580",
        "4.0.8.2058.I", "5.2.2", "4.1.6h", "4.0.8c", "4.0.1b", "3.3.2", "3.2.7", "4.0.2b",
        "3.1.6", "2.1.4", "5.4.3.2036", "5.4.0a", "5.4.3.1014", "4.0.8.1972.H",
        "2.0.4.15.7",
        "2.2.16.643", "2.2.16.408", "2.2.16.142.41", "2.2.16.142", "2.2.8.61", "2.2.277.2.3",
        "2.0.0.18_6",
    }  # fmt: skip
    assert {fw.version for fw in cat.firmware} == printed


def test_no_model_lists_a_version_twice(cat: Catalog) -> None:
    for mid in cat.models:
        versions = [fw.version for fw in cat.firmware_for(mid)]
        assert len(versions) == len(set(versions)), mid


def test_audiocodes_order_follows_the_guide_not_the_number(cat: Catalog) -> None:
    versions = [fw.version for fw in cat.firmware_for("AC420HD")]
    assert versions[0] == "2.2.16.643"
    assert versions[-2:] == ["2.2.277.2.3", "2.0.0.18_6"]
    assert cat.firmware_for("GEN405")[0].version == "2.2.16.643"
    assert cat.find_firmware("AC430HD", "2.2.8.61") is None  # 420HD only


def test_find_firmware(cat: Catalog) -> None:
    fw = cat.find_firmware("VVX300", "5.9.7.4477 Rev F")
    assert fw is not None and fw.version == "5.9.7.4477"
    assert cat.find_firmware("VVX300", "5.9.7.4477") is fw
    assert cat.find_firmware("VVX300", "  5.9.7.4477   rev f ") is fw
    new = cat.find_firmware("VVX450", "6.4.5.1251 (for New Hardware Revision)")
    assert new is not None and new.version == "6.4.5.1251"
    assert cat.find_firmware("IP335", "4.0.8.2058.I") is not None
    assert cat.find_firmware("IP335", "4.0.8.2058") is None  # never fuzzy
    assert cat.find_firmware("IP335", "5.9.7.4477") is None  # not for that model
    assert cat.find_firmware("IP330", "3.2.7") is not None
    assert cat.find_firmware("NoSuchModel", "3.2.7") is None


def test_find_model_names(cat: Catalog) -> None:
    def found(name: str, maker: str | None = None) -> str | None:
        model = cat.find_model(name, maker)
        return model.id if model else None

    assert found("VVX 450") == "VVX450"
    assert found("vvx450") == "VVX450"
    assert found("spip335") == "IP335"
    assert found("IP  335") == "IP335"
    assert found("SoundPoint IP 335") == "IP335"
    assert found("SoundPointIP335") == "IP335"
    assert found("SSIP6000") == "IP6000"
    assert found("Trio 8800") == "Trio8800"
    assert found("RealPresence Trio 8800") == "Trio8800"
    assert found("D60") == "VVXD60"
    assert found("IP330", "Polycom") == "IP330"  # guide's CSV example
    assert found("IP601", "polycom") == "IP601"
    assert found("420HD", "Genesys") == "GEN420HD"
    assert found("420HD", "AudioCodes") == "AC420HD"
    assert found("420HD") is None  # AudioCodes and Genesys both have one
    assert found("430HD") == "AC430HD"  # only AudioCodes
    assert found("AudioCodes 420HD") == "AC420HD"
    assert found("Interaction SIP Station II") == "ISS2"
    assert found("Interaction SIP Station", "ININ") == "ISS1"
    assert found("Interaction SIP Station I") == "ISS1"
    assert found("Soft Phone", "ININ") == "SoftPhone"
    assert found("VVX 450", "AudioCodes") is None
    assert found("VVX 450", "Nokia") is None


@pytest.mark.parametrize("name", ["VVX45", "VVX-450", "IP33", "Trio", "SIP Station", ""])
def test_find_model_is_never_fuzzy(cat: Catalog, name: str) -> None:
    assert cat.find_model(name) is None


def test_suggest_models(cat: Catalog) -> None:
    assert cat.suggest_models("VVX45")[0] == "VVX450"
    assert "GEN420HD" in cat.suggest_models("420 HDx", "Genesys")
    assert all(cat.models[m].manufacturer == "Genesys" for m in cat.suggest_models("42", "Genesys"))


def test_all_guide_polycom_models_present(cat: Catalog) -> None:
    expected = {
        "IP300", "IP301", "IP320", "IP321", "IP330", "IP331", "IP335", "IP430", "IP450",
        "IP500", "IP501", "IP550", "IP560", "IP600", "IP601", "IP650", "IP670",
        "IP4000", "IP5000", "IP6000", "IP7000",
        "VVX101", "VVX150", "VVX201", "VVX250", "VVX300", "VVX301", "VVX310", "VVX311",
        "VVX350", "VVX400", "VVX401", "VVX410", "VVX411", "VVX450", "VVX500", "VVX501",
        "VVX600", "VVX601", "VVXD60", "Trio8500", "Trio8800", "SL8440", "SL8450",
    }  # fmt: skip
    assert {m.id for m in cat.models_of("Polycom")} == expected
    others = {m.id for m in cat.models.values() if m.manufacturer != "Polycom"}
    assert others == {
        "ISS1", "ISS2", "SoftPhone", "AC405", "AC405HD", "AC420HD", "AC430HD", "AC440HD",
        "GEN405", "GEN405HD", "GEN420HD",
    }  # fmt: skip


def test_eol_flags(cat: Catalog) -> None:
    eol = {mid for mid, m in cat.models.items() if m.eol}
    assert eol == {
        "IP300", "IP500", "IP301", "IP501", "IP600", "IP601", "IP4000", "IP320", "IP330",
        "IP430", "SL8440", "SL8450",
    }  # fmt: skip


def test_security_capabilities(cat: Catalog) -> None:
    m = cat.models
    assert m["IP4000"].srtp and m["IP4000"].tls
    for mid in ("IP300", "IP500", "IP301", "IP501", "IP600", "IP601"):
        assert not m[mid].srtp, mid
    assert not m["ISS1"].tls and not m["ISS1"].srtp
    assert not m["ISS2"].tls and not m["ISS2"].srtp
    assert m["SoftPhone"].tls and m["SoftPhone"].srtp
    assert m["VVX450"].srtp and m["AC420HD"].srtp and m["GEN420HD"].tls
    assert all(model.tls for model in m.values() if model.srtp)


def test_types(cat: Catalog) -> None:
    for mid, model in cat.models.items():
        if mid in ("ISS1", "ISS2"):
            assert model.types == ("workstation",)
        else:
            assert set(model.types) == {"stand-alone", "workstation"}, mid


def test_languages(cat: Catalog) -> None:
    m = cat.models
    assert len(cat.languages) == GUIDE_LANGUAGES
    assert m["IP301"].languages == ("English_United_States",)
    assert "Slovenian_Slovenia" not in m["IP4000"].languages
    assert "Polish_Poland" in m["IP4000"].languages
    cjk = {"Chinese_China", "Japanese_Japan", "Korean_Korea"}
    for mid in ("IP450", "IP550", "IP560", "IP650", "IP670", "IP6000", "IP7000", "VVX450"):
        assert cjk <= set(m[mid].languages), mid
        assert len(m[mid].languages) == GUIDE_LANGUAGES
    for mid in ("IP335", "IP321", "IP5000", "IP330"):
        assert not cjk & set(m[mid].languages), mid
    assert m["AC420HD"].languages == (
        "English_Canada",
        "English_United_Kingdom",
        "English_United_States",
        "Spanish_Spain",
    )
    assert cat.language_id("English_United_States") == "English_United_States"
    assert cat.language_id("English, United States") == "English_United_States"
    assert cat.language_id("english, united kingdom") == "English_United_Kingdom"
    assert cat.language_id("en-US") == "English_United_States"
    assert cat.language_id("Klingon") is None
    assert cat.languages["Chinese_China"] == "Chinese, China"


def test_firmware_images(cat: Catalog) -> None:
    images = {mid: m.firmware_image for mid, m in cat.models.items() if m.firmware_image}
    assert images == {
        "ISS1": "sip100.img",
        "ISS2": "sip200.img",
        "AC405": "405.img",
        "AC405HD": "405hd.img",
        "AC420HD": "420hd.img",
        "AC430HD": "430hd.img",
        "AC440HD": "440hd.img",
        "GEN405": "405.img",
        "GEN405HD": "405hd.img",
        "GEN420HD": "420hd.img",
    }


def test_polycom_files(cat: Catalog) -> None:
    m = cat.models
    assert m["IP335"].polycom_token == "SPIP335"
    assert m["IP6000"].polycom_token == "SSIP6000"
    assert m["VVX450"].polycom_token == "VVX450"
    assert m["VVX450"].part_number == "3111-48840-001"
    assert m["IP650"].part_number == "2345-12600-001"
    assert m["IP300"].part_number is None  # not in the reference: never guessed


def test_min_firmware(cat: Catalog) -> None:
    m = cat.models
    assert dict(m["IP335"].min_firmware) == {"64167f": "4.0.8.2058"}
    assert dict(m["VVX410"].min_firmware) == {"64167f": "5.4.3.2036"}
    assert dict(m["VVX450"].min_firmware) == {}
    for mid, model in m.items():
        for minimum in model.min_firmware.values():
            latest = cat.latest_firmware(mid)
            assert latest is not None and version_key(latest.version) >= version_key(minimum)
    ip335 = {fw.version: fw for fw in cat.firmware_for("IP335")}
    ok = {v for v in ip335 if version_key(v) >= version_key("4.0.8.2058")}
    assert ok == {"4.0.15.1009", "4.0.14.1580", "4.0.8.2058.I"}


def test_mac_prefixes(cat: Catalog) -> None:
    assert cat.manufacturer_of_prefix("0004f2aabbcc") == ("Polycom",)
    assert cat.manufacturer_of_prefix("64167f000001") == ("Polycom",)
    assert cat.manufacturer_of_prefix("0026fd000020") == ("ININ",)
    assert cat.manufacturer_of_prefix("00908f123456") == ("AudioCodes", "Genesys")
    assert cat.manufacturer_of_prefix("001122334455") == ()
    assert cat.models["VVX450"].mac_prefixes == ("0004f2", "64167f", "482567")
    assert cat.models["SoftPhone"].mac_prefixes == ()
    # Issue 7: an AudioCodes-range MAC on an Interaction SIP Station II is a doubt (warning).
    assert cat.models["ISS2"].mac_prefixes == ("0026fd",)


def test_line_keys(cat: Catalog) -> None:
    m = cat.models
    assert (m["AC405"].line_keys, m["AC420HD"].line_keys, m["AC430HD"].line_keys) == (2, 2, 6)
    assert m["GEN405HD"].line_keys == 2
    assert (m["IP335"].line_keys, m["IP450"].line_keys, m["IP670"].line_keys) == (2, 3, 6)
    assert m["VVX450"].line_keys == 12 and m["VVX601"].line_keys == 16
    assert all(model.line_keys >= 1 for model in m.values())


def test_version_key() -> None:
    assert version_key("4.0.8.2058") == (4, 0, 8, 2058)
    assert version_key("5.9.7.4477 Rev F") == (5, 9, 7, 4477)
    assert version_key("4.0.8c") < version_key("4.0.8.1972.H") < version_key("4.0.8.2058.I")
    assert version_key("4.0.15.1009") > version_key("4.0.8.2058.I")
    assert version_key("6.4.5.1251") > version_key("6.4.5.1210") > version_key("5.9.7.4477")
    assert version_key("5.4.3.1014") < version_key("5.4.3.2036")
    ordered = sorted(["3.2.7", "4.0.15.1009", "4.0.1b", "3.3.2", "4.0.14.1580"], key=version_key)
    assert ordered == ["3.2.7", "3.3.2", "4.0.1b", "4.0.14.1580", "4.0.15.1009"]


def test_models_are_hashable_and_frozen(cat: Catalog) -> None:
    model = cat.models["VVX450"]
    assert hash(model) == hash(cat.find_model("VVX 450"))
    with pytest.raises(AttributeError):
        model.eol = True  # type: ignore[misc]


def test_bad_data_is_rejected() -> None:
    data = _raw()
    data["models"]["GEN420HD"]["aliases"].append("405")  # clashes with GEN405
    with pytest.raises(CatalogError, match="clash"):
        Catalog(data)
    data = _raw()
    data["firmware"][0]["latest_for"].append("VVX101")  # VVX101 not in models
    with pytest.raises(CatalogError):
        Catalog(data)
    data = _raw()
    data["firmware"][2]["latest_for"].append("VVX101")  # second latest for VVX101
    with pytest.raises(CatalogError, match="more than one latest"):
        Catalog(data)


def test_family_facts_come_from_the_catalog() -> None:
    from mipc.catalog.families import FamilyDataError, read_families

    families = load_catalog().families
    assert families["polycom"].linked_appearances and not families["iss"].linked_appearances
    assert families["softphone"].by_computer_name and not families["softphone"].firmware
    assert {m.family for m in load_catalog().models.values()} <= set(families)
    assert sorted(f for f in families if families[f].profile) == ["iss", "softphone"]
    assert [f for f in families if families[f].provisioning_credentials] == ["polycom"]
    assert [f for f in families if families[f].device_certificate] == ["polycom"]
    good = {
        "x": {
            f: False
            for f in (
                "linked_appearances",
                "single_registration",
                "one_appearance_per_line",
                "firmware",
                "by_computer_name",
                "profile",
                "provisioning_credentials",
                "device_certificate",
            )
        }
    }
    assert read_families(good, {"x"})["x"].name == "x"
    with pytest.raises(FamilyDataError, match="miss y"):
        read_families(good, {"x", "y"})
    with pytest.raises(FamilyDataError, match="exactly"):
        read_families({"x": {"firmware": True}}, {"x"})
    with pytest.raises(FamilyDataError, match="true or false"):
        read_families({"x": {**good["x"], "firmware": "yes"}}, {"x"})
