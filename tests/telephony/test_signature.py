"""Signatures computed and checked exactly as Twilio's own library does."""

from __future__ import annotations

from twilio.request_validator import RequestValidator

from app.telephony.signature import compute_signature, is_valid_signature, signed_url

VECTOR_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
VECTOR_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+14158675309",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
}
VECTOR_SIGNATURE = "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_it_reproduces_the_librarys_published_test_vector() -> None:
    assert compute_signature("12345", VECTOR_URL, VECTOR_PARAMS) == VECTOR_SIGNATURE


def test_it_accepts_the_published_vector_and_rejects_any_change() -> None:
    assert is_valid_signature("12345", VECTOR_URL, VECTOR_PARAMS, VECTOR_SIGNATURE)
    assert not is_valid_signature(
        "12345", VECTOR_URL, VECTOR_PARAMS | {"Digits": "1235"}, VECTOR_SIGNATURE
    )
    assert not is_valid_signature("54321", VECTOR_URL, VECTOR_PARAMS, VECTOR_SIGNATURE)
    assert not is_valid_signature(
        "12345", VECTOR_URL.replace("bar=2", "bar=3"), VECTOR_PARAMS, VECTOR_SIGNATURE
    )
    assert not is_valid_signature("12345", VECTOR_URL, VECTOR_PARAMS, "")


def test_it_signs_every_value_of_a_repeated_parameter() -> None:
    params = {"CallSid": "CA1", "Event": ["ringing", "answered"]}
    signature = compute_signature("secret", "https://example.org/x", params)

    assert is_valid_signature("secret", "https://example.org/x", params, signature)
    assert not is_valid_signature(
        "secret", "https://example.org/x", {"CallSid": "CA1", "Event": ["ringing"]}, signature
    )


def test_its_signature_is_what_the_library_validator_accepts() -> None:
    params = {"CallSid": "CA9", "Body": "Yes I still need it."}
    signature = compute_signature("tok", "https://a.example/w?step=q&n=1", params)

    assert RequestValidator("tok").validate("https://a.example/w?step=q&n=1", params, signature)


def test_the_signed_url_is_the_public_base_plus_raw_path_and_query() -> None:
    assert (
        signed_url(
            "https://waitlist.example.nhs.uk", "/webhooks/twilio/voice/t/gather", "step=a&n=2"
        )
        == "https://waitlist.example.nhs.uk/webhooks/twilio/voice/t/gather?step=a&n=2"
    )
    assert signed_url("https://h.example/", "/p", "") == "https://h.example/p"
