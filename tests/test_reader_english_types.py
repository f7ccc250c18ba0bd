"""English questions: a relative "who" asks nothing, and a Latin name that heads a Japanese compound
is no short answer on its own (made-up questions and lines)."""

from __future__ import annotations

import pytest

from assistant.normalize import normalize_query
from assistant.reader.query import typed
from assistant.reader.shape import heads_compound


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # The relative clause names someone; the question asks its own interrogative's kind.
        ("The member who studies coastal erosion works at which university?", "organization"),
        ("Smith, who visited the harbour office, serves in which post at the agency?", "other"),
        # An interrogative who, also after a preposition, still asks for a person.
        ("Who chairs the review board?", "person"),
        ("To whom did the mayor send the report?", "person"),
        # With nothing else asked, a relative who stays the question's kind (as before).
        ("Which member of the board, who joined in 2023, chairs it?", "person"),
    ],
)
def test_a_relative_who_does_not_type_an_english_question(question: str, expected: str) -> None:
    assert typed(normalize_query(question))[0] == expected


def test_a_latin_name_running_into_a_japanese_word_heads_a_compound() -> None:
    assert heads_compound("○北市で開かれたXY7気候大臣会合の成果文書", "XY7")
    assert not heads_compound("・主催：ABC、北市観光協会", "ABC")
    # One free occurrence is enough for the name to stand alone.
    assert not heads_compound("ABC運転開始式典を開催。ABCは北市にある。", "ABC")
