# Gateway + action server image (Python 3.11). Rasa runs from the official rasa/rasa image.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PYTHONPATH=/app
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY app app
COPY abuse abuse
COPY channels channels
COPY conversations conversations
COPY debtors debtors
COPY identity identity
COPY inbox inbox
COPY consent consent
COPY ledger ledger
COPY payments payments
COPY arrangements arrangements
COPY policies policies
COPY privacy privacy
COPY signals signals
COPY auth auth
COPY handoff handoff
COPY disputes disputes
COPY hardship hardship
COPY holds holds
COPY admin admin
COPY training training
COPY tone tone
COPY experiments experiments
COPY reminders reminders
COPY analytics analytics
COPY gdpr gdpr
COPY audit audit
COPY config config
COPY language language
COPY locales locales
COPY migrations migrations
COPY alembic.ini .
COPY bot bot
RUN useradd --create-home assistant
USER assistant
EXPOSE 8000 5055
CMD ["python", "-m", "uvicorn", "app.main:create_app", "--factory", "--host", "0.0.0.0", "--port", "8000"]
