"""The cite cross-validation harness scores verdicts as ``shiori eval`` does."""

from __future__ import annotations

from assistant.gold import GoldItem
from eval.cite_cv import Prepared, metrics, objective


def _item(expect: str) -> Prepared:
    lines = None if expect == "unsupported" else (1, 1)
    return Prepared(GoldItem("X", "cite", "文。", (), False, None if lines is None else "a.txt", lines, (), expect),
                    None, None, None)


def test_metrics_count_as_the_eval_does() -> None:
    items = [_item("supported"), _item("supported"), _item("contradicted"), _item("contradicted"),
             _item("unsupported")]
    verdicts = [("partial", True), ("strong", False), ("conflict", True), ("partial", True), ("none", False)]
    m = metrics(items, verdicts)
    # a supported sentence needs its first source right; a contradicted one is located only as a conflict
    assert m == {"supported": 0.5, "not_strong": 1.0, "located": 0.5, "unsupported": 1.0}
    assert objective(m)[0] == 0.5 / 0.9
