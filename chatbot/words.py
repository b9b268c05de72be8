"""Words too common to tell two questions or two passages apart: one list for every matcher.

The answer cache's wording guard, citation attribution and evidence selection all
compare content words; they share this list so a word is significant everywhere or
nowhere.
"""

from __future__ import annotations

STOP_WORDS = frozenset(
    "the a an and or of to in on for with by is are was were be been it its this that these those "
    "as at from your you we our they their there can may must will would should not no yes do does "
    "did have has had per each any all more most less than then also which who what when where how "
    "based provided context documents document answer question about into over under up i me my "
    "get got if so just please tell know want need many much am us some doing being here whom "
    "whose why he she him her his hers them theirs ours yours myself yourself exactly actually "
    "currently really kindly still anyone anybody someone somebody something anything".split()
)
