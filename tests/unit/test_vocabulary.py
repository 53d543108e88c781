"""The code lists: one module, pure data, codes that the database accepts, periods that fit together."""

from __future__ import annotations

import subprocess
import sys

from guichet import vocabulary
from guichet.models import Patient
from guichet.models.patients import Channel, RequestKind, Sex


def test_the_vocabulary_needs_neither_flask_nor_sqlalchemy():
    code = "import sys, guichet.vocabulary; print(sorted(m for m in ('flask', 'sqlalchemy', 'wtforms') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_the_codes_are_those_the_database_accepts():
    assert set(vocabulary.KIND_LABELS) == {k.value for k in RequestKind}
    assert set(vocabulary.CHANNEL_LABELS) == {c.value for c in Channel}
    assert set(vocabulary.SEXES) == {s.value for s in Sex}
    checks = {c.name: str(c.sqltext) for c in Patient.__table__.constraints if hasattr(c, "sqltext")}
    for column, codes in (("filled_by", vocabulary.FILLED_BY), ("contact", vocabulary.CONTACT_PREFERENCES)):
        check = next(text for name, text in checks.items() if str(name).endswith(column))
        assert all(f"'{code}'" in check for code in codes), check


def test_each_availability_period_has_a_label_and_hours_that_follow_each_other():
    assert list(vocabulary.SNP_PERIODS) == list(vocabulary.SNP_PERIOD_HOURS)
    hours = list(vocabulary.SNP_PERIOD_HOURS.values())
    assert all(0 <= start < end <= 24 for start, end in hours)
    assert all(a[1] == b[0] for a, b in zip(hours, hours[1:], strict=False))
    assert vocabulary.SNP_PERIOD_HOURS == {"morning": (8, 12), "afternoon": (12, 18), "evening": (18, 21)}


def test_labels_are_french_sentences_not_codes():
    for labels in (vocabulary.LANGUAGES, vocabulary.SNP_CATEGORIES, vocabulary.SNP_SINCE, vocabulary.SNP_DAYS,
                   vocabulary.SNP_PERIODS, vocabulary.SEXES, vocabulary.FILLED_BY, vocabulary.CONTACT_PREFERENCES,
                   vocabulary.KIND_LABELS, vocabulary.CHANNEL_LABELS, vocabulary.TAG_LABELS):
        assert all(label and label != code for code, label in labels.items())
