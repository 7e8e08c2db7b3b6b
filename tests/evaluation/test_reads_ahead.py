"""Reads started ahead (``evaluation.selectors.ReadsAhead``): on PostgreSQL and outside a
transaction, each runs in a thread on a connection of its own, closed after the read; inside a
transaction it runs in the caller's thread, which sees what the transaction wrote. A report's
figures are the same either way."""

from __future__ import annotations

import datetime
import json
import threading

import pytest
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from evaluation import figures
from evaluation.selectors import ReadsAhead
from territories.models import Territory
from tests.conftest import needs_postgresql
from tests.evaluation.reporting import END, START, pilot, references
from tests.factories import DailyRollupFactory, TerritoryFactory

pytestmark = pytest.mark.django_db(transaction=True)


def postgresql_only() -> None:
    needs_postgresql("reads run ahead on PostgreSQL only (CI's database)")


def where_read() -> tuple[str, object, int]:
    """The reading thread, its connection and what that connection sees."""
    seen = Territory.objects.all_territories().count()
    return threading.current_thread().name, connections[DEFAULT_DB_ALIAS], seen


def test_a_read_ahead_runs_in_its_own_thread_and_closes_its_connection():
    postgresql_only()
    TerritoryFactory()
    with ReadsAhead() as ahead:
        read = ahead.start(where_read)
        name, own, seen = read()
    assert name.startswith("read-ahead")
    assert own is not connections[DEFAULT_DB_ALIAS] and own.connection is None  # closed once read
    assert seen == 1


def test_inside_a_transaction_a_read_runs_in_the_callers_thread_and_sees_its_writes():
    with transaction.atomic():
        TerritoryFactory()
        with ReadsAhead() as ahead:
            name, own, seen = ahead.start(where_read)()
    assert name == threading.current_thread().name
    assert own is connections[DEFAULT_DB_ALIAS] and seen == 1


def test_a_reports_figures_are_the_same_read_ahead_or_not():
    postgresql_only()
    references()
    plaine = pilot()
    DailyRollupFactory(  # dedicated meals, for the kitchens' production read ahead
        partnership=plaine.partnership, day=datetime.date(2025, 2, 4), batches=1, meals_produced_dedicated=80
    )
    period = {"territory_ids": [plaine.territory.pk], "start": START, "end": END}
    inline = figures.flow_figures(**period)
    with ReadsAhead() as ahead:
        assert ahead.threads
        read_ahead = figures.flow_figures(**period, ahead=ahead)
    assert json.dumps(read_ahead[0], sort_keys=True) == json.dumps(inline[0], sort_keys=True)
    assert read_ahead[3] == inline[3]  # the indicators' part, production included
    production = {indicator.code: indicator.value for indicator in read_ahead[3].production}
    assert any(production.values()), production
