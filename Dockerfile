# Gateway + action server image (Python 3.11). Rasa runs from the official rasa/rasa image.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
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
