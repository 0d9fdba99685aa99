"""ValueRedactor on its own: each shape it masks, the look-alikes it keeps, registered secrets,
IP masking and truncation, and its memo.

Only the public surface is used (``ValueRedactor``, ``redact``, ``register``, ``luhn_valid``,
``MIN_SECRET_LENGTH`` and the ``REDACTED`` marker), so the rules may be rewritten freely.
The end-to-end path (records in files and on the console) is in ``test_redaction.py``.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streamlit_extension.patcher.values import MIN_SECRET_LENGTH, ValueRedactor, luhn_valid
from streamlit_extension.schema import REDACTED

R = REDACTED


def fresh(text: str) -> str:
    """An equal string that is a new object, so identity checks can't pass by interning."""
    return "".join(list(text))


# --------------------------------------------------------------------------- shapes


@pytest.mark.parametrize(("text", "expected"), [
    # bearer / basic / token: the word stays, the credential goes (8+ token characters)
    ("Authorization: Basic dXNlcjpwYXNzd29yZA==", f"Authorization: Basic {R}"),
    ("bearer abc.DEF-123_456~+/=", f"bearer {R}"),
    ("TOKEN   ABCDEFGH12 rest", f"TOKEN   {R} rest"),
    ("token abcdefgh", f"token {R}"),
    # JWT: three dot-separated parts starting eyJ, the signature may be empty
    ("id=x eyJhbGciOi.eyJzdWIi.c2lnbmF0dXJl done", f"id=x {R} done"),
    ("eyJhbGciOi.eyJzdWIi.", R),
    # key=value secrets, any case and separator, up to & # ; whitespace or a quote
    ("https://x/cb?client_secret=abc&state=1", f"https://x/cb?client_secret={R}&state=1"),
    ("client-secret=abc clientsecret=def", f"client-secret={R} clientsecret={R}"),
    ("/cb?access_token=abc#frag", f"/cb?access_token={R}#frag"),
    ("refresh-token=a;id_token=b", f"refresh-token={R};id_token={R}"),
    ("api_key=abc; next", f"api_key={R}; next"),
    ("pwd=hunter2 ok", f"pwd={R} ok"),
    ("PASSWORD=x", f"PASSWORD={R}"),
    ("sig=abcd&x=1", f"sig={R}&x=1"),
    ("SIG=abcd", f"SIG={R}"),
    ("authorization=Zm9v'", f"authorization={R}'"),
    ("ssn=123-45-6789", f"ssn={R}"),
    ('config api_key="abc123" and password=\'pw1\' done', f'config api_key="{R}" and password=\'{R}\' done'),
    ('name="Ann" page="x"', 'name="Ann" page="x"'),
    # credentials in a URL: the user stays, the password goes
    ("https://user:pa55@host/path", f"https://user:{R}@host/path"),
    ("ftp://u:p@h", f"ftp://u:{R}@h"),
    # AWS access key ids (any of the documented prefixes, exactly 16 more characters)
    ("AKIAIOSFODNN7EXAMPLE", R),
    ("temporary ASIAIOSFODNN7EXAMPLE,", f"temporary {R},"),
    # PEM private keys: the whole block, or everything after an unterminated BEGIN
    ("before -----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY----- after", f"before {R} after"),
    ("a -----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n-----END OPENSSH PRIVATE KEY-----\nb", f"a {R}\nb"),
    ("x -----BEGIN EC PRIVATE KEY-----\nabc\nno end, cut off", f"x {R}"),
    # e-mail addresses (on by default)
    ("mailto:ann@example.com", f"mailto:{R}"),
    ("to First.Last+tag@mail.example.org.", f"to {R}."),
])
def test_each_shape_is_masked(text, expected):
    assert ValueRedactor().redact(text) == expected


@pytest.mark.parametrize("text", [
    "token abcdefg",  # 7 characters: too short to be a credential
    "Bearer short",
    "eyJa.b.c",  # JWT parts need 4+ characters
    "keyboard=abc monkey=abc tokens=x",  # the key must be a whole word
    "x=1, a=b",
    "apikey=",  # nothing after the '='
    "https://user@host/ and https://host:8080/",  # no password in the URL
    "xAKIAIOSFODNN7EXAMPLE AKIAIOSFODNN7EXAMPL akiaiosfodnn7example",  # glued, short, lower case
    "-----BEGIN PUBLIC KEY-----\nabc\n-----END PUBLIC KEY-----",
    "a@b.c user@localhost @handle",  # no dotted domain with a 2+ letter top level
])
def test_look_alikes_are_kept(text):
    assert ValueRedactor().redact(text) == text


# --------------------------------------------------------------------------- cards


@pytest.mark.parametrize("text", [
    "4111 1111 1111 1111",
    "4111-1111-1111-1111",
    "card 5555555555554444.",
    "amex 378282246310005",  # 15 digits
    "visa 4222222222222",  # 13 digits
    "12 4111 1111 1111 1111",  # a group of other digits in front
    "44111111111111111",  # glued to a digit in front
    "99994111111111111111",  # glued to four
    "123456789012 4111111111111111",
])
def test_luhn_valid_cards_are_masked_with_or_without_separators(text):
    masked = ValueRedactor().redact(text)
    assert R in masked
    assert "4111" not in masked
    assert "5555" not in masked


@pytest.mark.parametrize("text", [
    "4111 1111 1111 1112",  # fails Luhn
    "4111111111111112",
    "order 1234567890123 shipped",
    "7992739871300",  # Luhn-valid, but no card network starts with 7
    "1000000000009",  # nor with 1
    "1111111111111111",
    "0000000000000000",  # Luhn-valid zero run
    "00000000000000000000000000000000",
    "4444444444444444",  # one repeated digit is a placeholder, not a card
    "123e4567-e89b-12d3-a456-426614174000",  # UUID
    "req_4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e",
    "phone +1 415-555-0132",
])
def test_numbers_that_are_not_cards_are_kept(text):
    assert ValueRedactor().redact(text) == text


@pytest.mark.parametrize(("digits", "valid"), [
    ("79927398713", True),
    ("79927398710", False),
    ("4111111111111111", True),
    ("4111111111111112", False),
    ("0", True),
    ("18", True),
    ("", True),  # no digits sum to 0
])
def test_luhn_valid(digits, valid):
    assert luhn_valid(digits) is valid


def test_non_ascii_text_still_goes_through_every_rule():
    redactor = ValueRedactor()
    assert redactor.redact("Zahlung über 4111 1111 1111 1111") == f"Zahlung über {R}"
    assert redactor.redact("IP für 10.0.0.1 · ann@example.com") == f"IP für [IP] · {R}"
    # The run of digits a card sits in goes with it, whatever script its neighbours use.
    assert redactor.redact(digits_of(ARABIC_INDIC, "42") + " 4111 1111 1111 1111 x") == f"{R} x"


def digits_of(script_zero: int, text: str) -> str:
    """``text`` with its ASCII digits written in another script (its zero's code point given)."""
    return text.translate({ord("0") + n: script_zero + n for n in range(10)})


ARABIC_INDIC, FULL_WIDTH, DEVANAGARI = 0x0660, 0xFF10, 0x0966


@pytest.mark.parametrize("text", [
    digits_of(ARABIC_INDIC, "4111111111111111"),
    digits_of(FULL_WIDTH, "4111 1111 1111 1111"),
    digits_of(DEVANAGARI, "5555555555554444"),
    "café " + digits_of(ARABIC_INDIC, "10.0.0.1"),
    digits_of(ARABIC_INDIC, "12:30:45 2001:0000:1"),
])
def test_non_ascii_digits_never_raise_and_are_kept(text):
    assert ValueRedactor().redact(text) == text
    assert ValueRedactor(ip="truncate").redact(text) == text


# --------------------------------------------------------------------------- IP addresses


@pytest.mark.parametrize(("text", "masked", "truncated"), [
    ("from 10.1.2.3", "from [IP]", "from 10.1.2.0/24"),
    ("255.255.255.255 0.0.0.0", "[IP] [IP]", "255.255.255.0/24 0.0.0.0/24"),
    ("2001:db8:85a3::8a2e:370:7334", "[IP]", "2001:db8:85a3::/48"),
    ("::1", "[IP]", "::/48"),
    ("fe80::1%eth0", "[IP]%eth0", "fe80::/48%eth0"),
    ("[2001:db8::1]:443", "[[IP]]:443", "[2001:db8::/48]:443"),
    ("::1:54321 - GET /", "[IP]:54321 - GET /", "::/48:54321 - GET /"),  # ipv6:port, unbracketed
    ("2001:db8::1:8080", "[IP]", "2001:db8::/48"),  # a whole address: ":8080" is no port here
    ("client ::ffff:10.1.2.3", "client [IP]", "client 10.1.2.0/24"),  # IPv4-mapped is IPv4
    ("host 192.168.0.1, ok", "host [IP], ok", "host 192.168.0.0/24, ok"),
])
def test_ip_addresses_are_masked_or_truncated(text, masked, truncated):
    assert ValueRedactor().redact(text) == masked
    assert ValueRedactor(ip="truncate").redact(text) == truncated


@pytest.mark.parametrize("text", [
    "at 12:30:45",
    "12:30:45.123 on 2024-05-01T12:30:45Z",
    "version 1.2.3 and 1.2.3.4.5",
    "10.0.0.256",
    "10.0.0.0/8 is a network",  # CIDR notation is a network, not a client
    "mac ab:cd:ef:12:34:56",
    "ratio 1:2, a:b:c",
])
def test_times_versions_and_look_alikes_are_not_addresses(text):
    assert ValueRedactor().redact(text) == text
    assert ValueRedactor(ip="truncate").redact(text) == text


def test_a_truncated_address_is_not_truncated_again():
    redactor = ValueRedactor(ip="truncate")
    once = redactor.redact("a 10.1.2.3 b 2001:db8:85a3::1 c ::ffff:10.9.8.7")
    assert once == "a 10.1.2.0/24 b 2001:db8:85a3::/48 c 10.9.8.0/24"
    assert redactor.redact(once) == once


@pytest.mark.parametrize("ip", ["MASK", "keep", "", None, True])
def test_an_unknown_ip_mode_is_refused(ip):
    with pytest.raises(ValueError, match="ip: expected 'mask' or 'truncate'"):
        ValueRedactor(ip=ip)


# --------------------------------------------------------------------------- e-mails


def test_emails_off_keeps_addresses_but_nothing_else():
    redactor = ValueRedactor(emails=False)
    text = "ann@example.com at 10.0.0.1 via https://u:pw@host/ with Bearer abcdefghijkl"
    assert redactor.redact(text) == f"ann@example.com at [IP] via https://u:{R}@host/ with Bearer {R}"
    assert redactor.emails is False
    assert ValueRedactor().emails is True


# --------------------------------------------------------------------------- registered secrets


def test_registered_secrets_are_masked_anywhere():
    redactor = ValueRedactor(secrets=["sk_live_abcdef"])
    assert redactor.redact("key sk_live_abcdef, again:sk_live_abcdef!") == f"key {R}, again:{R}!"
    assert redactor.redact("glued-sk_live_abcdef-glued") == f"glued-{R}-glued"


def test_register_adds_to_the_known_secrets_and_forgets_cached_answers():
    redactor = ValueRedactor(secrets=["first-secret"])
    text = "first-secret then second-secret"
    assert redactor.redact(text) == f"{R} then second-secret"  # now in the memo
    redactor.register(iter(["second-secret"]))  # any iterable, once
    assert redactor.redact(text) == f"{R} then {R}"
    redactor.register([])
    assert redactor.redact(text) == f"{R} then {R}"


def test_the_longest_registered_secret_wins():
    redactor = ValueRedactor(secrets=["abcdef", "abcdefghij", "abcdefgh"])
    assert redactor.redact("x abcdefghij y abcdefgh z abcdef") == f"x {R} y {R} z {R}"


def test_short_and_non_string_secrets_are_ignored():
    short = "s" * (MIN_SECRET_LENGTH - 1)
    exact = "e" * MIN_SECRET_LENGTH
    redactor = ValueRedactor(secrets=[short, exact, 12345678, None, b"bytes-secret"])
    assert redactor.redact(f"{short} {exact} 12345678 bytes-secret") == f"{short} {R} 12345678 bytes-secret"


def test_registered_secrets_are_literal_text_not_patterns():
    redactor = ValueRedactor(secrets=["p.ss+w(rd)*", "a|b|c|d"])
    assert redactor.redact("p.ss+w(rd)* pXss+w(rd)* a|b|c|d a") == f"{R} pXss+w(rd)* {R} a"


def test_a_registered_secret_is_masked_before_the_shape_rules_see_it():
    # Masked first, so a secret that contains an address or an e-mail leaves no part behind.
    redactor = ValueRedactor(secrets=["10.0.0.1-secret"], ip="truncate")
    assert redactor.redact("use 10.0.0.1-secret from 10.0.0.1") == f"use {R} from 10.0.0.0/24"


# --------------------------------------------------------------------------- clean text, memo


@pytest.mark.parametrize("text", [
    "",
    "plain words",
    "page_view",
    "req_0123456789ab",
    "x = 1, y = 2",
    "übermäßig",
    "no secrets here " * 40,  # longer than any memo keeps
])
def test_clean_text_is_returned_as_the_same_object(text):
    text = fresh(text)
    assert ValueRedactor().redact(text) is text


@pytest.mark.parametrize("text", [
    "login from 10.0.0.1 with token abcdefghijk",  # short: memoised
    "x" * 5000 + " ann@example.com " + "y" * 5000,  # long: redacted afresh each time
])
def test_repeated_text_gets_the_same_answer(text):
    redactor = ValueRedactor()
    first = redactor.redact(text)
    assert first != text
    for _ in range(3):
        assert redactor.redact(fresh(text)) == first


def test_many_distinct_strings_keep_their_answers():
    # More distinct short strings than a memo should hold: each still gets its own answer.
    redactor = ValueRedactor()
    for n in range(10_000):
        assert redactor.redact(f"user{n}@example.com") == R
        assert redactor.redact(f"n{n}") == f"n{n}"
    assert redactor.redact("user0@example.com") == R


def test_two_redactors_are_independent():
    one, two = ValueRedactor(secrets=["only-in-one"]), ValueRedactor(emails=False)
    assert one.redact("only-in-one a@example.com") == f"{R} {R}"
    assert two.redact("only-in-one a@example.com") == "only-in-one a@example.com"


# --------------------------------------------------------------------------- properties


@given(st.text())
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_redact_never_raises_and_returns_text(text):
    for redactor in (ValueRedactor(), ValueRedactor(ip="truncate", emails=False, secrets=["hunter2hunter2"])):
        assert isinstance(redactor.redact(text), str)


_PIECES = st.sampled_from([
    "4111 1111 1111 1111", "4111111111111111", "10.0.0.1", "::1", "2001:db8::1", "::ffff:10.1.2.3",
    "12:30:45", "token abcdefghij", "Bearer xyz12345678", "eyJhbGciOi.eyJzdWIi.c2ln", "key=v&sig=s",
    "https://u:p@h/", "ann@example.com", "-----BEGIN RSA PRIVATE KEY-----", "-----END RSA PRIVATE KEY-----",
    "AKIAIOSFODNN7EXAMPLE", "hunter2hunter2", REDACTED, "[IP]", "::1:54321", "=", ":", "@", "٤٢", "é",
])
_WORDS = st.one_of(_PIECES, st.text(alphabet=st.characters(blacklist_categories=("Zs", "Cc")), max_size=4))


@given(st.lists(_WORDS, max_size=10), st.sampled_from([" ", "\n", ", ", "\t"]))
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_redacting_whitespace_separated_text_twice_changes_nothing(words, separator):
    text = separator.join(words)
    registered = ValueRedactor(ip="truncate", emails=False, secrets=["hunter2hunter2"])
    for redactor in (ValueRedactor(), registered):
        once = redactor.redact(text)
        assert redactor.redact(once) == once
    assert "hunter2hunter2" not in registered.redact(text)


@pytest.mark.parametrize("text", [
    "10.0.0.1AKIAIOSFODNN7EXAMPLE",
    "4111111111111111eyJhbGciOi.eyJzdWIi.c2ln",
    "2001:db8::1https://u:hunter22@h/",
])
def test_a_secret_glued_to_a_card_or_address_is_masked(text):
    redactor = ValueRedactor()
    once = redactor.redact(text)
    assert redactor.redact(once) == once


@pytest.mark.parametrize("text", ["std::vector::push_back", "Foo::bar", "ruby Net::HTTP", "rust crate::module::f"])
def test_double_colon_paths_are_not_addresses(text):
    assert ValueRedactor().redact(text) == text


@pytest.mark.parametrize(("text", "expected"), [
    ("a-" * 20000 + " --password=hunter2", "a-" * 20000 + f" --password={R}"),
    ("a-" * 20000 + " https://u:pw@h/", "a-" * 20000 + f" https://u:{R}@h/"),
    ("a-" * 20000 + " ann@example.com", "a-" * 20000 + f" {R}"),
    ("2" * 20000, "2" * 20000),
    ("x" * 20000 + "=1 and a-b.c-d=2", "x" * 20000 + "=1 and a-b.c-d=2"),
])
def test_long_runs_are_read_once_and_still_masked(text, expected):
    """Patterns start only where a run of their characters starts (a start inside a run rescanned
    it: seconds for one 64 KiB value); what they mask is unchanged."""
    assert ValueRedactor().redact(text) == expected
