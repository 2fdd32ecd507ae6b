"""Understanding answers: plain meanings are taken, negations respected, guesses refused."""

from __future__ import annotations

import pytest

from app.flows.schema import Option
from app.flows.understanding import normalise, understand_digits, understand_text

STILL_NEEDED = [
    Option(key="1", words=["yes", "still need", "i do"], next="a"),
    Option(key="2", words=["no", "don't need", "not any more", "no longer"], next="b"),
]
CONDITION = [
    Option(key="1", words=["worse", "much worse"], next="a"),
    Option(key="2", words=["same", "about the same", "not worse", "no worse"], next="b"),
    Option(key="3", words=["better"], next="c"),
]


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("yes", "1"),
        ("Yes please", "1"),
        ("YEP!", "1"),
        ("yeah, I still need it", "1"),
        ("Yes I do.", "1"),
        ("no thanks", "2"),
        ("Nope", "2"),
        ("No, I don't need it any more", "2"),
        ("I\u2019m no longer waiting", "2"),
        ("1.", "1"),
        ("one", "1"),
        ("press two", "2"),
        ("Option 2", "2"),
    ],
)
def test_it_understands_common_ways_of_answering(text: str, key: str) -> None:
    understood = understand_text(text, STILL_NEEDED)
    assert understood.status == "match"
    assert understood.option is not None and understood.option.key == key


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("worse", "1"),
        ("It's got much worse", "1"),
        ("not worse", "2"),
        ("No worse than before", "2"),
        ("it's not any worse", "2"),
        ("about the same really", "2"),
        ("Better, thank you", "3"),
    ],
)
def test_a_negated_word_does_not_match_its_option(text: str, key: str) -> None:
    understood = understand_text(text, CONDITION)
    assert understood.option is not None and understood.option.key == key


def test_not_better_matches_nothing_rather_than_a_guess() -> None:
    assert understand_text("not better", CONDITION).status == "unrecognised"


def test_words_from_two_options_are_ambiguous() -> None:
    assert understand_text("yes, no, I don't know", STILL_NEEDED).status == "ambiguous"


def test_a_key_no_option_uses_is_unrecognised() -> None:
    assert understand_text("7", STILL_NEEDED).status == "unrecognised"
    assert understand_digits("7", STILL_NEEDED).status == "unrecognised"


def test_words_are_matched_whole_not_inside_other_words() -> None:
    assert understand_text("yesterday", STILL_NEEDED).status == "unrecognised"


def test_empty_text_is_no_input() -> None:
    assert understand_text("  ...  ", STILL_NEEDED).status == "no_input"
    assert understand_digits("", STILL_NEEDED).status == "no_input"


def test_keypad_input_must_be_exactly_one_key() -> None:
    assert understand_digits("2", STILL_NEEDED).option == STILL_NEEDED[1]
    assert understand_digits("12", STILL_NEEDED).status == "unrecognised"


def test_normalise_folds_case_punctuation_and_variants() -> None:
    assert normalise("  Yep!!  Thanks. ") == "yes thanks"
    assert normalise("I DON\u2019T") == "i don't"
