"""Nesting is bounded where every engine still compiles it: SQLite's parser gives up on deeper groups."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from omni.kit.errors import ValidationFailed
from omni.segments import compile as c
from omni.segments import repository, service
from omni.segments.definitions import MAX_DEPTH
from tests.segments.builders import NOW, shop
from tests.segments.test_algebra import LEAVES


def _wrap(tree: dict[str, Any], kind: str) -> dict[str, Any]:
    return {"not": tree} if kind == "not" else {kind: [tree, LEAVES[1]]}


@pytest.mark.parametrize("pattern", ["not", "all", "any", "mixed"])
def test_the_deepest_definition_allowed_runs_and_one_deeper_is_refused(
    session: Session, pattern: str
) -> None:
    # given the deepest nesting of this pattern that validation accepts
    shop(session)
    ctx = service.context(session, now=NOW)
    tree: dict[str, Any] = LEAVES[0]
    for level in range(MAX_DEPTH):
        tree = _wrap(tree, pattern if pattern != "mixed" else ("all", "not", "any")[level % 3])
    # then it compiles and runs on this engine
    repository.profile_ids(session, ctx, c.members(ctx, service.check(session, tree, ctx=ctx)))
    # and one more level is refused at save time, naming the rule
    with pytest.raises(ValidationFailed, match=f"nested at most {MAX_DEPTH} deep"):
        service.check(session, _wrap(tree, "all"), ctx=ctx)
