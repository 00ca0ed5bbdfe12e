"""Pin the public names of ``toolwire.eval`` (add a name here when you add it to ``__all__``)."""

import toolwire.eval

EXPECTED = ["Verdict", "ast_check", "standardize"]


def test_all_is_pinned() -> None:
    assert sorted(toolwire.eval.__all__) == sorted(EXPECTED)


def test_every_exported_name_exists_and_is_documented() -> None:
    for name in toolwire.eval.__all__:
        member = getattr(toolwire.eval, name)
        assert member.__module__.startswith("toolwire.eval"), name
        assert member.__doc__, name
