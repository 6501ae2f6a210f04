"""The cohort build with the control pool read from the store block by block (issue 15.1).

:func:`helpers.cohort.build.build_cohort` holds the whole persons x weeks matrix (18.5 GB on a
national extract). :func:`build_cohort_streaming` gives the same result (candidates, cohort,
attrition, balance: ``tests/test_cohort_streaming.py``) while holding whole only the rows of
the screened persons (the intervention group) and, after matching, of the matched cohort
(the follow-up flags); the control pool is evaluated one block of persons at a time
(:func:`helpers.cohort.eligibility.pool_candidates` on a :class:`Register` per block), so its
memory is set by the block size. :func:`store_sources` reads the blocks and the persons'
rows from the processed store (:func:`helpers.core.store.iter_blocks`,
:func:`helpers.core.store.load_weekly` with ``person_ids``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import pandas as pd

from helpers.cohort import build
from helpers.cohort.eligibility import active_rules, pool_candidates, read_screening
from helpers.cohort.register import Register, prepare_register, require_residence
from helpers.core import store
from helpers.core.codes import CodeBook
from helpers.core.progress import bar
from helpers.core.store import MonthlyEmployment, WeeklyStatus

#: Persons per block of the store read by the stage (50,000 x 1,000 weeks of int16 = 100 MB).
BLOCK_ROWS = 50_000

#: A block of the register: weekly codes and monthly employment of the same persons.
Block = tuple[WeeklyStatus, MonthlyEmployment | None]


def store_sources(study, *, first_week: int | None = None, block_rows: int = BLOCK_ROWS
                  ) -> tuple[Callable[[], Iterator[Block]], Callable[[Sequence[str]], Block], int]:
    """Readers of the processed store for :func:`build_cohort_streaming`.

    Parameters
    ----------
    study : Study
    first_week : int, optional
        First DREAM week read (:func:`helpers.cohort.build.first_week_needed`).
    block_rows : int
        Persons per block.

    Returns
    -------
    blocks : callable
        ``blocks()`` iterates over the store's (WeeklyStatus, MonthlyEmployment) blocks in store order.
    load : callable
        ``load(person_ids)`` gives the (WeeklyStatus, MonthlyEmployment) of just those persons.
    n_blocks : int
        Number of blocks (for the progress bar).
    """
    n_rows = store.n_persons(study)
    return (lambda: store.iter_blocks(study, block_rows, first_week=first_week, monthly=True),
            lambda ids: (store.load_weekly(study, first_week=first_week, person_ids=ids),
                         store.load_monthly(study, person_ids=ids)),
            -(-n_rows // block_rows))


class _Subsets:
    """Rows of ``persons`` and ``residence`` of a set of persons, without a pass of string look-ups per set."""

    def __init__(self, persons: pd.DataFrame, residence: pd.DataFrame) -> None:
        # persons' IDs are unique (prepare_register has checked them); a residence row of nobody in
        # persons (r_code -1) belongs to no subset
        self.persons, self.residence = persons, residence
        self.ids = pd.Index(persons["person_id"])
        self.r_code = store.rows_of(self.ids, residence["person_id"])
        self.r_year = pd.to_numeric(residence["year"], errors="coerce").notna().to_numpy()

    def of(self, person_ids) -> tuple[pd.DataFrame, pd.DataFrame, bool]:
        """Persons and residence rows of ``person_ids`` (original order), and whether any residence has a year."""
        flag = np.zeros(len(self.ids) + 1, dtype=bool)  # the last slot: r_code -1, never set
        k = self.ids.get_indexer(pd.Index(np.asarray(person_ids, dtype=object)))
        flag[k[k >= 0]] = True
        res_sel = flag[self.r_code]
        return (self.persons[flag[:-1]], self.residence[res_sel], bool((res_sel & self.r_year).any()))


def build_cohort_streaming(study, persons: pd.DataFrame, residence: pd.DataFrame, screening: pd.DataFrame, *,
                           blocks: Callable[[], Iterator[Block]], load: Callable[[Sequence[str]], Block],
                           n_blocks: int | None = None, codebook: CodeBook | None = None) -> build.CohortBuild:
    """:func:`helpers.cohort.build.build_cohort` with the weekly codes read per block of persons.

    Parameters
    ----------
    study : Study
    persons, residence, screening : DataFrame
        As for :func:`~helpers.cohort.build.build_cohort` (the whole tables; they are small).
    blocks : callable
        ``blocks()`` iterates over (WeeklyStatus, MonthlyEmployment or None) blocks of the
        register in store order (:func:`store_sources`); every block holds the same weeks.
    load : callable
        ``load(person_ids)`` gives the (WeeklyStatus, MonthlyEmployment or None) of those persons.
    n_blocks : int, optional
        Number of blocks (progress bar).
    codebook : CodeBook, optional

    Returns
    -------
    CohortBuild
        Identical to :func:`~helpers.cohort.build.build_cohort` on the whole matrix (the
        candidates' ``row`` is the store row), except that the intervention rows' internal
        ``row`` is a row of the participants' Register.

    Raises
    ------
    CohortError, helpers.cohort.matching.MatchingError
        As :func:`~helpers.cohort.build.build_cohort`.
    """
    t = time.perf_counter()
    ccfg = study.cohort
    codebook = codebook or CodeBook.default(study.data.category_overrides)
    scr = read_screening(screening)
    weekly_t, monthly_t = load(list(scr["person_id"].astype(str)))
    # the whole persons/residence tables: their columns and duplicates are checked here once
    reg_t = prepare_register(study, persons, residence, weekly_t, monthly_t, codebook, check_residence=False)
    subsets = _Subsets(persons, residence)
    timings = {"prepare": time.perf_counter() - t}
    rules = active_rules(ccfg)

    def register_of(weekly: WeeklyStatus, monthly: MonthlyEmployment | None) -> tuple[Register, bool]:
        p, r, linked = subsets.of(weekly.person_id)
        return prepare_register(study, p, r, weekly, monthly, codebook, check_residence=False), linked

    def pool_blocks() -> Iterator[tuple[Register, int]]:
        offset, linked_any = 0, False
        for weekly, monthly in bar(blocks(), total=n_blocks, desc="control pool", unit="block"):
            reg, linked = register_of(weekly, monthly)
            linked_any |= linked
            yield reg, offset
            offset += reg.n
        require_residence(ccfg, linked_any)

    def pool(index_weeks: np.ndarray, scr_: pd.DataFrame, log) -> tuple[pd.DataFrame, int]:
        return pool_candidates(pool_blocks(), scr_, index_weeks, ccfg, rules, log,
                               block_pairs=build.CANDIDATE_BLOCK_PAIRS)

    def follow_up_register(person_ids) -> Register:
        return register_of(*load(list(person_ids)))[0]

    return build.assemble_cohort(study, reg_t, screening, pool=pool, follow_up_register=follow_up_register,
                                 timings=timings)
