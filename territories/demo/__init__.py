"""The demo's pilot year, by concern: the school calendar, the costs and fundings, the
evaluation (journal, surveys) and the reports already built. ``manage.py seed_demo`` calls them;
the daily flow of meals is ``meals.demo``."""
