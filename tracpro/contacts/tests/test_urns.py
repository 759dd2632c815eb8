import pytest

from django.core.exceptions import ValidationError

from tracpro.contacts import urns


@pytest.mark.parametrize(
    ("scheme", "typed", "urn"),
    [
        ("tel", "+256 772 123-456", "tel:+256772123456"),
        ("tel", "+1 (202) 555-0143", "tel:+12025550143"),
        ("whatsapp", "+256772123456", "whatsapp:256772123456"),
        ("telegram", "123456789", "telegram:123456789"),
        ("twitter", "@Edu_Uganda", "twitter:Edu_Uganda"),
        ("twitterid", "1234567#edu_ug", "twitterid:1234567#edu_ug"),
        ("mailto", "Head@School.example.org", "mailto:head@school.example.org"),
    ],
)
def test_it_normalises_each_scheme(scheme, typed, urn):
    assert urns.normalize(scheme, typed) == urn


@pytest.mark.parametrize(
    ("scheme", "typed", "message"),
    [
        ("tel", "0772123456", "country code"),
        ("tel", "+256 77", "too few or too many digits"),
        ("tel", "+abc", "not a phone number"),
        ("telegram", "@someone", "Telegram ID is a number"),
        ("twitter", "far_too_long_a_handle", "up to 15"),
        ("twitterid", "abc", "Twitter ID is a number"),
        ("mailto", "not-an-email", "valid email"),
        ("fax", "123", "Choose a kind of address"),
    ],
)
def test_it_explains_a_bad_address(scheme, typed, message):
    with pytest.raises(ValidationError) as error:
        urns.normalize(scheme, typed)
    assert message in " ".join(error.value.messages)


def test_it_shows_phone_numbers_in_international_format():
    assert urns.display("tel:+256772123456") == "+256 772 123456"
    assert urns.display("whatsapp:256772123456") == "+256 772 123456"
    assert urns.display("twitter:edu") == "@edu"
