# Passerelle: one image for the web (gunicorn), the worker and beat (celery).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_MEDIA_ROOT=/data/media

# WeasyPrint's system libraries and a font for the PDF reports; gettext to compile messages.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b fonts-dejavu-core gettext \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first, in their own layer: it is rebuilt only when pyproject.toml changes
# (with no source yet, `pip install .` installs the dependencies and an empty package).
COPY pyproject.toml ./
RUN pip install .

COPY . .
RUN pip install --no-deps . \
    && if [ -d locale ]; then python manage.py compilemessages; fi \
    && DJANGO_DEBUG=false DJANGO_SECRET_KEY=collectstatic-at-build-time-only \
        python manage.py collectstatic --noinput

RUN useradd --create-home --uid 1000 passerelle \
    && mkdir -p /data/media \
    && chown -R passerelle:passerelle /data
USER passerelle

EXPOSE 8000
# WEB_CONCURRENCY sets the number of gunicorn workers.
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
