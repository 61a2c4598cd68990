# Gateway, inbox worker and action server image (Python 3.11). The Rasa services run the official
# rasa/rasa image; this image carries Rasa too, in its own Python 3.10 venv (/opt/rasa, as
# .venv-rasa on one machine), because admin retraining runs `rasa train` and the held-out
# evaluation next to the gateway (backoffice/training/jobs.py, RASA_BIN) and writes the models
# into the volume every Rasa reads (docker-compose.yml).

# Rasa 3.6 needs Python 3.10: installed in a stage of its own, then its interpreter and venv are
# copied over. Both stages are Debian bookworm, so the libraries the interpreter links are there.
FROM python:3.10-slim-bookworm AS rasa
RUN apt-get update && apt-get install -y --no-install-recommends build-essential && rm -rf /var/lib/apt/lists/*
COPY requirements-rasa.txt .
# python3.10 by name: the venv's links must name it, not `python` (3.11 in the final image).
RUN /usr/local/bin/python3.10 -m venv /opt/rasa \
    && /opt/rasa/bin/pip install --no-cache-dir --upgrade pip wheel \
    && /opt/rasa/bin/pip install --no-cache-dir -r requirements-rasa.txt

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
# Python 3.10 beside 3.11 (every file of it is versioned: nothing of 3.11 is replaced), then Rasa.
COPY --from=rasa /usr/local/bin/python3.10 /usr/local/bin/python3.10
COPY --from=rasa /usr/local/lib/python3.10 /usr/local/lib/python3.10
COPY --from=rasa /usr/local/lib/libpython3.10.so.1.0 /usr/local/lib/libpython3.10.so.1.0
COPY --from=rasa /opt/rasa /opt/rasa
RUN apt-get update && apt-get install -y --no-install-recommends libstdc++6 libgomp1 && rm -rf /var/lib/apt/lists/* \
    && ldconfig && RASA_TELEMETRY_ENABLED=false /opt/rasa/bin/rasa --version
ENV RASA_BIN=/opt/rasa/bin/rasa RASA_TELEMETRY_ENABLED=false
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY pyproject.toml README.md ./
COPY core core
COPY app app
COPY engine engine
COPY people people
COPY money money
COPY backoffice backoffice
COPY bot bot
COPY channels channels
COPY handoff handoff
COPY payments payments
COPY locales locales
COPY config config
COPY migrations migrations
COPY alembic.ini .
# The project itself, editable: the code stays in /app next to config/ and migrations/.
RUN pip install --no-cache-dir --no-deps -e .
# var/ (the application's files, the trained models Rasa starts from) belongs to the app user: a
# named volume mounted there starts as a copy of it, ownership included (docker-compose.yml).
RUN useradd --create-home assistant && mkdir -p /app/var/models && chown -R assistant:assistant /app/var
USER assistant
EXPOSE 8000 5055
CMD ["python", "-m", "uvicorn", "app.main:create_app", "--factory", "--host", "0.0.0.0", "--port", "8000"]
