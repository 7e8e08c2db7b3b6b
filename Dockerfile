# Passerelle: one image for the web (gunicorn), the worker and beat (celery).
#
# The dependencies are installed from uv.lock (exact versions, checked against their hashes),
# the versions CI ran, in a build stage that compiles psycopg2 against libpq; the final image
# keeps the virtual environment and libpq, without the compiler and the headers.

# -- build: the locked dependencies in /opt/venv ----------------------------------------------
FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1

# gcc and libpq's headers (pg_config) to build psycopg2 from source.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev libpq-dev \
    && rm -rf /var/lib/apt/lists/*

# The uv version that pyproject.toml's [tool.uv] requires.
RUN pip install uv==0.13.9

WORKDIR /app
# Rebuilt only when the lock changes. `--locked` refuses a lock out of date with
# pyproject.toml; no development tools; the project's code is not installed (it runs from /app).
COPY pyproject.toml uv.lock ./
RUN uv sync --locked --no-install-project --no-editable

# -- the image ---------------------------------------------------------------------------------
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    PATH=/opt/venv/bin:$PATH \
    DJANGO_MEDIA_ROOT=/data/media

# libpq for psycopg2; WeasyPrint's system libraries and a font for the PDF reports; gettext to
# compile messages.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpq5 libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b fonts-dejavu-core gettext \
    && rm -rf /var/lib/apt/lists/*

COPY --from=build /opt/venv /opt/venv

WORKDIR /app
COPY . .
RUN if [ -d locale ]; then python manage.py compilemessages; fi \
    && DJANGO_DEBUG=false DJANGO_SECRET_KEY=collectstatic-at-build-time-only \
        python manage.py collectstatic --noinput

RUN useradd --create-home --uid 1000 passerelle \
    && mkdir -p /data/media \
    && chown -R passerelle:passerelle /data
USER passerelle

EXPOSE 8000
# WEB_CONCURRENCY sets the number of gunicorn workers.
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
